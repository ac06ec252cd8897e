import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, readStanzaErrorCondition, serialize, x } from '@parley/xmpp';
import { type TestServer, startTestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { delay } from './support/raw.js';
import { ids, queryArchive, stamps } from './support/mam.js';

const PASSWORD = 'secret-pw';

function errorCondition(stanza: Element): string | undefined {
  const error = stanza.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

function chat(to: string, body: string, ...extra: Element[]): Element {
  return x('message', NS.CLIENT, { type: 'chat', to, id: body }, x('body', NS.CLIENT, {}, body), ...extra);
}

function isBodyMessage(el: Element): boolean {
  return el.name === 'message' && el.attr('type') !== 'error' && el.getChild('body', NS.CLIENT) !== undefined;
}

/** Collects `count` messages with a body, failing after `timeoutMs` in total. */
async function collectMessages(client: TestClient, count: number, timeoutMs: number): Promise<Element[]> {
  const deadline = Date.now() + timeoutMs;
  const received: Element[] = [];
  while (received.length < count) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`received ${received.length} of ${count} messages within ${timeoutMs} ms`);
    received.push(await client.next(isBodyMessage, left));
  }
  return received;
}

function bodies(messages: Element[]): string[] {
  return messages.map((message) => message.getChildText('body', NS.CLIENT) ?? '');
}

function numbered(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);
}

/** Writes the messages to the socket in one write, so the server parses them from one chunk. */
function sendBurst(client: TestClient, to: string, texts: string[]): void {
  client.write(texts.map((text) => serialize(chat(to, text), NS.CLIENT)).join(''));
}

function stampOf(message: Element, domain: string): string | undefined {
  return message.getChildren('delay', NS.DELAY).find((el) => el.attr('from') === domain)?.attr('stamp');
}

/** Makes `object[method]` wait `ms` before it runs, like a database across a network; returns the undo. */
function slowDown<T extends object, K extends keyof T>(object: T, method: K, ms: number): () => void {
  const original = object[method] as (...args: unknown[]) => Promise<unknown>;
  object[method] = (async (...args: unknown[]) => {
    await delay(ms);
    return original.apply(object, args);
  }) as T[K];
  return () => {
    object[method] = original as T[K];
  };
}

/** Waits until the account has `count` stored messages, so that a test does not log in too early. */
async function waitForStored(server: TestServer, username: string, count: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stored = await server.server.storage.offline.count(server.domain, username);
    if (stored >= count) return;
    if (Date.now() > deadline) throw new Error(`${username} has ${stored} stored messages, expected ${count}`);
    await delay(20);
  }
}

