import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { Subscription } from '../packages/server/src/storage/index.js';
import { type TestServer, startTestServer } from './support/server.js';
import { type ClientTransport, TestClient, login, openClientStream } from './support/client.js';
import { type RawConnection, delay, streamErrorCondition } from './support/raw.js';

const PASSWORD = 'csi secret';

function isPresenceFrom(from: string): (el: Element) => boolean {
  return (el) => el.name === 'presence' && el.attr('from') === from;
}

function isMessageFrom(from: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.attr('from') === from;
}

function status(text: string): Element {
  return x('presence', NS.CLIENT, {}, x('show', NS.CLIENT, {}, 'away'), x('status', NS.CLIENT, {}, text));
}

function chatState(to: string, state: string): Element {
  return x('message', NS.CLIENT, { type: 'chat', to }, x(state, NS.CHATSTATES));
}

/** Collects every element matching `predicate` that arrives within `ms`. */
async function allWithin(client: TestClient | RawConnection, predicate: (el: Element) => boolean, ms: number): Promise<Element[]> {
  const deadline = Date.now() + ms;
  const received: Element[] = [];
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return received;
    try {
      received.push(await client.next(predicate, left));
    } catch {
      return received;
    }
  }
}

describe('client state indication', () => {
  let server: TestServer;
  const clients: TestClient[] = [];
  let pairCount = 0;

  async function storeSubscription(user: string, contact: string, subscription: Subscription): Promise<void> {
    await server.server.storage.roster.put(server.domain, user, {
      contact: `${contact}@${server.domain}`,
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

  /** Creates two fresh accounts subscribed to each other's presence. */
  async function friends(): Promise<[string, string]> {
    pairCount++;
    const pair: [string, string] = [`alice${pairCount}`, `bob${pairCount}`];
    for (const name of pair) await server.createAccount(name, PASSWORD);
    await storeSubscription(pair[0], pair[1], 'both');
    await storeSubscription(pair[1], pair[0], 'both');
    return pair;
  }

  async function connect(username: string, transport: ClientTransport = 'starttls'): Promise<TestClient> {
    const client = await TestClient.connect(server, { username, password: PASSWORD, presence: true, transport });
    clients.push(client);
    return client;
  }

  /** Connects both, waits until each has the other's initial presence, and makes the first one inactive. */
  async function inactivePair(transport: ClientTransport = 'starttls'): Promise<{ alice: TestClient; bob: TestClient }> {
    const [aliceName, bobName] = await friends();
    const alice = await connect(aliceName, transport);
    const bob = await connect(bobName);
    await alice.next(isPresenceFrom(bob.jid.toString()));
    alice.send(x('inactive', NS.CSI));
    // The ping result comes after the server handled <inactive/>.
    await alice.ping();
    return { alice, bob };
  }

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.kill();
  });

  afterAll(async () => {
    await server.stop();
  });

  it('offers csi after authentication', async () => {
    const [alice] = await friends();
    const { connection } = await openClientStream(server, 'starttls');
    await login(connection, 'SCRAM-SHA-256', alice, PASSWORD);
    const features = await connection.openStream();
    connection.destroy();
    expect(features.getChild('csi', NS.CSI)).toBeDefined();
  });

  it('refuses an indication before authentication', async () => {
    const { connection } = await openClientStream(server, 'starttls');
    connection.send(x('inactive', NS.CSI));
    const error = await connection.next((el) => streamErrorCondition(el) !== undefined);
    connection.destroy();
    expect(streamErrorCondition(error)).toBe('not-authorized');
  });

  it('holds presence updates while inactive', async () => {
    const { alice, bob } = await inactivePair();
    for (let i = 1; i <= 5; i++) bob.send(status(`status-${i}`));
    await bob.ping();
    await alice.nothing(isPresenceFrom(bob.jid.toString()), 300);
  });

  it('sends only the latest presence on active', async () => {
    const { alice, bob } = await inactivePair();
    for (let i = 1; i <= 5; i++) bob.send(status(`status-${i}`));
    await bob.ping();
    alice.send(x('active', NS.CSI));
    const updates = await allWithin(alice, isPresenceFrom(bob.jid.toString()), 500);
    expect(updates.map((el) => el.getChildText('status', NS.CLIENT))).toEqual(['status-5']);
  });

  it('delivers a chat message at once', async () => {
    const { alice, bob } = await inactivePair();
    bob.send(x('message', NS.CLIENT, { type: 'chat', to: alice.jid.toString() }, x('body', NS.CLIENT, {}, 'urgent')));
    const message = await alice.next(isMessageFrom(bob.jid.toString()), 1000);
    expect(message.getChildText('body', NS.CLIENT)).toBe('urgent');
  });

  it('sends held presence before the urgent message', async () => {
    const { alice, bob } = await inactivePair();
    bob.send(status('before'));
    bob.send(x('message', NS.CLIENT, { type: 'chat', to: alice.jid.toString() }, x('body', NS.CLIENT, {}, 'after')));
    const from = bob.jid.toString();
    const [first, second] = await allWithin(alice, (el) => isPresenceFrom(from)(el) || isMessageFrom(from)(el), 500);
    expect([first?.name, second?.name]).toEqual(['presence', 'message']);
  });

  it('holds chat states while inactive', async () => {
    const { alice, bob } = await inactivePair();
    bob.send(chatState(alice.jid.toString(), 'composing'));
    await bob.ping();
    await alice.nothing(isMessageFrom(bob.jid.toString()), 300);
  });

  it('sends only the latest chat state on active', async () => {
    const { alice, bob } = await inactivePair();
    bob.send(chatState(alice.jid.toString(), 'composing'));
    bob.send(chatState(alice.jid.toString(), 'paused'));
    await bob.ping();
    alice.send(x('active', NS.CSI));
    const states = await allWithin(alice, isMessageFrom(bob.jid.toString()), 500);
    expect(states.map((el) => el.elements()[0]?.name)).toEqual(['paused']);
  });

  it('holds presence over WebSocket', async () => {
    const { alice, bob } = await inactivePair('websocket');
    bob.send(status('ws'));
    await bob.ping();
    await alice.nothing(isPresenceFrom(bob.jid.toString()), 300);
  });

  it('leaves held stanzas out of the stream management count', async () => {
    const { alice, bob } = await inactivePair();
    alice.send(x('enable', NS.SM));
    await alice.next((el) => el.ns === NS.SM && el.name === 'enabled');
    for (let i = 1; i <= 3; i++) bob.send(status(`sm-${i}`));
    await bob.ping();
    await delay(100);
    expect(server.server.sessions.get(alice.jid)?.sm?.unackedCount).toBe(0);
  });

  it('counts the flushed stanza on active', async () => {
    const { alice, bob } = await inactivePair();
    alice.send(x('enable', NS.SM));
    await alice.next((el) => el.ns === NS.SM && el.name === 'enabled');
    for (let i = 1; i <= 3; i++) bob.send(status(`sm-${i}`));
    await bob.ping();
    alice.send(x('active', NS.CSI));
    await alice.next(isPresenceFrom(bob.jid.toString()));
    expect(server.server.sessions.get(alice.jid)?.sm?.unackedCount).toBe(1);
  });

  it('starts active again after resumption', async () => {
    const { alice, bob } = await inactivePair();
    alice.send(x('enable', NS.SM, { resume: 'true' }));
    const previd = (await alice.next((el) => el.ns === NS.SM && el.name === 'enabled')).attr('id')!;
    alice.kill();
    const { connection } = await openClientStream(server, 'starttls');
    await login(connection, 'SCRAM-SHA-256', alice.jid.local, PASSWORD);
    await connection.openStream();
    connection.send(x('resume', NS.SM, { previd, h: 0 }));
    await connection.next((el) => el.ns === NS.SM && el.name === 'resumed', 5000);
    bob.send(status('after-resume'));
    const update = await connection.next(isPresenceFrom(bob.jid.toString()), 1000);
    connection.destroy();
    expect(update.getChildText('status', NS.CLIENT)).toBe('after-resume');
  });
});
