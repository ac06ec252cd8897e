import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Element, NS, readStanzaErrorCondition, x } from '@parley/xmpp';
import type { Subscription } from '../packages/server/src/storage/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';

const PASSWORD = 'blocking secret';
const DOMAIN = 'example.test';
const NS_BLOCKING = 'urn:xmpp:blocking';
const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';
const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
const QUIET_MS = 300;

let server: TestServer;
let clients: TestClient[] = [];

beforeEach(async () => {
  server = await startTestServer();
  for (const name of ['alice', 'bob', 'carol']) await server.createAccount(name, PASSWORD);
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
  await server.stop();
});

async function connect(username: string, resource: string, options: { presence?: boolean } = {}): Promise<TestClient> {
  const client = await TestClient.connect(server, { username, password: PASSWORD, transport: 'plain', resource, presence: options.presence ?? true });
  clients.push(client);
  return client;
}

async function storeSubscription(user: string, contact: string, subscription: Subscription): Promise<void> {
  await server.server.storage.roster.put(DOMAIN, user, {
    contact: `${contact}@${DOMAIN}`,
    name: null,
    subscription,
    ask: false,
    pendingIn: false,
    pendingInStanza: null,
    approved: false,
    hidden: false,
    groups: [],
  });
}

async function befriend(first: string, second: string): Promise<void> {
  await storeSubscription(first, second, 'both');
  await storeSubscription(second, first, 'both');
}

function items(...jids: string[]): Element[] {
  return jids.map((jid) => x('item', NS_BLOCKING, { jid }));
}

function block(client: TestClient, ...jids: string[]): Promise<Element> {
  return client.iq(x('iq', NS.CLIENT, { type: 'set' }, x('block', NS_BLOCKING, {}, ...items(...jids))));
}

function unblock(client: TestClient, ...jids: string[]): Promise<Element> {
  return client.iq(x('iq', NS.CLIENT, { type: 'set' }, x('unblock', NS_BLOCKING, {}, ...items(...jids))));
}

async function blocklist(client: TestClient): Promise<string[]> {
  const reply = await client.iq(x('iq', NS.CLIENT, { type: 'get' }, x('blocklist', NS_BLOCKING)));
  return reply.getChild('blocklist', NS_BLOCKING)?.getChildren('item', NS_BLOCKING).map((item) => item.attr('jid') ?? '') ?? [];
}

function chat(to: string, body: string): Element {
  return x('message', NS.CLIENT, { type: 'chat', to, id: body }, x('body', NS.CLIENT, {}, body));
}

function errorCondition(el: Element): string | undefined {
  const error = el.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

function isReplyTo(id: string): (el: Element) => boolean {
  return (el) => el.attr('id') === id && el.attr('type') === 'error';
}

function isMessage(el: Element): boolean {
  return el.name === 'message';
}

function isPush(name: 'block' | 'unblock'): (el: Element) => boolean {
  return (el) => el.name === 'iq' && el.attr('type') === 'set' && el.getChild(name, NS_BLOCKING) !== undefined;
}

function isPresenceFrom(from: string, type?: string): (el: Element) => boolean {
  return (el) => el.name === 'presence' && el.attr('from') === from && el.attr('type') === type;
}

function pushedJids(push: Element, name: 'block' | 'unblock'): string[] {
  return push.getChild(name, NS_BLOCKING)?.getChildren('item', NS_BLOCKING).map((item) => item.attr('jid') ?? '') ?? [];
}

describe('commands', () => {
  it('the server announces blocking', async () => {
    const alice = await connect('alice', 'a1');
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: DOMAIN }, x('query', NS.DISCO_INFO)));
    const features = reply.getChild('query', NS.DISCO_INFO)?.getChildren('feature', NS.DISCO_INFO).map((el) => el.attr('var'));
    expect(features).toContain(NS_BLOCKING);
  });

  it('the list starts empty', async () => {
    const alice = await connect('alice', 'a1');
    expect(await blocklist(alice)).toEqual([]);
  });

  it('block returns a result', async () => {
    const alice = await connect('alice', 'a1');
    expect((await block(alice, BOB)).attr('type')).toBe('result');
  });

  it('block adds several items', async () => {
    const alice = await connect('alice', 'a1');
    await block(alice, BOB, 'evil.test');
    expect(await blocklist(alice)).toEqual([BOB, 'evil.test']);
  });

  it('block without items is a bad request', async () => {
    const alice = await connect('alice', 'a1');
    expect(errorCondition(await block(alice))).toBe('bad-request');
  });

  it('block of an invalid JID is refused', async () => {
    const alice = await connect('alice', 'a1');
    expect(errorCondition(await block(alice, 'a@b@c'))).toBe('jid-malformed');
  });

  it('unblock removes an item', async () => {
    const alice = await connect('alice', 'a1');
    await block(alice, BOB, 'evil.test');
    await unblock(alice, BOB);
    expect(await blocklist(alice)).toEqual(['evil.test']);
  });

  it('unblock without items removes all', async () => {
    const alice = await connect('alice', 'a1');
    await block(alice, BOB, 'evil.test');
    await unblock(alice);
    expect(await blocklist(alice)).toEqual([]);
  });

  it("another account's list is refused", async () => {
    const alice = await connect('alice', 'a1');
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: BOB }, x('blocklist', NS_BLOCKING)));
    expect(errorCondition(reply)).toBe('forbidden');
  });

  it('the list survives a restart', async () => {
    const alice = await connect('alice', 'a1');
    await block(alice, BOB);
    await Promise.all(clients.map((client) => client.close()));
    clients = [];
    await server.restart();
    expect(await blocklist(await connect('alice', 'a1'))).toEqual([BOB]);
  });
});

