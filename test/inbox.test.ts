/**
 * The inbox over real sockets: exact unread counts (each counting rule on its own), read
 * positions shared by several devices, pushes, paging, entry flags, groups with joined and
 * absent members, and persistence across a restart.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, readStanzaErrorCondition, x } from '@parley/xmpp';
import { JID } from '@parley/xmpp';
import { type TestServer, startTestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { type InboxItem, NS_INBOX, NS_PARLEY_INBOX, conversationIq, entryOf, isPush, nextPush, property, queryInbox } from './support/inbox.js';
import { queryArchive } from './support/mam.js';
import { NS_MUC_OWNER, adminSetOk, createRoom, enterSeen, roomJid, say } from './support/muc.js';

const PASSWORD = 'inbox secret';
const DOMAIN = 'example.test';
const NS_CARBONS = 'urn:xmpp:carbons:2';
const QUIET_MS = 300;

let server: TestServer;
let clients: TestClient[] = [];
let userCounter = 0;
let roomCounter = 0;

beforeAll(async () => {
  server = await startTestServer({ sessions: { stanzas_per_second: 100_000, stanza_burst: 100_000 } });
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
});

afterAll(async () => {
  await server.stop();
});

/** Creates fresh accounts for one test and returns their usernames, in the order of `names`. */
async function accounts<const T extends string[]>(...names: T): Promise<{ [K in keyof T]: string }> {
  userCounter++;
  const usernames = names.map((name) => `${name}${userCounter}`);
  for (const username of usernames) await server.createAccount(username, PASSWORD);
  return usernames as { [K in keyof T]: string };
}

function bare(username: string): string {
  return `${username}@${DOMAIN}`;
}

/** Connects `username/resource` with initial presence; `carbons` enables XEP-0280. */
async function connect(username: string, resource = 'desktop', options: { carbons?: boolean } = {}): Promise<TestClient> {
  const client = await TestClient.connect(server, { username, password: PASSWORD, transport: 'plain', resource, presence: true });
  clients.push(client);
  if (options.carbons) await client.iq(x('iq', NS.CLIENT, { type: 'set' }, x('enable', NS_CARBONS)));
  return client;
}

function chat(to: string, body: string, id: string, ...extra: Element[]): Element {
  return x('message', NS.CLIENT, { type: 'chat', to, id }, x('body', NS.CLIENT, {}, body), x('origin-id', NS.STANZA_ID, { id: `origin-${id}` }), ...extra);
}

/** Sends chat messages and waits until the server handled them, because the server replies to a ping after every earlier stanza. */
async function send(client: TestClient, to: string, ...bodies: string[]): Promise<void> {
  for (const body of bodies) client.send(chat(to, body, body));
  await client.ping();
}

/** Waits until `client` received the chat message with `body`, and returns it. */
function received(client: TestClient, body: string): Promise<Element> {
  return client.next((el) => el.name === 'message' && el.getChildText('body', NS.CLIENT) === body, 5000);
}

/** Returns the stanza id that the archive of `archive` (a bare JID) gave `message`. */
function stanzaIdIn(message: Element, archive: string): string {
  const id = message
    .getChildren('stanza-id', NS.STANZA_ID)
    .find((el) => el.attr('by') === archive)
    ?.attr('id');
  if (id === undefined) throw new Error(`no stanza-id by ${archive} in ${message.toString()}`);
  return id;
}

function markRead(client: TestClient, jid: string): Promise<Element> {
  return conversationIq(client, 'set', jid, property('read', 'true'));
}

