import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { Subscription } from '../packages/server/src/storage/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';

const PASSWORD = 'presence secret';
const DOMAIN = 'example.test';

let server: TestServer;
let clients: TestClient[] = [];
let resourceCounter = 0;

beforeEach(async () => {
  server = await startTestServer();
  for (const name of ['alice', 'bob', 'carol']) await server.createAccount(name, PASSWORD);
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
  await server.stop();
});

async function connect(username: string, options: { presence?: boolean; resource?: string } = {}): Promise<TestClient> {
  const resource = options.resource ?? `r${++resourceCounter}`;
  const client = await TestClient.connect(server, { username, password: PASSWORD, transport: 'plain', resource, presence: options.presence });
  clients.push(client);
  return client;
}

/** Stores the roster item of `contact` in the roster of `user`, as a finished subscription exchange would. */
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

function presence(attrs: Record<string, string> = {}, ...children: Element[]): Element {
  return x('presence', NS.CLIENT, attrs, ...children);
}

function isPresenceFrom(from: string, type?: string): (el: Element) => boolean {
  return (el) => el.name === 'presence' && el.attr('from') === from && el.attr('type') === type;
}

function isUnavailableFrom(from: string): (el: Element) => boolean {
  return isPresenceFrom(from, 'unavailable');
}

/** Sends broadcast presence with a priority and waits for the server's echo. */
async function announce(client: TestClient, priority: number): Promise<void> {
  const echo = client.next(isPresenceFrom(client.jid.toString()));
  client.send(presence({}, x('priority', NS.CLIENT, {}, String(priority))));
  await echo;
}

describe('broadcast presence', () => {
  it('echoes to the sender', async () => {
    const alice = await connect('alice');
    alice.send(presence({}, x('show', NS.CLIENT, {}, 'away')));
    const echo = await alice.next(isPresenceFrom(alice.jid.toString()));
    expect(echo.getChildText('show', NS.CLIENT)).toBe('away');
  });

  it('reaches the other resources', async () => {
    const first = await connect('alice', { presence: true });
    const second = await connect('alice', { presence: true });
    expect(await first.next(isPresenceFrom(second.jid.toString()))).toBeDefined();
  });

  it('reaches subscribers', async () => {
    await befriend('alice', 'bob');
    const bob = await connect('bob', { presence: true });
    const alice = await connect('alice', { presence: true });
    expect(await bob.next(isPresenceFrom(alice.jid.toString()))).toBeDefined();
  });

  it('skips non-subscribers', async () => {
    const carol = await connect('carol', { presence: true });
    const alice = await connect('alice', { presence: true });
    await carol.nothing(isPresenceFrom(alice.jid.toString()), 300);
  });

  it('broadcasts changes', async () => {
    await befriend('alice', 'bob');
    const bob = await connect('bob', { presence: true });
    const alice = await connect('alice', { presence: true });
    await bob.next(isPresenceFrom(alice.jid.toString()));
    alice.send(presence({}, x('show', NS.CLIENT, {}, 'dnd')));
    const update = await bob.next(isPresenceFrom(alice.jid.toString()));
    expect(update.getChildText('show', NS.CLIENT)).toBe('dnd');
  });

  it('broadcasts unavailable', async () => {
    await befriend('alice', 'bob');
    const bob = await connect('bob', { presence: true });
    const alice = await connect('alice', { presence: true });
    alice.send(presence({ type: 'unavailable' }));
    expect(await bob.next(isUnavailableFrom(alice.jid.toString()))).toBeDefined();
  });

  it('sends unavailable when the connection drops', async () => {
    await befriend('alice', 'bob');
    const bob = await connect('bob', { presence: true });
    const alice = await connect('alice', { presence: true });
    alice.kill();
    expect(await bob.next(isUnavailableFrom(alice.jid.toString()))).toBeDefined();
  });

  it('rejects an unknown type', async () => {
    const alice = await connect('alice');
    alice.send(presence({ type: 'sleepy', id: 'p1' }));
    const error = await alice.next((el) => el.name === 'presence' && el.attr('id') === 'p1');
    expect(error.getChild('error')?.getChildByNs(NS.STANZAS)?.name).toBe('bad-request');
  });
});

