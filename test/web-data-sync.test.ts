import 'fake-indexeddb/auto';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ChatStore, openAccountDb, type DataChange, type Message, type ParleyDb } from '../packages/web/src/data/index.js';
import { NS, XmppClient, x, type WebSocketConstructor, type XElement } from '../packages/web/src/xmpp/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { delay, withTimeout } from './support/raw.js';

// The data layer against a real server: the real XmppClient over the `ws` package, and
// fake-indexeddb with one IDBFactory per device, as two browsers would have.
const PASSWORD = 'web-data-password';
const NS_INBOX = 'erlang-solutions.com:xmpp:inbox:0';

let server: TestServer;
const running: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await startTestServer();
  for (const user of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi']) await server.createAccount(user, PASSWORD);
});

afterEach(async () => {
  for (const stop of running.splice(0).reverse()) await stop();
});

afterAll(async () => {
  await server?.stop();
});

function jid(user: string): string {
  return `${user}@${server.domain}`;
}

function connection(user: string, resource: string): XmppClient {
  const client = new XmppClient({
    service: `ws://127.0.0.1:${server.httpPort}/xmpp-websocket`,
    jid: jid(user),
    password: PASSWORD,
    resource,
    webSocket: WebSocket as unknown as WebSocketConstructor,
    reconnect: { baseMs: 100, capMs: 400 },
  });
  running.push(() => client.stop());
  return client;
}

/** One browser profile of a user: its own IndexedDB, a connection and a store. */
interface Device {
  user: string;
  resource: string;
  indexedDB: IDBFactory;
  db: ParleyDb;
  client: XmppClient;
  store: ChatStore;
  changes: DataChange[];
  iqs: XElement[];
}

function device(user: string, resource: string, indexedDB = new IDBFactory()): Device {
  const db = openAccountDb(jid(user), { indexedDB, IDBKeyRange });
  const client = connection(user, resource);
  const iqs: XElement[] = [];
  const iq = client.iq.bind(client);
  client.iq = (request, timeoutMs) => {
    iqs.push(request);
    return iq(request, timeoutMs);
  };
  const store = new ChatStore(db, client, { shareChanges: false });
  const changes: DataChange[] = [];
  store.subscribe((change) => changes.push(change));
  running.push(async () => {
    store.close();
    db.close();
  });
  return { user, resource, indexedDB, db, client, store, changes, iqs };
}

/** Closes a device as a closed tab would, and opens it again on the same IndexedDB. */
async function reload(old: Device): Promise<Device> {
  old.store.close();
  await old.client.stop();
  old.db.close();
  return device(old.user, old.resource, old.indexedDB);
}

/** Logs in, sends initial presence (the UI's job in the client) and syncs. */
async function online(dev: Device, presence = true): Promise<Device> {
  await withTimeout(dev.client.start(), 10_000, `${dev.user} login`);
  if (presence) dev.client.send(x('presence', NS.CLIENT));
  await withTimeout(dev.store.startupSync(), 10_000, `${dev.user} start-up sync`);
  return dev;
}

async function until<T>(read: () => Promise<T>, check: (value: T) => boolean, what: string, ms = 8000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await delay(25);
  }
}

function chat(to: string, body: string, id = `${body}-${Math.random().toString(36).slice(2)}`): XElement {
  return x('message', NS.CLIENT, { to, type: 'chat', id }, x('body', NS.CLIENT, {}, body), x('origin-id', 'urn:xmpp:sid:0', { id }));
}

function bodies(messages: Message[]): string[] {
  return messages.map((message) => message.body);
}

function mamQueries(dev: Device): XElement[] {
  return dev.iqs.map((iq) => iq.getChild('query', 'urn:xmpp:mam:2')).filter((query): query is XElement => query !== undefined);
}

function formField(query: XElement, name: string): string | undefined {
  return query.getChild('x', 'jabber:x:data')?.getChildren('field').find((field) => field.attr('var') === name)?.getChildText('value');
}

