import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { createPinia, setActivePinia } from 'pinia';
import { NS, XmppClient, x, type WebSocketConstructor, type XElement } from '../packages/web/src/xmpp/index.js';
import { ChatStore, openAccountDb, accountDbName } from '../packages/web/src/data/index.js';
import { useConnector, useConversations, useDirectory, useMessages, useRooms, useSession, PAGE_SIZE } from '../packages/web/src/stores/index.js';
import { upsertAccount } from '../packages/server/src/provisioning/accounts-service.js';
import type { Connector } from '../packages/web/src/stores/connector.js';
import { startTestServer, type TestServer } from './support/server.js';
import { delay } from './support/raw.js';

// The Pinia stores over the real connection and data layer against a real server. The `ws`
// package replaces the browser's WebSocket, and fake-indexeddb replaces IndexedDB.
const PASSWORD = 'web-stores-password';
const WAIT_MS = 10_000;

let server: TestServer;
const peers: XmppClient[] = [];

const nodeConnector: Connector = (request) => {
  const client = new XmppClient({ ...request, webSocket: WebSocket as unknown as WebSocketConstructor, reconnect: { baseMs: 100, capMs: 400 } });
  return {
    client,
    openData() {
      const db = openAccountDb(request.jid);
      return { db, chat: new ChatStore(db, client) };
    },
    discard: () => undefined,
  };
};

beforeAll(async () => {
  server = await startTestServer();
  for (const user of ['alice', 'bob', 'carol']) await server.createAccount(user, PASSWORD);
  setActivePinia(createPinia());
  useConnector(nodeConnector);
});

afterAll(async () => {
  await useSession().signOut(true);
  await Promise.all(peers.map((peer) => peer.stop()));
  await server?.stop();
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(25);
  }
}

async function peer(user: string): Promise<XmppClient> {
  const client = new XmppClient({ service: serviceFor(), jid: `${user}@${server.domain}`, password: PASSWORD, webSocket: WebSocket as unknown as WebSocketConstructor });
  peers.push(client);
  await client.start();
  client.send(x('presence', NS.CLIENT));
  return client;
}

function serviceFor(): string {
  return `ws://127.0.0.1:${server.httpPort}/xmpp-websocket`;
}

function chat(to: string, body: string): XElement {
  return x('message', NS.CLIENT, { to, type: 'chat', id: `m-${body}` }, x('body', NS.CLIENT, {}, body), x('markable', 'urn:xmpp:chat-markers:0'));
}

function bodies(client: XmppClient): string[] {
  const seen: string[] = [];
  client.on('stanza', (stanza) => {
    const body = stanza.name === 'message' ? stanza.getChildText('body') : undefined;
    if (body !== undefined) seen.push(body);
  });
  return seen;
}