describe('pushes', () => {
  it('interested resources get the block', async () => {
    const a1 = await connect('alice', 'a1');
    const a2 = await connect('alice', 'a2');
    await blocklist(a2);
    await block(a1, BOB);
    expect(pushedJids(await a2.next(isPush('block')), 'block')).toEqual([BOB]);
  });

  it('other resources get no push', async () => {
    const a1 = await connect('alice', 'a1');
    const a2 = await connect('alice', 'a2');
    await block(a1, BOB);
    await a2.nothing(isPush('block'), QUIET_MS);
  });

  it('the unblock push names the items', async () => {
    const a1 = await connect('alice', 'a1');
    const a2 = await connect('alice', 'a2');
    await blocklist(a2);
    await block(a1, BOB, 'evil.test');
    await unblock(a1, BOB);
    expect(pushedJids(await a2.next(isPush('unblock')), 'unblock')).toEqual([BOB]);
  });

  it('the unblock-all push is empty', async () => {
    const a1 = await connect('alice', 'a1');
    const a2 = await connect('alice', 'a2');
    await blocklist(a2);
    await block(a1, BOB);
    await unblock(a1);
    expect(pushedJids(await a2.next(isPush('unblock')), 'unblock')).toEqual([]);
  });

  it('an item blocked twice is pushed once', async () => {
    const a1 = await connect('alice', 'a1');
    const a2 = await connect('alice', 'a2');
    await blocklist(a2);
    await block(a1, BOB);
    await a2.next(isPush('block'));
    await block(a1, BOB);
    await a2.nothing(isPush('block'), QUIET_MS);
  });
});

describe('stanzas from a blocked address', () => {
  let alice: TestClient;
  let bob: TestClient;

  beforeEach(async () => {
    alice = await connect('alice', 'a1');
    bob = await connect('bob', 'b1');
    await block(alice, BOB);
  });

  it('a message gets service-unavailable', async () => {
    bob.send(chat(ALICE, 'hello?'));
    expect(errorCondition(await bob.next(isReplyTo('hello?')))).toBe('service-unavailable');
  });

  it('a message is not delivered', async () => {
    bob.send(chat(ALICE, 'hello?'));
    await bob.next(isReplyTo('hello?'));
    await alice.nothing(isMessage, QUIET_MS);
  });

  it('a message is not stored offline', async () => {
    await alice.close();
    bob.send(chat(ALICE, 'stored?'));
    await bob.next(isReplyTo('stored?'));
    expect(await server.server.storage.offline.count(DOMAIN, 'alice')).toBe(0);
  });

  it('an IQ to a resource gets service-unavailable', async () => {
    const reply = await bob.iq(x('iq', NS.CLIENT, { type: 'get', to: `${ALICE}/a1` }, x('ping', NS.PING)));
    expect(errorCondition(reply)).toBe('service-unavailable');
  });

  it('an IQ to the account gets service-unavailable', async () => {
    const reply = await bob.iq(x('iq', NS.CLIENT, { type: 'get', to: ALICE }, x('vCard', NS.VCARD)));
    expect(errorCondition(reply)).toBe('service-unavailable');
  });

  it('presence gets no answer', async () => {
    bob.send(x('presence', NS.CLIENT, { to: ALICE }));
    await bob.nothing((el) => el.name === 'presence' && el.attr('type') === 'error', QUIET_MS);
  });

  it('presence is not delivered', async () => {
    bob.send(x('presence', NS.CLIENT, { to: ALICE }));
    await alice.nothing(isPresenceFrom(`${BOB}/b1`), QUIET_MS);
  });

  it('a subscription request is not delivered', async () => {
    bob.send(x('presence', NS.CLIENT, { to: ALICE, type: 'subscribe' }));
    await alice.nothing((el) => el.name === 'presence' && el.attr('type') === 'subscribe', QUIET_MS);
  });

  it('messages flow again after unblock', async () => {
    await unblock(alice, BOB);
    bob.send(chat(ALICE, 'back again'));
    await alice.next((el) => isMessage(el) && el.getChildText('body', NS.CLIENT) === 'back again');
  });
});