function errorOf(reply: Element): string | undefined {
  const error = reply.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

describe('inbox counting rules', () => {
  it('never counts own messages', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    await send(a, bare(bob), 'one', 'two');
    const own = await entryOf(a, bare(bob));
    expect(own.unread).toBe(0);
    expect(own.body).toBe('two');

    const b = await connect(bob);
    expect((await entryOf(b, bare(alice))).unread).toBe(2);
  });

  it('counts a carbon and an archive replay once', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    const desktop = await connect(bob, 'desktop', { carbons: true });
    const phone = await connect(bob, 'phone', { carbons: true });
    const copy = phone.next((el) => el.getChild('received', NS_CARBONS) !== undefined, 5000);
    a.send(chat(`${bare(bob)}/desktop`, 'hello', 'hello'));
    await received(desktop, 'hello');
    await copy;
    await a.ping();

    await queryArchive(phone, {});
    await queryArchive(desktop, {});
    expect((await entryOf(desktop, bare(alice))).unread).toBe(1);
    expect((await entryOf(phone, bare(alice))).unread).toBe(1);
  });

  it('never counts a message older than the read position', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    const b = await connect(bob);
    const first = received(b, 'first');
    await send(a, bare(bob), 'first', 'second');
    const firstId = stanzaIdIn(await first, bare(bob));
    expect((await markRead(b, bare(alice))).attr('type')).toBe('result');

    // A client reporting an older position (a late marker, an old device) moves nothing back.
    await server.server.hooks.fire('read/position', { owner: JID.parse(bare(bob)), conversation: JID.parse(bare(alice)), stanzaId: firstId, source: 'marker' });
    const entry = await entryOf(b, bare(alice));
    expect(entry.unread).toBe(0);
    expect(entry.readId).toBe(entry.lastId);

    await send(a, bare(bob), 'third');
    expect((await entryOf(b, bare(alice))).unread).toBe(1);
  });

  it('never goes negative', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    const b = await connect(bob);
    await send(a, bare(bob), 'only');
    await markRead(b, bare(alice));
    await markRead(b, bare(alice));
    // Retracting a message already read removes nothing more.
    a.send(x('message', NS.CLIENT, { type: 'chat', to: bare(bob), id: 'undo' }, x('retract', NS.RETRACT, { id: 'origin-only' }), x('store', NS.HINTS)));
    await a.ping();
    const entry = await entryOf(b, bare(alice));
    expect(entry.unread).toBe(0);
    expect(entry.read).toBe('true');
  });

  it('does not count corrections', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    await send(a, bare(bob), 'helo');
    a.send(chat(bare(bob), 'hello', 'fix', x('replace', NS.CORRECT, { id: 'helo' })));
    await a.ping();

    const b = await connect(bob);
    const entry = await entryOf(b, bare(alice));
    expect(entry.unread).toBe(1);
    expect(entry.body).toBe('hello');
  });

  it('drops one unread message on a retraction', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    await send(a, bare(bob), 'keep', 'oops');
    a.send(
      x(
        'message',
        NS.CLIENT,
        { type: 'chat', to: bare(bob), id: 'undo' },
        x('retract', NS.RETRACT, { id: 'origin-oops' }),
        x('body', NS.CLIENT, {}, 'retracted'),
        x('store', NS.HINTS),
      ),
    );
    await a.ping();

    const b = await connect(bob);
    const entry = await entryOf(b, bare(alice));
    expect(entry.unread).toBe(1);
    expect(entry.body).toBeUndefined();
    expect(entry.message?.getChild('retracted', NS.RETRACT)).toBeDefined();
  });

  it('ignores a retraction by someone else than the sender', async () => {
    const [alice, bob, carol] = await accounts('alice', 'bob', 'carol');
    const a = await connect(alice);
    const c = await connect(carol);
    await send(a, bare(bob), 'mine');
    c.send(x('message', NS.CLIENT, { type: 'chat', to: bare(bob), id: 'forged' }, x('retract', NS.RETRACT, { id: 'origin-mine' }), x('store', NS.HINTS)));
    await c.ping();

    const b = await connect(bob);
    expect((await entryOf(b, bare(alice))).unread).toBe(1);
  });

  it('does not count messages without a body', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    a.send(x('message', NS.CLIENT, { type: 'chat', to: bare(bob), id: 'typing' }, x('composing', NS.CHATSTATES)));
    await send(a, bare(bob), 'real');
    a.send(x('message', NS.CLIENT, { type: 'chat', to: bare(bob), id: 'secret' }, x('body', NS.CLIENT, {}, 'off the record'), x('no-store', NS.HINTS)));
    await a.ping();

    const b = await connect(bob);
    const entry = await entryOf(b, bare(alice));
    expect(entry.unread).toBe(1);
    expect(entry.body).toBe('real');
  });

  it('moves the read position with an own message', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    const b = await connect(bob);
    await send(a, bare(bob), 'ping?');
    expect((await entryOf(b, bare(alice))).unread).toBe(1);
    await send(b, bare(alice), 'pong');
    const entry = await entryOf(b, bare(alice));
    expect(entry.unread).toBe(0);
    expect(entry.readId).toBe(entry.lastId);
  });
});