describe('offline messages', () => {
  let server: TestServer;
  const clients: TestClient[] = [];
  let bob: string;

  async function connect(username: string, options: { presence?: boolean; resource?: string } = {}): Promise<TestClient> {
    const client = await TestClient.connect(server, { username, password: PASSWORD, ...options });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    // The senders' rate limit is lifted so that live messages reach the server while stored ones are delivered.
    server = await startTestServer({ offline: { max_messages: 500 }, sessions: { stanzas_per_second: 100_000, stanza_burst: 100_000 } });
    for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) await server.createAccount(name, PASSWORD);
    bob = `bob@${server.domain}`;
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    for (const name of ['bob', 'dave', 'erin']) await server.server.storage.offline.deleteAll(server.domain, name);
  });

  afterAll(async () => {
    await server.stop();
  });

  it('delivers a stored message at initial presence', async () => {
    const alice = await connect('alice');
    alice.send(chat(bob, 'hello'));
    await waitForStored(server, 'bob', 1);
    const receiver = await connect('bob', { presence: true });
    expect(bodies(await collectMessages(receiver, 1, 2000))).toEqual(['hello']);
  });

  it('stamps a delay from the domain', async () => {
    const alice = await connect('alice');
    const before = Date.now();
    alice.send(chat(bob, 'stamped'));
    await waitForStored(server, 'bob', 1);
    const receiver = await connect('bob', { presence: true });
    const [message] = await collectMessages(receiver, 1, 2000);
    const stamp = stampOf(message!, server.domain) ?? '';
    expect(stamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/);
    expect(Date.parse(stamp)).toBeGreaterThanOrEqual(before - 1);
  });

  it('stamps the archive time, however long the write waits', async () => {
    const alice = await connect('alice');
    const restore = slowDown(server.server.storage.offline, 'count', 30);
    try {
      sendBurst(alice, bob, numbered('archived', 10));
      await waitForStored(server, 'bob', 10);
    } finally {
      restore();
    }
    const receiver = await connect('bob', { presence: true });
    const delivered = await collectMessages(receiver, 10, 5000);
    const archived = await queryArchive(receiver, { fields: { with: alice.jid.bare().toString() } });

    const archiveTimes = stamps(archived);
    const archivedStamps = new Map(ids(archived).map((id, i) => [id, Date.parse(archiveTimes[i]!)]));
    for (const message of delivered) {
      const id = message.getChildren('stanza-id', NS.STANZA_ID).find((el) => el.attr('by') === bob)?.attr('id') ?? '';
      expect(Date.parse(stampOf(message, server.domain)!)).toBe(archivedStamps.get(id));
    }
  });

  it('keeps the sender address', async () => {
    const alice = await connect('alice');
    alice.send(chat(bob, 'from alice'));
    await waitForStored(server, 'bob', 1);
    const receiver = await connect('bob', { presence: true });
    const [message] = await collectMessages(receiver, 1, 2000);
    expect(message?.attr('from')).toBe(alice.jid.toString());
  });

  it('replaces a forged delay of the domain', async () => {
    const alice = await connect('alice');
    alice.send(chat(bob, 'forged', x('delay', NS.DELAY, { from: server.domain, stamp: '2001-01-01T00:00:00Z' })));
    await waitForStored(server, 'bob', 1);
    const receiver = await connect('bob', { presence: true });
    const [message] = await collectMessages(receiver, 1, 2000);
    const ours = message!.getChildren('delay', NS.DELAY).filter((el) => el.attr('from') === server.domain);
    expect(ours).toHaveLength(1);
    expect(ours[0]?.attr('stamp')).not.toBe('2001-01-01T00:00:00Z');
  });

  it('deletes what was delivered', async () => {
    const alice = await connect('alice');
    alice.send(chat(bob, 'once'));
    await waitForStored(server, 'bob', 1);
    const receiver = await connect('bob', { presence: true });
    await collectMessages(receiver, 1, 2000);
    await receiver.close();
    // The delete follows the send without the client's knowledge, so it may land a little later.
    let stored = await server.server.storage.offline.count(server.domain, 'bob');
    for (let attempt = 0; attempt < 100 && stored > 0; attempt++) {
      await delay(20);
      stored = await server.server.storage.offline.count(server.domain, 'bob');
    }
    expect(stored).toBe(0);
  });

  it('stores a message to the full JID of an offline resource', async () => {
    const alice = await connect('alice');
    alice.send(chat(`${bob}/gone`, 'to a resource'));
    await waitForStored(server, 'bob', 1);
    const receiver = await connect('bob', { presence: true });
    expect(bodies(await collectMessages(receiver, 1, 2000))).toEqual(['to a resource']);
  });

  it('stores a message without type', async () => {
    const alice = await connect('alice');
    alice.send(x('message', NS.CLIENT, { to: bob }, x('body', NS.CLIENT, {}, 'normal')));
    await waitForStored(server, 'bob', 1);
    const receiver = await connect('bob', { presence: true });
    expect(bodies(await collectMessages(receiver, 1, 2000))).toEqual(['normal']);
  });

  it('waits for presence before delivering', async () => {
    const alice = await connect('alice');
    alice.send(chat(bob, 'later'));
    await waitForStored(server, 'bob', 1);
    const receiver = await connect('bob');
    await receiver.nothing(isBodyMessage, 300);
    receiver.send(x('presence', NS.CLIENT));
    expect(bodies(await collectMessages(receiver, 1, 2000))).toEqual(['later']);
  });

  it('skips a resource with negative priority', async () => {
    const alice = await connect('alice');
    alice.send(chat(bob, 'for a positive resource'));
    await waitForStored(server, 'bob', 1);
    const negative = await connect('bob', { resource: 'negative' });
    negative.send(x('presence', NS.CLIENT, {}, x('priority', NS.CLIENT, {}, '-1')));
    await negative.nothing(isBodyMessage, 300);
    expect(await server.server.storage.offline.count(server.domain, 'bob')).toBe(1);
  });

  it('delivers to the next non-negative resource', async () => {
    const alice = await connect('alice');
    alice.send(chat(bob, 'kept'));
    await waitForStored(server, 'bob', 1);
    const negative = await connect('bob', { resource: 'negative' });
    negative.send(x('presence', NS.CLIENT, {}, x('priority', NS.CLIENT, {}, '-5')));
    await delay(100);
    const positive = await connect('bob', { resource: 'positive', presence: true });
    expect(bodies(await collectMessages(positive, 1, 2000))).toEqual(['kept']);
  });

  it('does not store headline', async () => {
    const alice = await connect('alice');
    alice.send(x('message', NS.CLIENT, { type: 'headline', to: bob }, x('body', NS.CLIENT, {}, 'news')));
    await alice.ping();
    expect(await server.server.storage.offline.count(server.domain, 'bob')).toBe(0);
  });

  it('bounces groupchat', async () => {
    const alice = await connect('alice');
    alice.send(x('message', NS.CLIENT, { type: 'groupchat', to: bob, id: 'gc1' }, x('body', NS.CLIENT, {}, 'room')));
    const bounce = await alice.next((el) => el.name === 'message' && el.attr('id') === 'gc1');
    expect(errorCondition(bounce)).toBe('service-unavailable');
  });

  it('bounces a no-store message', async () => {
    const alice = await connect('alice');
    alice.send(chat(bob, 'secret', x('no-store', NS.HINTS)));
    const bounce = await alice.next((el) => el.name === 'message' && el.attr('id') === 'secret');
    expect(errorCondition(bounce)).toBe('service-unavailable');
  });

  it('does not store a no-store message', async () => {
    const alice = await connect('alice');
    alice.send(chat(bob, 'secret', x('no-store', NS.HINTS)));
    await alice.next((el) => el.name === 'message' && el.attr('id') === 'secret');
    expect(await server.server.storage.offline.count(server.domain, 'bob')).toBe(0);
  });

  it('drops a chat state silently', async () => {
    const alice = await connect('alice');
    alice.send(x('message', NS.CLIENT, { type: 'chat', to: bob, id: 'typing' }, x('composing', NS.CHATSTATES)));
    await alice.nothing((el) => el.name === 'message' && el.attr('id') === 'typing', 300);
    expect(await server.server.storage.offline.count(server.domain, 'bob')).toBe(0);
  });

  it('stores a message with body and chat state', async () => {
    const alice = await connect('alice');
    alice.send(chat(bob, 'with state', x('active', NS.CHATSTATES)));
    await waitForStored(server, 'bob', 1);
    expect(await server.server.storage.offline.count(server.domain, 'bob')).toBe(1);
  });

  it('is a host feature', async () => {
    const alice = await connect('alice');
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', NS.DISCO_INFO)));
    const features = reply.getChild('query', NS.DISCO_INFO)?.getChildren('feature', NS.DISCO_INFO).map((el) => el.attr('var'));
    expect(features).toContain('msgoffline');
  });

  describe('order', () => {
    /** Alice sends a-01..a-30 and Carol c-01..c-10, interleaved in bursts; resolves when all are stored. */
    async function sendInterleaved(): Promise<void> {
      const alice = await connect('alice');
      const carol = await connect('carol');
      const a = numbered('a', 30);
      const c = numbered('c', 10);
      sendBurst(alice, bob, a.slice(0, 10));
      sendBurst(carol, bob, c.slice(0, 5));
      sendBurst(alice, bob, a.slice(10, 20));
      sendBurst(carol, bob, c.slice(5, 10));
      sendBurst(alice, bob, a.slice(20, 30));
      await waitForStored(server, 'bob', 40);
    }

    function checkOrder(messages: Element[]): void {
      const texts = bodies(messages);
      expect(texts.filter((text) => text.startsWith('a-'))).toEqual(numbered('a', 30));
      expect(texts.filter((text) => text.startsWith('c-'))).toEqual(numbered('c', 10));

      const stamps = messages.map((message) => stampOf(message, server.domain));
      expect(stamps.filter((stamp) => stamp === undefined)).toHaveLength(0);
      const times = stamps.map((stamp) => Date.parse(stamp!));
      const decreasing = times.filter((time, i) => i > 0 && time < times[i - 1]!);
      expect(decreasing).toHaveLength(0);
    }

    it('keeps each sender in order', async () => {
      await sendInterleaved();
      const receiver = await connect('bob', { presence: true });
      checkOrder(await collectMessages(receiver, 40, 5000));
    });

    it('keeps order while others store concurrently', async () => {
      const frank = await connect('frank');
      const others = [`dave@${server.domain}`, `erin@${server.domain}`];
      // Frank keeps storing for dave and erin while alice and carol store for bob.
      const noise = (async () => {
        for (let round = 0; round < 10; round++) {
          for (const to of others) sendBurst(frank, to, numbered(`f${round}`, 5));
          await delay(5);
        }
      })();
      await sendInterleaved();
      await noise;

      const receiver = await connect('bob', { presence: true });
      checkOrder(await collectMessages(receiver, 40, 5000));
      await waitForStored(server, 'dave', 50);
    });

    it('keeps live messages behind stored ones', async () => {
      const alice = await connect('alice');
      const stored = numbered('s', 250);
      for (let i = 0; i < stored.length; i += 50) sendBurst(alice, bob, stored.slice(i, i + 50));
      await waitForStored(server, 'bob', stored.length);

      // SQLite returns within one turn of the event loop, so nothing could arrive while the
      // stored messages are delivered. A slower database is simulated to open that window,
      // both before session/initial-presence (the roster read) and during the delivery.
      const { offline, roster } = server.server.storage;
      const restore = [slowDown(offline, 'list', 15), slowDown(roster, 'list', 30)];
      try {
        const receiver = await connect('bob');
        const live = numbered('l', 100);
        for (let i = 0; i < live.length; i += 2) {
          sendBurst(alice, bob, live.slice(i, i + 2));
          if (i === 4) receiver.send(x('presence', NS.CLIENT));
          await delay(1);
        }
        const texts = bodies(await collectMessages(receiver, stored.length + live.length, 10_000));
        expect(texts).toEqual([...stored, ...live]);
      } finally {
        for (const undo of restore) undo();
      }
    });
  });

  it('survives a restart', async () => {
    const alice = await connect('alice');
    alice.send(chat(bob, 'persisted'));
    await waitForStored(server, 'bob', 1);
    await alice.close();
    await server.restart();
    const receiver = await connect('bob', { presence: true });
    expect(bodies(await collectMessages(receiver, 1, 2000))).toEqual(['persisted']);
  });
});

describe('offline quota', () => {
  let server: TestServer;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({ offline: { max_messages: 3 } });
    await server.createAccount('alice', PASSWORD);
    await server.createAccount('bob', PASSWORD);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await server.stop();
  });

  it('bounces past the quota with service-unavailable', async () => {
    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
    clients.push(alice);
    const bob = `bob@${server.domain}`;
    for (const text of ['q-1', 'q-2', 'q-3', 'q-4']) alice.send(chat(bob, text));
    const bounce = await alice.next((el) => el.name === 'message' && el.attr('type') === 'error');
    expect(bounce.attr('id')).toBe('q-4');
    expect(errorCondition(bounce)).toBe('service-unavailable');
    expect(bounce.getChild('error')?.getChildText('text', NS.STANZAS)).toMatch(/3 stored messages/);
  });

  it('keeps the messages within the quota', async () => {
    const receiver = await TestClient.connect(server, { username: 'bob', password: PASSWORD, presence: true });
    clients.push(receiver);
    expect(bodies(await collectMessages(receiver, 3, 2000))).toEqual(['q-1', 'q-2', 'q-3']);
  });
});