describe('stanzas stored before a block', () => {
  it('stored message from blocked contact dropped', async () => {
    const bob = await connect('bob', 'b1');
    const carol = await connect('carol', 'c1');
    bob.send(chat(ALICE, 'sent while alice was away'));
    carol.send(chat(ALICE, 'carol while away'));
    await waitForOffline(2);

    const first = await connect('alice', 'a1', { presence: false });
    await block(first, BOB);
    await first.close();

    const alice = await connect('alice', 'a2');
    await alice.next((el) => isMessage(el) && el.getChildText('body', NS.CLIENT) === 'carol while away');
    await alice.nothing((el) => isMessage(el) && el.getChildText('body', NS.CLIENT) === 'sent while alice was away', QUIET_MS);
    expect(await server.server.storage.offline.count(DOMAIN, 'alice')).toBe(0);
  });

  it('stored request from blocked contact dropped', async () => {
    const bob = await connect('bob', 'b1');
    const carol = await connect('carol', 'c1');
    bob.send(x('presence', NS.CLIENT, { to: ALICE, type: 'subscribe' }));
    carol.send(x('presence', NS.CLIENT, { to: ALICE, type: 'subscribe' }));
    // A session handles its stanzas in order: the ping's result comes after the request is stored.
    await bob.ping();
    await carol.ping();

    const first = await connect('alice', 'a1', { presence: false });
    await block(first, BOB);
    await first.close();

    const alice = await connect('alice', 'a2', { presence: false });
    alice.send(x('presence', NS.CLIENT));
    await alice.next((el) => el.name === 'presence' && el.attr('type') === 'subscribe' && el.attr('from') === `carol@${DOMAIN}`);
    await alice.nothing((el) => el.name === 'presence' && el.attr('type') === 'subscribe' && el.attr('from') === BOB, QUIET_MS);
  });
});