describe('inbox on several devices', () => {
  it('pushes new messages and reads to every device that asked', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    const desktop = await connect(bob, 'desktop');
    const phone = await connect(bob, 'phone');
    await queryInbox(desktop);
    await queryInbox(phone);

    const onDesktop = nextPush(desktop, bare(alice), (item) => item.unread === 1);
    const onPhone = nextPush(phone, bare(alice), (item) => item.unread === 1);
    await send(a, bare(bob), 'news');
    expect((await onDesktop).body).toBe('news');
    expect((await onPhone).body).toBe('news');

    const readOnDesktop = nextPush(desktop, bare(alice), (item) => item.unread === 0);
    expect((await markRead(phone, bare(alice))).attr('type')).toBe('result');
    const pushed = await readOnDesktop;
    expect(pushed.readId).toBe(pushed.lastId);
    expect(pushed.read).toBe('true');
  });

  it('sends no pushes to a session that did not ask', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    const b = await connect(bob);
    await send(a, bare(bob), 'quiet');
    await received(b, 'quiet');
    await b.nothing((el) => el.getChild('result', NS_INBOX) !== undefined, QUIET_MS);
  });

  it('pushes after an explicit enable', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    const b = await connect(bob);
    expect((await b.iq(x('iq', NS.CLIENT, { type: 'set' }, x('enable', NS_PARLEY_INBOX)))).attr('type')).toBe('result');
    const push = nextPush(b, bare(alice));
    await send(a, bare(bob), 'hi');
    expect((await push).unread).toBe(1);

    await b.iq(x('iq', NS.CLIENT, { type: 'set' }, x('disable', NS_PARLEY_INBOX)));
    await send(a, bare(bob), 'again');
    await b.nothing(isPush(bare(alice)), QUIET_MS);
  });

  it('shows a read from another device at the next login', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    const phone = await connect(bob, 'phone');
    await send(a, bare(bob), 'one', 'two');
    expect((await entryOf(phone, bare(alice))).unread).toBe(2);
    await phone.close();

    const desktop = await connect(bob, 'desktop');
    await markRead(desktop, bare(alice));

    const again = await connect(bob, 'phone');
    const entry = await entryOf(again, bare(alice));
    expect(entry.unread).toBe(0);
    expect(entry.readId).toBe(entry.lastId);
  });
});