describe('start-up sync', () => {
  it('catches up after a disconnect', async () => {
    const bob = connection('bob', 'sender');
    await bob.start();
    let alice = await online(device('alice', 'web'));
    await alice.store.openConversation(jid('bob'));

    await bob.sendAcked(chat(jid('alice'), 'before the disconnect'));
    const [first] = await until(() => alice.store.newestPage(jid('bob'), 10), (page) => page.length === 1, 'the live message');
    await alice.client.stop();

    for (let i = 1; i <= 5; i++) await bob.sendAcked(chat(jid('alice'), `missed ${i}`));
    alice = await reload(alice);
    const stalePushes: XElement[] = [];
    alice.client.on('stanza', (stanza) => {
      const result = stanza.getChild('result', NS_INBOX);
      if (result && result.attr('queryid') === undefined && stanza.getChild('delay', 'urn:xmpp:delay')) stalePushes.push(stanza);
    });
    await online(alice);
    await until(async () => (await alice.store.newestPage(jid('bob'), 10)).length, (count) => count === 6, 'the offline messages');

    const conversation = await alice.store.conversation(jid('bob'));
    // Inbox pushes carry <no-store/>, so none of the first session's pushes waits in offline storage.
    expect(stalePushes).toHaveLength(0);
    expect(conversation?.unread).toBe(6);
    expect(conversation?.preview).toBe('missed 5');

    await alice.store.openConversation(jid('bob'));
    const page = await alice.store.newestPage(jid('bob'), 50);
    expect(bodies(page)).toEqual(['before the disconnect', 'missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5']);
    const catchUp = mamQueries(alice).at(-1)!;
    expect(formField(catchUp, 'after-id')).toBe(first?.stanzaId);
    expect(page.every((message) => message.stanzaId !== undefined)).toBe(true);
  });

  it('fetches only missing older pages', async () => {
    const bob = connection('bob', 'history');
    await bob.start();
    await Promise.all(Array.from({ length: 130 }, (_, i) => bob.sendAcked(chat(jid('carol'), `h${i + 1}`))));

    // Without presence, so that offline delivery does not bring the history live.
    const carol = await online(device('carol', 'web'), false);
    expect((await carol.store.conversation(jid('bob')))?.unread).toBe(130);
    await carol.store.openConversation(jid('bob'));

    const newest = await carol.store.newestPage(jid('bob'), 50);
    expect(bodies(newest)).toEqual(Array.from({ length: 50 }, (_, i) => `h${i + 81}`));
    const queriesBefore = mamQueries(carol).length;

    const older = await carol.store.olderPage(jid('bob'), newest[0]!, 50);
    expect(bodies(older)).toEqual(Array.from({ length: 50 }, (_, i) => `h${i + 31}`));
    expect(mamQueries(carol)).toHaveLength(queriesBefore);

    const oldest = await carol.store.olderPage(jid('bob'), older[0]!, 50);
    expect(bodies(oldest)).toEqual(Array.from({ length: 30 }, (_, i) => `h${i + 1}`));
    const fetch = mamQueries(carol).at(-1)!;
    expect(formField(fetch, 'before-id')).toBe(older[0]?.stanzaId);
    expect((await carol.store.conversation(jid('bob')))?.reachedBeginning).toBe(true);

    expect(await carol.store.olderPage(jid('bob'), oldest[0]!, 50)).toEqual([]);
    expect(mamQueries(carol)).toHaveLength(queriesBefore + 1);
  });
});

describe('the outbox', () => {
  it('sends an offline message once', async () => {
    const erin = connection('erin', 'receiver');
    const received: string[] = [];
    erin.on('stanza', (stanza) => {
      const body = stanza.name === 'message' ? stanza.getChildText('body') : undefined;
      if (body !== undefined) received.push(body);
    });
    await erin.start();
    erin.send(x('presence', NS.CLIENT));

    let dave = device('dave', 'web');
    const message = await dave.store.send(jid('erin'), 'typed while offline', 'chat');
    expect(message.state).toBe('sending');
    dave = await reload(dave);
    expect(await dave.store.outboxSize()).toBe(1);

    await online(dave);
    await until(() => dave.store.newestPage(jid('erin'), 5), (page) => page[0]?.state !== 'sending', 'the acknowledgement');
    await until(async () => received.length, (count) => count >= 1, 'the delivery');
    expect(await dave.store.outboxSize()).toBe(0);

    // A new session after the acknowledgement re-sends nothing.
    await dave.client.stop();
    await online(dave);
    await delay(500);
    expect(received).toEqual(['typed while offline']);
    const [stored] = await dave.store.newestPage(jid('erin'), 5);
    expect(stored?.originId).toBe(message.originId);
  });
});

describe('read state', () => {
  it('reaches the sender', async () => {
    const frank = await online(device('frank', 'web'));
    const grace = await online(device('grace', 'web'));
    await grace.store.openConversation(jid('frank'));

    const sent = await frank.store.send(jid('grace'), 'did you read this?', 'chat');
    const state = (): Promise<string | undefined> => frank.db.messages.get(sent.key).then((row) => row?.state);
    await until(state, (value) => value === 'delivered', 'the receipt');

    const [received] = await until(() => grace.store.newestPage(jid('frank'), 5), (page) => page[0]?.stanzaId !== undefined, 'the message at grace');
    await grace.store.markRead(jid('frank'), received!.stanzaId!);
    await until(state, (value) => value === 'read', 'the displayed marker');
    expect(frank.changes).toContainEqual({ type: 'messages', conversation: jid('grace'), keys: [sent.key] });
  });
});