async function waitForOffline(count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await server.server.storage.offline.count(DOMAIN, 'alice')) < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} offline messages stored`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('stanzas to a blocked address', () => {
  let alice: TestClient;
  let bob: TestClient;

  beforeEach(async () => {
    alice = await connect('alice', 'a1');
    bob = await connect('bob', 'b1');
    await block(alice, BOB);
  });

  it('a message gets not-acceptable', async () => {
    alice.send(chat(BOB, 'psst'));
    expect(errorCondition(await alice.next(isReplyTo('psst')))).toBe('not-acceptable');
  });

  it('the error names the block', async () => {
    alice.send(chat(BOB, 'psst'));
    const error = (await alice.next(isReplyTo('psst'))).getChild('error');
    expect(error?.getChild('blocked', NS_BLOCKING_ERRORS)).toBeDefined();
  });

  it('a message is not delivered', async () => {
    alice.send(chat(BOB, 'psst'));
    await alice.next(isReplyTo('psst'));
    await bob.nothing(isMessage, QUIET_MS);
  });

  it('an IQ gets not-acceptable', async () => {
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: `${BOB}/b1` }, x('ping', NS.PING)));
    expect(errorCondition(reply)).toBe('not-acceptable');
  });

  it('directed presence gets not-acceptable', async () => {
    alice.send(x('presence', NS.CLIENT, { to: BOB, id: 'p1' }));
    expect(errorCondition(await alice.next(isReplyTo('p1')))).toBe('not-acceptable');
  });

  it('the server itself stays reachable', async () => {
    await block(alice, DOMAIN);
    expect((await alice.ping()).attr('type')).toBe('result');
  });
});

describe('matching', () => {
  it('a domain item blocks its users', async () => {
    const alice = await connect('alice', 'a1');
    const carol = await connect('carol', 'c1');
    await block(alice, DOMAIN);
    carol.send(chat(ALICE, 'from the domain'));
    expect(errorCondition(await carol.next(isReplyTo('from the domain')))).toBe('service-unavailable');
  });

  it('a full JID item blocks its resource', async () => {
    const alice = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    await block(alice, `${BOB}/b1`);
    b1.send(chat(ALICE, 'from b1'));
    expect(errorCondition(await b1.next(isReplyTo('from b1')))).toBe('service-unavailable');
  });

  it('a full JID item leaves other resources', async () => {
    const alice = await connect('alice', 'a1');
    const b2 = await connect('bob', 'b2');
    await block(alice, `${BOB}/b1`);
    b2.send(chat(ALICE, 'from b2'));
    await alice.next((el) => isMessage(el) && el.getChildText('body', NS.CLIENT) === 'from b2');
  });

  it('a bare item leaves other accounts', async () => {
    const alice = await connect('alice', 'a1');
    const carol = await connect('carol', 'c1');
    await block(alice, BOB);
    carol.send(chat(ALICE, 'from carol'));
    await alice.next((el) => isMessage(el) && el.getChildText('body', NS.CLIENT) === 'from carol');
  });
});

describe('presence', () => {
  beforeEach(async () => {
    await befriend('alice', 'bob');
  });

  it('block sends unavailable to the contact', async () => {
    const alice = await connect('alice', 'a1');
    const bob = await connect('bob', 'b1');
    await bob.next(isPresenceFrom(`${ALICE}/a1`));
    await block(alice, BOB);
    await bob.next(isPresenceFrom(`${ALICE}/a1`, 'unavailable'));
  });

  it('block sends unavailable from each resource', async () => {
    const a1 = await connect('alice', 'a1');
    await connect('alice', 'a2');
    const bob = await connect('bob', 'b1');
    await block(a1, BOB);
    await bob.next(isPresenceFrom(`${ALICE}/a2`, 'unavailable'));
  });

  it('later broadcasts skip the contact', async () => {
    const alice = await connect('alice', 'a1');
    const bob = await connect('bob', 'b1');
    await bob.next(isPresenceFrom(`${ALICE}/a1`));
    await block(alice, BOB);
    await bob.next(isPresenceFrom(`${ALICE}/a1`, 'unavailable'));
    alice.send(x('presence', NS.CLIENT, {}, x('show', NS.CLIENT, {}, 'away')));
    await bob.nothing(isPresenceFrom(`${ALICE}/a1`), QUIET_MS);
  });

  it("the contact's login gets no presence", async () => {
    const alice = await connect('alice', 'a1');
    await block(alice, BOB);
    const bob = await connect('bob', 'b1');
    await bob.nothing(isPresenceFrom(`${ALICE}/a1`), QUIET_MS);
  });

  it("the user's login gets no presence from the contact", async () => {
    await connect('bob', 'b1');
    const a1 = await connect('alice', 'a1', { presence: false });
    await block(a1, BOB);
    await a1.close();
    const alice = await connect('alice', 'a2');
    await alice.nothing(isPresenceFrom(`${BOB}/b1`), QUIET_MS);
  });

  it('unblock sends presence again', async () => {
    const alice = await connect('alice', 'a1');
    const bob = await connect('bob', 'b1');
    await block(alice, BOB);
    await bob.next(isPresenceFrom(`${ALICE}/a1`, 'unavailable'));
    await unblock(alice, BOB);
    await bob.next(isPresenceFrom(`${ALICE}/a1`));
  });

  it('a contact without subscription gets no presence on unblock', async () => {
    const alice = await connect('alice', 'a1');
    const carol = await connect('carol', 'c1');
    await block(alice, `carol@${DOMAIN}`);
    await unblock(alice, `carol@${DOMAIN}`);
    await carol.nothing(isPresenceFrom(`${ALICE}/a1`), QUIET_MS);
  });
});