describe('inbox queries', () => {
  it('pages newest activity first', async () => {
    const [bob, c1, c2, c3] = await accounts('bob', 'c', 'd', 'e');
    for (const contact of [c1, c2, c3]) await send(await connect(contact), bare(bob), `from ${contact}`);
    const b = await connect(bob);

    const rsm = (children: Element[]) => x('set', NS.RSM, {}, ...children);
    const first = await queryInbox(b, { rsm: rsm([x('max', NS.RSM, {}, '2')]) });
    expect(first.items.map((item) => item.jid)).toEqual([bare(c3), bare(c2)]);
    expect(first.fin?.getChildText('count', NS_INBOX)).toBe('3');
    expect(first.fin?.getChildText('unread-messages', NS_INBOX)).toBe('3');
    expect(first.fin?.getChildText('active-conversations', NS_INBOX)).toBe('3');

    const last = first.fin?.getChild('set', NS.RSM)?.getChildText('last', NS.RSM) ?? '';
    const second = await queryInbox(b, { rsm: rsm([x('max', NS.RSM, {}, '2'), x('after', NS.RSM, {}, last)]) });
    expect(second.items.map((item) => item.jid)).toEqual([bare(c1)]);

    const unknown = await queryInbox(b, { rsm: rsm([x('after', NS.RSM, {}, 'not a uid')]) });
    expect(errorOf(unknown.reply)).toBe('item-not-found');
  });

  it('filters by box, read state and order', async () => {
    const [bob, c1, c2] = await accounts('bob', 'c', 'd');
    await send(await connect(c1), bare(bob), 'first');
    await send(await connect(c2), bare(bob), 'second');
    const b = await connect(bob);
    await markRead(b, bare(c2));

    const unreadOnly = await queryInbox(b, { form: { hidden_read: 'true' } });
    expect(unreadOnly.items.map((item) => item.jid)).toEqual([bare(c1)]);
    const oldestFirst = await queryInbox(b, { form: { order: 'asc' } });
    expect(oldestFirst.items.map((item) => item.jid)).toEqual([bare(c1), bare(c2)]);

    await conversationIq(b, 'set', bare(c1), property('archive', 'true'));
    expect((await queryInbox(b, { form: { box: 'archive' } })).items.map((item) => item.jid)).toEqual([bare(c1)]);
    expect((await queryInbox(b, { form: { box: 'inbox' } })).items.map((item) => item.jid)).toEqual([bare(c2)]);
    const invalid = await queryInbox(b, { form: { box: 'bin' } });
    expect(errorOf(invalid.reply)).toBe('bad-request');
  });

  it('lists no entry for an unknown account', async () => {
    const [alice] = await accounts('alice');
    const a = await connect(alice);
    const bounce = a.next((el) => el.name === 'message' && el.attr('type') === 'error', 5000);
    await send(a, bare('nobody'), 'anyone?');
    await bounce;
    const { items } = await queryInbox(a);
    expect(items).toEqual([]);
  });

  it("rejects another account's inbox", async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    const outcome = await queryInbox(a, { to: bare(bob) });
    expect(errorOf(outcome.reply)).toBe('forbidden');
    const properties = await a.iq(
      x('iq', NS.CLIENT, { type: 'get', to: bare(bob) }, x('query', 'erlang-solutions.com:xmpp:inbox:0#conversation', { jid: bare(alice) })),
    );
    expect(errorOf(properties)).toBe('forbidden');
  });
});