describe('initial presence', () => {
  it("fetches the contacts' presence", async () => {
    await befriend('alice', 'bob');
    const bob = await connect('bob');
    bob.send(presence({}, x('show', NS.CLIENT, {}, 'away')));
    await bob.next(isPresenceFrom(bob.jid.toString()));
    const alice = await connect('alice', { presence: true });
    const bobPresence = await alice.next(isPresenceFrom(bob.jid.toString()));
    expect(bobPresence.getChildText('show', NS.CLIENT)).toBe('away');
  });

  it('gets nothing for offline contacts', async () => {
    await befriend('alice', 'bob');
    const alice = await connect('alice', { presence: true });
    await alice.nothing((el) => el.name === 'presence' && el.attr('from')?.startsWith('bob@') === true, 300);
  });

  it('gets nothing the contact did not approve', async () => {
    await storeSubscription('alice', 'bob', 'to');
    const bob = await connect('bob', { presence: true });
    const alice = await connect('alice', { presence: true });
    await alice.nothing(isPresenceFrom(bob.jid.toString()), 300);
  });

  it('repairs a one-sided subscription', async () => {
    await storeSubscription('alice', 'bob', 'to');
    const alice = await connect('alice', { presence: true });
    expect(await alice.next(isPresenceFrom(`bob@${DOMAIN}`, 'unsubscribed'))).toBeDefined();
    const item = await server.server.storage.roster.get(DOMAIN, 'alice', `bob@${DOMAIN}`);
    expect(item?.subscription).toBe('none');
  });

  it('ignores probes from clients', async () => {
    await storeSubscription('bob', 'alice', 'from');
    const bob = await connect('bob', { presence: true });
    const alice = await connect('alice');
    alice.send(presence({ type: 'probe', to: `bob@${DOMAIN}` }));
    await alice.nothing((el) => el.name === 'presence' && el.attr('from') === bob.jid.toString(), 300);
    await bob.nothing((el) => el.name === 'presence' && el.attr('type') === 'probe', 300);
  });
});

describe('directed presence', () => {
  async function setUp(): Promise<{ alice: TestClient; carol: TestClient; aliceJid: string }> {
    const carol = await connect('carol', { resource: 'desk', presence: true });
    const alice = await connect('alice', { presence: true });
    alice.send(presence({ to: `carol@${DOMAIN}/desk` }));
    const aliceJid = alice.jid.toString();
    await carol.next(isPresenceFrom(aliceJid));
    return { alice, carol, aliceJid };
  }

  it('ends with one unavailable on a dropped connection', async () => {
    const { alice, carol, aliceJid } = await setUp();
    alice.kill();
    await carol.next(isUnavailableFrom(aliceJid));
    await carol.nothing(isUnavailableFrom(aliceJid), 500);
  });

  it('ends with one unavailable on stream close', async () => {
    const { alice, carol, aliceJid } = await setUp();
    await alice.close();
    await carol.next(isUnavailableFrom(aliceJid));
    await carol.nothing(isUnavailableFrom(aliceJid), 500);
  });

  it('ends with one unavailable on broadcast unavailable', async () => {
    const { alice, carol, aliceJid } = await setUp();
    alice.send(presence({ type: 'unavailable' }));
    await carol.next(isUnavailableFrom(aliceJid));
    await alice.close();
    await carol.nothing(isUnavailableFrom(aliceJid), 500);
  });

  it('forgets a target after directed unavailable', async () => {
    const { alice, carol, aliceJid } = await setUp();
    alice.send(presence({ to: `carol@${DOMAIN}/desk`, type: 'unavailable' }));
    await carol.next(isUnavailableFrom(aliceJid));
    await alice.close();
    await carol.nothing(isUnavailableFrom(aliceJid), 500);
  });

  it('sends one unavailable to a subscriber', async () => {
    await befriend('alice', 'carol');
    const { alice, carol, aliceJid } = await setUp();
    alice.kill();
    await carol.next(isUnavailableFrom(aliceJid));
    await carol.nothing(isUnavailableFrom(aliceJid), 500);
  });

  it('reaches a bare JID', async () => {
    const carol = await connect('carol', { presence: true });
    const alice = await connect('alice');
    alice.send(presence({ to: `carol@${DOMAIN}` }, x('status', NS.CLIENT, {}, 'hello')));
    const received = await carol.next(isPresenceFrom(alice.jid.toString()));
    expect(received.getChildText('status', NS.CLIENT)).toBe('hello');
  });
});

describe('priorities', () => {
  it('bare messages skip negative priority', async () => {
    const positive = await connect('bob');
    const negative = await connect('bob');
    await announce(positive, 5);
    await announce(negative, -1);
    const alice = await connect('alice');
    alice.send(x('message', NS.CLIENT, { to: `bob@${DOMAIN}`, type: 'chat' }, x('body', NS.CLIENT, {}, 'hi')));
    const message = await positive.next((el) => el.name === 'message');
    expect(message.getChildText('body', NS.CLIENT)).toBe('hi');
    await negative.nothing((el) => el.name === 'message', 300);
  });

  it('negative priority presence is broadcast', async () => {
    await befriend('alice', 'bob');
    const alice = await connect('alice', { presence: true });
    const negative = await connect('bob');
    await announce(negative, -1);
    const received = await alice.next(isPresenceFrom(negative.jid.toString()));
    expect(received.getChildText('priority', NS.CLIENT)).toBe('-1');
  });
});