describe('web stores', () => {
  const alice = () => `alice@${server.domain}`;
  const bob = () => `bob@${server.domain}`;

  it('reports a wrong password', async () => {
    const session = useSession();
    expect(await session.signIn(serviceFor(), alice(), 'wrong-password')).toBe(false);
    expect(session.phase).toBe('signed-out');
    expect(session.error?.key).toBe('signIn.failed');
  });

  it('rejects an address that is not a bare JID', async () => {
    const session = useSession();
    // A bare user name gets the served domain; an address with an empty domain stays invalid.
    expect(await session.signIn(serviceFor(), 'alice@', PASSWORD)).toBe(false);
    expect(session.error?.key).toBe('signIn.invalidJid');
  });

  it('signs in and lists an incoming conversation with its unread count', async () => {
    const session = useSession();
    expect(await session.signIn(serviceFor(), alice(), PASSWORD)).toBe(true);
    expect(session.phase).toBe('signed-in');
    expect(session.status).toBe('online');

    const bobClient = await peer('bob');
    bobClient.send(chat(alice(), 'first from bob'));

    const conversations = useConversations();
    await until(() => conversations.items.some((item) => item.jid === bob() && item.unread === 1), 'the unread conversation');
    expect(conversations.items.find((item) => item.jid === bob())?.preview).toBe('first from bob');
    expect(conversations.totalUnread).toBe(1);
  });

  it('opens the conversation, marks it read and sends a reply', async () => {
    const messages = useMessages();
    const conversations = useConversations();
    const bobClient = peers[0]!;
    const received = bodies(bobClient);

    await messages.open(bob(), 'chat');
    expect(messages.items.map((message) => message.body)).toEqual(['first from bob']);
    await until(() => conversations.items.find((item) => item.jid === bob())?.unread === 0, 'the read conversation');

    await messages.send('reply from alice');
    await until(() => received.includes('reply from alice'), 'the reply at bob');
    await until(() => messages.items.some((message) => message.body === 'reply from alice' && message.state !== 'sending'), 'the sent state');
    expect(messages.items.map((message) => message.direction)).toEqual(['in', 'out']);
    messages.close();
  });

  it('pages older history in a bounded window', async () => {
    const carolClient = await peer('carol');
    const carol = `carol@${server.domain}`;
    const total = PAGE_SIZE + 20;
    for (let i = 0; i < total; i++) carolClient.send(chat(alice(), `carol ${String(i).padStart(3, '0')}`));

    const conversations = useConversations();
    await until(() => conversations.items.find((item) => item.jid === carol)?.preview === `carol ${String(total - 1).padStart(3, '0')}`, 'all of carol’s messages');

    const messages = useMessages();
    await messages.open(carol, 'chat');
    expect(messages.items).toHaveLength(PAGE_SIZE);
    expect(messages.items[PAGE_SIZE - 1]?.body).toBe(`carol ${String(total - 1).padStart(3, '0')}`);

    for (let page = 0; page < 5 && !messages.reachedBeginning; page++) await messages.loadOlder();
    expect(messages.reachedBeginning).toBe(true);
    expect(messages.items).toHaveLength(total);
    expect(messages.items[0]?.body).toBe('carol 000');
    const keys = messages.items.map((message) => message.key);
    expect([...keys].sort()).toEqual(keys);
    messages.close();
  });

  it('creates a group with a member and lists its members', async () => {
    const bobClient = peers[0]!;
    const invitations: string[] = [];
    bobClient.on('stanza', (stanza) => {
      const invite = stanza.name === 'message' ? stanza.getChild('x', 'jabber:x:conference') : undefined;
      if (invite) invitations.push(invite.attr('jid') ?? '');
    });

    const rooms = useRooms();
    const room = await rooms.create('Project Phoenix', [bob()]);
    expect(room).toMatch(/^project-phoenix-[a-z0-9]+@conference\./);
    await until(() => invitations.includes(room), 'the invitation at bob');

    const members = await rooms.loadMembers(room);
    expect(members).toEqual(expect.arrayContaining([
      expect.objectContaining({ jid: alice(), affiliation: 'owner' }),
      expect.objectContaining({ jid: bob(), affiliation: 'member' }),
    ]));
    expect(rooms.rooms[room]?.joined).toBe(true);
  });

  it('finds a colleague in the directory by pinyin initials', async () => {
    await upsertAccount(server.server, { username: 'zhangsan', password: 'pw-zhangsan', displayName: '张三', email: 'zhangsan@corp.example', title: '工程师', department: 'rd', departmentName: '研发部' });
    const directory = useDirectory();
    expect(await directory.discover()).toBe(true);

    await directory.search('zs');
    const found = directory.results.find((entry) => entry.jid === `zhangsan@${server.domain}`);
    expect(found?.name).toBe('张三');

    await directory.search('zhangsan');
    expect(directory.results.map((entry) => entry.jid)).toContain(`zhangsan@${server.domain}`);

    // The box promises department search: the department's name and its pinyin find its people.
    await directory.search('研发');
    expect(directory.results.map((entry) => entry.jid)).toContain(`zhangsan@${server.domain}`);
    await directory.search('yanfa');
    expect(directory.results.map((entry) => entry.jid)).toContain(`zhangsan@${server.domain}`);
  });

  it('signs out and forgets the local data when asked', async () => {
    const session = useSession();
    await session.signOut(true);
    expect(session.phase).toBe('signed-out');
    expect(useConversations().items).toEqual([]);
    const names = (await indexedDB.databases()).map((db) => db.name);
    expect(names).not.toContain(accountDbName(alice()));
  });
});