describe('inbox entry properties', () => {
  it('pins, mutes and archives an entry', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    await send(await connect(alice), bare(bob), 'hi');
    const b = await connect(bob);

    const pinned = await conversationIq(b, 'set', bare(alice), property('pin', 'true', NS_PARLEY_INBOX));
    expect(pinned.attr('type')).toBe('result');
    const muted = await conversationIq(b, 'set', bare(alice), property('mute', '3600'));
    const muteEnd = Date.parse(
      muted.getChild('query', 'erlang-solutions.com:xmpp:inbox:0#conversation')?.getChildText('mute', 'erlang-solutions.com:xmpp:inbox:0#conversation') ?? '',
    );
    expect(muteEnd).toBeGreaterThan(Date.now() + 3_500_000);
    await conversationIq(b, 'set', bare(alice), property('archive', 'true'));

    let entry: InboxItem = await entryOf(b, bare(alice));
    expect(entry.pinned).toBe(true);
    expect(entry.archived).toBe(true);
    expect(entry.mute).not.toBe('0');
    expect(entry.unread).toBe(1);

    await conversationIq(b, 'set', bare(alice), property('mute', 'forever'), property('pin', 'false', NS_PARLEY_INBOX));
    entry = await entryOf(b, bare(alice));
    expect(entry.mute).toBe('forever');
    expect(entry.pinned).toBe(false);
    await conversationIq(b, 'set', bare(alice), property('mute', '0'));
    expect((await entryOf(b, bare(alice))).mute).toBe('0');
  });

  it('returns properties and rejects bad requests', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    await send(await connect(alice), bare(bob), 'hi');
    const b = await connect(bob);

    const got = await conversationIq(b, 'get', bare(alice));
    expect(
      got.getChild('query', 'erlang-solutions.com:xmpp:inbox:0#conversation')?.getChildText('read', 'erlang-solutions.com:xmpp:inbox:0#conversation'),
    ).toBe('false');
    expect(errorOf(await conversationIq(b, 'get', bare('nobody')))).toBe('item-not-found');
    expect(errorOf(await conversationIq(b, 'set', bare(alice), property('read', 'false')))).toBe('feature-not-implemented');
    expect(errorOf(await conversationIq(b, 'set', bare(alice), property('mute', 'soon')))).toBe('bad-request');
    expect(errorOf(await conversationIq(b, 'set', bare(alice)))).toBe('bad-request');
  });

  it('moves an archived entry back on a new message', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    await send(a, bare(bob), 'one');
    const b = await connect(bob);
    await conversationIq(b, 'set', bare(alice), property('archive', 'true'));
    await send(a, bare(bob), 'two');
    expect((await entryOf(b, bare(alice))).archived).toBe(false);
  });
});

describe('inbox for groups', () => {
  /** Creates a room owned by the user of `o`, with `members` as members, and returns its JID. */
  async function roomWithMembers(o: TestClient, members: string[]): Promise<string> {
    roomCounter++;
    const room = roomJid(`inbox${roomCounter}`);
    await createRoom(o, `${room}/owner`);
    await adminSetOk(o, room, ...members.map((member) => ({ jid: bare(member), affiliation: 'member' })));
    return room;
  }

  it('counts for members who are joined and who are not', async () => {
    const [owner, joined, absent] = await accounts('owner', 'joined', 'absent');
    const o = await connect(owner);
    const j = await connect(joined);
    const room = await roomWithMembers(o, [joined, absent]);
    await enterSeen(j, `${room}/joined`, [o]);

    await queryInbox(j);
    const push = nextPush(j, room, (item) => item.unread === 2);
    await say(o, room, 'owner', 'hello all');
    await say(o, room, 'owner', 'anyone?');
    const pushed = await push;
    expect(pushed.kind).toBe('groupchat');
    expect(pushed.body).toBe('anyone?');

    expect((await entryOf(o, room)).unread).toBe(0);
    const a = await connect(absent);
    const entry = await entryOf(a, room);
    expect(entry.unread).toBe(2);
    expect(entry.kind).toBe('groupchat');

    // A member's own message reads the room up to it.
    await say(j, room, 'joined', 'here');
    expect((await entryOf(j, room)).unread).toBe(0);
    expect((await entryOf(a, room)).unread).toBe(3);
  });

  it('drops the entries of a destroyed room', async () => {
    const [owner, absent] = await accounts('owner', 'absent');
    const o = await connect(owner);
    const room = await roomWithMembers(o, [absent]);
    await say(o, room, 'owner', 'last words');
    const a = await connect(absent);
    expect((await entryOf(a, room)).unread).toBe(1);

    const destroyed = await o.iq(x('iq', NS.CLIENT, { type: 'set', to: room }, x('query', NS_MUC_OWNER, {}, x('destroy', NS_MUC_OWNER))));
    expect(destroyed.attr('type')).toBe('result');
    const { items } = await queryInbox(a);
    expect(items.map((item) => item.jid)).not.toContain(room);
  });

  it('ignores a read position that names no message of the room', async () => {
    const [owner, absent] = await accounts('owner', 'absent');
    const o = await connect(owner);
    const room = await roomWithMembers(o, [absent]);
    await say(o, room, 'owner', 'hello');
    await server.server.hooks.fire('read/position', {
      owner: JID.parse(bare(absent)),
      conversation: JID.parse(room),
      stanzaId: 'zzzzzzzzzzzzzzzzzzz',
      source: 'mds',
    });
    const a = await connect(absent);
    const entry = await entryOf(a, room);
    expect(entry.unread).toBe(1);
    expect(entry.readId).toBeUndefined();
  });
});