describe('unread counts', () => {
  it('agree on two devices of one user', async () => {
    const phone = await online(device('heidi', 'phone'));
    const laptop = await online(device('heidi', 'laptop'));
    const alice = connection('alice', 'unread');
    await alice.start();

    for (let i = 1; i <= 3; i++) await alice.sendAcked(chat(jid('heidi'), `unread ${i}`));
    const unread = (dev: Device) => () => dev.store.conversation(jid('alice')).then((row) => row?.unread);
    await until(unread(phone), (count) => count === 3, 'three unread on the phone');
    await until(unread(laptop), (count) => count === 3, 'three unread on the laptop');

    const [last] = await until(() => phone.store.newestPage(jid('alice'), 1), (page) => page[0]?.body === 'unread 3' && page[0].stanzaId !== undefined, 'the last message');
    await phone.store.markRead(jid('alice'), last!.stanzaId!);
    await until(unread(laptop), (count) => count === 0, 'the read position on the laptop');
    await until(unread(phone), (count) => count === 0, 'the read position on the phone');
    expect((await laptop.store.conversation(jid('alice')))?.readStanzaId).toBe(last!.stanzaId);
  });
});

describe('group chat', () => {
  const MUC = 'http://jabber.org/protocol/muc';

  async function join(dev: Device, room: string, nick: string): Promise<void> {
    await dev.store.setRoomNick(room, nick);
    const joined = new Promise<void>((resolve) => {
      const off = dev.client.on('stanza', (stanza) => {
        if (stanza.name === 'presence' && stanza.attr('from') === `${room}/${nick}`) {
          off();
          resolve();
        }
      });
    });
    dev.client.send(x('presence', NS.CLIENT, { to: `${room}/${nick}` }, x('x', MUC, {}, x('history', MUC, { maxstanzas: 0 }))));
    await withTimeout(joined, 5000, `${nick} joining`);
  }

  it('stores reflections once, with receipts', async () => {
    const room = `web-data-team@conference.${server.domain}`;
    const frank = await online(device('frank', 'groups'));
    const grace = await online(device('grace', 'groups'));
    await join(frank, room, 'frank');
    await frank.client.iq(x('iq', NS.CLIENT, { type: 'set', to: room }, x('query', `${MUC}#owner`, {}, x('x', 'jabber:x:data', { type: 'submit' }))));
    await frank.client.iq(x('iq', NS.CLIENT, { type: 'set', to: room }, x('query', `${MUC}#admin`, {}, x('item', `${MUC}#admin`, { affiliation: 'member', jid: jid('grace') }))));
    await join(grace, room, 'grace');

    const sent = await frank.store.send(room, '今天的会议改到三点', 'groupchat');
    const [own] = await until(() => frank.store.newestPage(room, 5), (page) => page[0]?.stanzaId !== undefined && page[0].state === 'sent', 'the reflection');
    expect(await frank.store.newestPage(room, 5)).toHaveLength(1);
    expect(own?.key).toBe(sent.key);
    expect(own?.direction).toBe('out');

    const [received] = await until(() => grace.store.newestPage(room, 5), (page) => page[0]?.stanzaId === own?.stanzaId, 'the message at grace');
    expect(received?.direction).toBe('in');
    expect(received?.from).toBe('frank');
    expect((await grace.store.search('会议', { conversation: room })).messages.map((m) => m.stanzaId)).toEqual([own?.stanzaId]);

    const before = await frank.store.groupReceipts(room, own!.stanzaId!);
    expect(before.unread).toEqual([jid('grace')]);
    await grace.store.markRead(room, received!.stanzaId!);
    const after = await until(() => frank.store.groupReceipts(room, own!.stanzaId!), (record) => record.read.length === 1, 'the group receipt');
    expect(after).toMatchObject({ read: [jid('grace')], unread: [] });
    expect((await frank.db.messages.get(sent.key))?.state).toBe('read');
  });
});

describe('server search', () => {
  it('merges server hits without storing them', async () => {
    const bob = connection('bob', 'search');
    await bob.start();
    await bob.sendAcked(chat(jid('dave'), 'quarterly budget review moved'));
    const dave = await online(device('dave', 'search', new IDBFactory()), false);

    const local = await dave.store.search('budget');
    expect(local.messages).toEqual([]);
    const merged = await dave.store.search('budget', { server: true });
    expect(merged.messages.map((m) => [m.conversation, m.body])).toEqual([[jid('bob'), 'quarterly budget review moved']]);
    expect(await dave.db.messages.count()).toBe(0);
  });
});

describe('a lost session', () => {
  // Runs last in this file: it restarts the shared server.
  it('re-sends the outbox once after a restart', async () => {
    const dave = await online(device('dave', 'restart'));
    const reconnected = new Promise<{ resumed: boolean }>((resolve) => dave.client.on('online', resolve));

    await server.restart();
    const message = await dave.store.send(jid('erin'), 'across a restart', 'chat');
    expect(await withTimeout(reconnected, 15_000, 'the reconnection')).toEqual({ resumed: false });
    await until(() => dave.db.messages.get(message.key), (row) => row?.state === 'sent', 'the acknowledgement', 15_000);
    expect(await dave.store.outboxSize()).toBe(0);

    const erin = await online(device('erin', 'restart-check'), false);
    await erin.store.openConversation(jid('dave'));
    const history = await erin.store.newestPage(jid('dave'), 50);
    expect(history.filter((row) => row.body === 'across a restart')).toHaveLength(1);
  }, 40_000);
});