describe('inbox persistence', () => {
  it('survives a restart', async () => {
    const [alice, bob] = await accounts('alice', 'bob');
    const a = await connect(alice);
    await send(a, bare(bob), 'before', 'restart');
    const b = await connect(bob);
    await conversationIq(b, 'set', bare(alice), property('pin', 'true', NS_PARLEY_INBOX));
    await a.close();
    await b.close();

    await server.restart();
    const again = await connect(bob);
    const entry = await entryOf(again, bare(alice));
    expect(entry.unread).toBe(2);
    expect(entry.pinned).toBe(true);
    expect(entry.body).toBe('restart');
  });
});

describe('inbox pushes after a session ends', () => {
  let smServer: TestServer;
  const smClients: TestClient[] = [];

  beforeAll(async () => {
    smServer = await startTestServer({ sessions: { resume_timeout_s: 1 } });
    for (const name of ['alice', 'bob', 'carol']) await smServer.createAccount(name, PASSWORD);
  });

  afterAll(async () => {
    for (const client of smClients.splice(0)) client.kill();
    await smServer.stop();
  });

  async function connectTo(username: string): Promise<TestClient> {
    const client = await TestClient.connect(smServer, { username, password: PASSWORD, transport: 'plain', resource: 'phone', presence: true });
    smClients.push(client);
    return client;
  }

  async function enableSm(client: TestClient, resume: boolean): Promise<void> {
    client.send(x('enable', NS.SM, resume ? { resume: 'true' } : {}));
    await client.next((el) => el.ns === NS.SM && el.name === 'enabled', 5000);
  }

  /** Collects the messages that arrive within `ms`. */
  async function messagesWithin(client: TestClient, ms: number): Promise<Element[]> {
    const deadline = Date.now() + ms;
    const messages: Element[] = [];
    for (let left = ms; left > 0; left = deadline - Date.now()) {
      const message = await client.next((el) => el.name === 'message', left).catch(() => undefined);
      if (message === undefined) break;
      messages.push(message);
    }
    return messages;
  }

  /** Logs in again and checks that only the chat message was stored and the inbox counts it. */
  async function expectOnlyTheMessageStored(username: string, sender: string, body: string): Promise<void> {
    const again = await connectTo(username);
    const stored = await messagesWithin(again, 1000);
    expect(stored.filter((message) => message.getChild('result', NS_INBOX) !== undefined)).toEqual([]);
    expect(stored.map((message) => message.getChildText('body', NS.CLIENT))).toEqual([body]);
    expect((await entryOf(again, `${sender}@${DOMAIN}`)).unread).toBe(1);
  }

  it('drops the pushes of a session that timed out', async () => {
    const alice = await connectTo('alice');
    const bob = await connectTo('bob');
    await queryInbox(bob);
    await enableSm(bob, true);
    bob.kill();

    await send(alice, `bob@${DOMAIN}`, 'while-hibernating');
    // The hibernating session queued the message and its push; the timeout reroutes both.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await expectOnlyTheMessageStored('bob', 'alice', 'while-hibernating');
  });

  it('drops the unacknowledged pushes of a closed session', async () => {
    const alice = await connectTo('alice');
    const carol = await connectTo('carol');
    await queryInbox(carol);
    await enableSm(carol, false);

    await send(alice, `carol@${DOMAIN}`, 'never-acknowledged');
    await carol.next(isPush(`alice@${DOMAIN}`), 5000);
    await received(carol, 'never-acknowledged');
    await carol.close();
    await expectOnlyTheMessageStored('carol', 'alice', 'never-acknowledged');
  });
});
