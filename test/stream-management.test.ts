import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, JID, NS, serialize, x } from '@parley/xmpp';
import { type TestServer, startTestServer } from './support/server.js';
import { type ClientTransport, TestClient, bindResource, login, openClientStream } from './support/client.js';
import { type RawConnection, delay, streamErrorCondition } from './support/raw.js';

const PASSWORD = 'secret-pw';
const TOP = 2 ** 32;

/** What the tests need of a connection: a TestClient or a bare authenticated RawConnection. */
interface Peer {
  send(stanza: Element): void;
  next(predicate?: (el: Element) => boolean, timeoutMs?: number): Promise<Element>;
  nothing(predicate: (el: Element) => boolean, ms: number): Promise<void>;
}

function isSm(name: string): (el: Element) => boolean {
  return (el) => el.ns === NS.SM && el.name === name;
}

function isStanza(el: Element): boolean {
  return ['message', 'presence', 'iq'].includes(el.name) && el.ns === NS.CLIENT;
}

function isBodyMessage(el: Element): boolean {
  return el.name === 'message' && el.getChild('body', NS.CLIENT) !== undefined;
}

function chat(to: string, body: string): Element {
  return x('message', NS.CLIENT, { type: 'chat', to, id: body }, x('body', NS.CLIENT, {}, body));
}

function bodies(messages: Element[]): string[] {
  return messages.map((message) => message.getChildText('body', NS.CLIENT) ?? '');
}

function numbered(prefix: string, from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => `${prefix}-${from + i}`);
}

/** Collects `count` elements matching `predicate`, failing after `timeoutMs` in total. */
async function collect(peer: Peer, count: number, predicate: (el: Element) => boolean, timeoutMs = 3000): Promise<Element[]> {
  const deadline = Date.now() + timeoutMs;
  const received: Element[] = [];
  while (received.length < count) received.push(await peer.next(predicate, Math.max(1, deadline - Date.now())));
  return received;
}

/** Collects every stanza that arrives within `ms`. */
async function stanzasWithin(peer: Peer, ms: number): Promise<Element[]> {
  const deadline = Date.now() + ms;
  const received: Element[] = [];
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return received;
    try {
      received.push(await peer.next(isStanza, left));
    } catch {
      return received;
    }
  }
}

async function enable(peer: Peer, attrs: Record<string, string> = { resume: 'true' }): Promise<Element> {
  peer.send(x('enable', NS.SM, attrs));
  return peer.next((el) => el.ns === NS.SM && (el.name === 'enabled' || el.name === 'failed'));
}

/** Sends `<r/>` and returns the `h` of the server's `<a/>`. */
async function requestAck(peer: Peer): Promise<string | undefined> {
  peer.send(x('r', NS.SM));
  return (await peer.next(isSm('a'))).attr('h');
}

/** Sends `<resume/>` and returns `<resumed/>` or `<failed/>`. */
async function resume(peer: Peer, previd: string, h: number): Promise<Element> {
  peer.send(x('resume', NS.SM, { previd, h }));
  return peer.next((el) => el.ns === NS.SM && (el.name === 'resumed' || el.name === 'failed'), 5000);
}

describe('stream management', () => {
  let server: TestServer;
  const connections: RawConnection[] = [];
  let accountCount = 0;

  /** Creates fresh accounts, so that no session of an earlier test interferes. */
  async function accounts(...names: string[]): Promise<string[]> {
    accountCount++;
    const usernames = names.map((name) => `${name}${accountCount}`);
    for (const username of usernames) await server.createAccount(username, PASSWORD);
    return usernames;
  }

  async function connect(username: string, options: { presence?: boolean; transport?: ClientTransport; resource?: string } = {}): Promise<TestClient> {
    const client = await TestClient.connect(server, { username, password: PASSWORD, ...options });
    connections.push(client.connection);
    return client;
  }

  /** Opens a stream, authenticates and restarts it, without binding; resolves with the connection and features. */
  async function authenticate(username: string, transport: ClientTransport = 'starttls'): Promise<{ connection: RawConnection; features: Element }> {
    const { connection } = await openClientStream(server, transport);
    connections.push(connection);
    const outcome = await login(connection, 'SCRAM-SHA-256', username, PASSWORD);
    if (outcome.name !== 'success') throw new Error(`login of ${username} failed`);
    return { connection, features: await connection.openStream() };
  }

  /** Waits until the session of `jid` hibernates on the server. */
  async function waitForHibernation(jid: JID): Promise<void> {
    const deadline = Date.now() + 3000;
    while (!server.server.sessions.get(jid)?.hibernating) {
      if (Date.now() > deadline) throw new Error(`${jid.toString()} did not hibernate`);
      await delay(10);
    }
  }

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterEach(() => {
    for (const connection of connections.splice(0)) connection.destroy();
    server.server.resumableSessions.testCounterStart = 0;
  });

  afterAll(async () => {
    await server.stop();
  });

  describe('negotiation', () => {
    it('offers sm after authentication', async () => {
      const [alice] = await accounts('alice');
      const { features } = await authenticate(alice!);
      expect(features.getChild('sm', NS.SM)).toBeDefined();
    });

    it('refuses enable before binding', async () => {
      const [alice] = await accounts('alice');
      const { connection } = await authenticate(alice!);
      const answer = await enable(connection);
      expect(answer.getChild('unexpected-request', NS.STANZAS)).toBeDefined();
    });

    it('refuses a second enable', async () => {
      const [alice] = await accounts('alice');
      const client = await connect(alice!);
      await enable(client);
      const answer = await enable(client);
      expect(answer.name).toBe('failed');
    });

    it('gives a resumption id of at least 128 bits', async () => {
      const [alice] = await accounts('alice');
      const client = await connect(alice!);
      const enabled = await enable(client);
      expect(Buffer.from(enabled.attr('id') ?? '', 'base64url').length).toBeGreaterThanOrEqual(16);
    });

    it('announces the resumption timeout as max', async () => {
      const [alice] = await accounts('alice');
      const client = await connect(alice!);
      const enabled = await enable(client);
      expect(enabled.attr('max')).toBe('300');
    });
  });

  describe('counting', () => {
    it('answers h=0 before any stanza', async () => {
      const [alice] = await accounts('alice');
      const client = await connect(alice!);
      await enable(client, {});
      expect(await requestAck(client)).toBe('0');
    });

    it('counts only stanzas', async () => {
      const [alice] = await accounts('alice');
      const client = await connect(alice!);
      await enable(client, {});
      await requestAck(client);
      client.write(`<presence/> <a xmlns='${NS.SM}' h='0'/><r xmlns='${NS.SM}'/>`);
      expect((await client.next(isSm('a'))).attr('h')).toBe('1');
    });

    it('closes the stream on an h beyond what was sent', async () => {
      const [alice] = await accounts('alice');
      const client = await connect(alice!);
      await enable(client, {});
      await client.ping();
      await client.ping();
      client.send(x('a', NS.SM, { h: 5 }));
      const error = await client.next((el) => streamErrorCondition(el) !== undefined);
      expect(streamErrorCondition(error)).toBe('undefined-condition');
      const tooHigh = error.getChild('handled-count-too-high', NS.SM);
      expect(tooHigh?.attr('h')).toBe('5');
      expect(tooHigh?.attr('send-count')).toBe('2');
      await client.connection.waitForClose(2000);
    });

    it('asks for an ack after a batch of stanzas', async () => {
      const [alice] = await accounts('alice');
      const client = await connect(alice!);
      await enable(client, {});
      for (let i = 0; i < 10; i++) client.send(x('iq', NS.CLIENT, { type: 'get', id: `p${i}`, to: server.domain }, x('ping', NS.PING)));
      const request = await client.next(isSm('r'));
      expect(request.name).toBe('r');
    });

    it('drops acknowledged stanzas from the queue', async () => {
      const [alice] = await accounts('alice');
      const client = await connect(alice!);
      await enable(client, {});
      await client.ping();
      await client.ping();
      client.send(x('a', NS.SM, { h: 2 }));
      await requestAck(client);
      expect(server.server.sessions.get(client.jid)?.sm?.unackedCount).toBe(0);
    });
  });

  describe('resumption', () => {
    it('resends exactly what was not acknowledged', async () => {
      const [alice, bob] = await accounts('alice', 'bob');
      const aliceClient = await connect(alice!, { presence: true });
      const previd = (await enable(aliceClient)).attr('id')!;
      const bobClient = await connect(bob!);
      for (const body of numbered('m', 1, 10)) bobClient.send(chat(aliceClient.jid.toString(), body));
      await collect(aliceClient, 10, isBodyMessage);
      for (const body of numbered('to-bob', 1, 3)) aliceClient.send(chat(bobClient.jid.toString(), body));
      aliceClient.send(x('a', NS.SM, { h: 6 }));
      await requestAck(aliceClient);
      aliceClient.kill();
      await waitForHibernation(aliceClient.jid);

      const { connection } = await authenticate(alice!);
      const resumed = await resume(connection, previd, 6);
      expect(resumed.name).toBe('resumed');
      expect(resumed.attr('h')).toBe('3');
      expect(bodies(await stanzasWithin(connection, 800))).toEqual(numbered('m', 7, 10));
    });

    it('delivers what arrived while away exactly once', async () => {
      const [alice, bob] = await accounts('alice', 'bob');
      const aliceClient = await connect(alice!, { presence: true });
      const previd = (await enable(aliceClient)).attr('id')!;
      aliceClient.kill();
      await waitForHibernation(aliceClient.jid);
      const bobClient = await connect(bob!);
      for (const body of numbered('away', 1, 5)) bobClient.send(chat(`${alice}@${server.domain}`, body));
      await bobClient.ping();

      const { connection } = await authenticate(alice!);
      await resume(connection, previd, 0);
      expect(bodies(await stanzasWithin(connection, 800))).toEqual(numbered('away', 1, 5));
    });

    it('continues the same session', async () => {
      const [alice] = await accounts('alice');
      const aliceClient = await connect(alice!, { presence: true });
      const previd = (await enable(aliceClient)).attr('id')!;
      aliceClient.kill();
      await waitForHibernation(aliceClient.jid);
      const { connection } = await authenticate(alice!);
      await resume(connection, previd, 0);
      connection.send(x('iq', NS.CLIENT, { type: 'get', id: 'after-resume' }, x('query', NS.ROSTER)));
      const reply = await connection.next((el) => el.name === 'iq' && el.attr('id') === 'after-resume');
      expect(reply.attr('to')).toBe(aliceClient.jid.toString());
    });

    it('keeps presence while hibernating', async () => {
      const [alice] = await accounts('alice');
      const aliceClient = await connect(alice!, { presence: true });
      await enable(aliceClient);
      aliceClient.kill();
      await waitForHibernation(aliceClient.jid);
      expect(server.server.sessions.available(aliceClient.jid.bare())).toHaveLength(1);
    });

    it('takes over a connection that is still open', async () => {
      const [alice] = await accounts('alice');
      const aliceClient = await connect(alice!, { presence: true });
      const previd = (await enable(aliceClient)).attr('id')!;
      const { connection } = await authenticate(alice!);
      await resume(connection, previd, 0);
      expect(await aliceClient.streamError()).toBe('conflict');
    });

    it('resumes over WebSocket', async () => {
      const [alice, bob] = await accounts('alice', 'bob');
      const aliceClient = await connect(alice!, { presence: true, transport: 'websocket' });
      const previd = (await enable(aliceClient)).attr('id')!;
      aliceClient.kill();
      await waitForHibernation(aliceClient.jid);
      const bobClient = await connect(bob!);
      bobClient.send(chat(aliceClient.jid.toString(), 'over-ws'));
      await bobClient.ping();
      const { connection } = await authenticate(alice!, 'websocket');
      await resume(connection, previd, 0);
      expect(bodies(await collect(connection, 1, isBodyMessage))).toEqual(['over-ws']);
    });

    it('ends a cleanly closed session', async () => {
      const [alice] = await accounts('alice');
      const aliceClient = await connect(alice!, { presence: true });
      const previd = (await enable(aliceClient)).attr('id')!;
      await aliceClient.close();
      const { connection } = await authenticate(alice!);
      const failed = await resume(connection, previd, 0);
      expect(failed.getChild('item-not-found', NS.STANZAS)).toBeDefined();
    });

    it('fails with a wrong token', async () => {
      const [alice] = await accounts('alice');
      const { connection } = await authenticate(alice!);
      const failed = await resume(connection, 'no-such-token', 0);
      expect(failed.getChild('item-not-found', NS.STANZAS)).toBeDefined();
    });

    it('lets the client bind after a failed resume', async () => {
      const [alice] = await accounts('alice');
      const { connection } = await authenticate(alice!);
      await resume(connection, 'no-such-token', 0);
      expect((await bindResource(connection, 'phone')).resource).toBe('phone');
    });

    it('refuses a token to another account', async () => {
      const [alice, mallory] = await accounts('alice', 'mallory');
      const aliceClient = await connect(alice!, { presence: true });
      const previd = (await enable(aliceClient)).attr('id')!;
      aliceClient.kill();
      await waitForHibernation(aliceClient.jid);
      const { connection } = await authenticate(mallory!);
      const failed = await resume(connection, previd, 0);
      expect(failed.getChild('item-not-found', NS.STANZAS)).toBeDefined();
    });

    it('keeps the session after a stolen token failed', async () => {
      const [alice, mallory] = await accounts('alice', 'mallory');
      const aliceClient = await connect(alice!, { presence: true });
      const previd = (await enable(aliceClient)).attr('id')!;
      aliceClient.kill();
      await waitForHibernation(aliceClient.jid);
      await resume((await authenticate(mallory!)).connection, previd, 0);
      const { connection } = await authenticate(alice!);
      expect((await resume(connection, previd, 0)).name).toBe('resumed');
    });

    it('ends a hibernating session when the resource is bound again', async () => {
      const [alice] = await accounts('alice');
      const aliceClient = await connect(alice!, { presence: true, resource: 'phone' });
      const previd = (await enable(aliceClient)).attr('id')!;
      aliceClient.kill();
      await waitForHibernation(aliceClient.jid);
      await connect(alice!, { resource: 'phone' });
      const { connection } = await authenticate(alice!);
      expect((await resume(connection, previd, 0)).name).toBe('failed');
    });

    it('fails after a restart', async () => {
      const [alice] = await accounts('alice');
      const aliceClient = await connect(alice!, { presence: true });
      const previd = (await enable(aliceClient)).attr('id')!;
      await server.restart();
      const { connection } = await authenticate(alice!);
      expect((await resume(connection, previd, 0)).name).toBe('failed');
    });
  });

  describe('counter wrap', () => {
    it('counts across 2^32 both ways and resumes', async () => {
      server.server.resumableSessions.testCounterStart = TOP - 3;
      const [alice, bob] = await accounts('alice', 'bob');
      const aliceClient = await connect(alice!, { presence: true });
      const previd = (await enable(aliceClient)).attr('id')!;
      expect(await requestAck(aliceClient)).toBe(String(TOP - 3));

      const bobClient = await connect(bob!);
      for (const body of numbered('w', 1, 5)) bobClient.send(chat(aliceClient.jid.toString(), body));
      await collect(aliceClient, 5, isBodyMessage);
      for (const body of numbered('to-bob', 1, 4)) aliceClient.send(chat(bobClient.jid.toString(), body));
      expect(await requestAck(aliceClient)).toBe('1');

      aliceClient.send(x('a', NS.SM, { h: 0 }));
      await requestAck(aliceClient);
      aliceClient.kill();
      await waitForHibernation(aliceClient.jid);
      const { connection } = await authenticate(alice!);
      expect((await resume(connection, previd, 0)).attr('h')).toBe('1');
      expect(bodies(await stanzasWithin(connection, 800))).toEqual(['w-4', 'w-5']);
    });

    it('reports too-high with a wrapped send count', async () => {
      server.server.resumableSessions.testCounterStart = TOP - 1;
      const [alice] = await accounts('alice');
      const client = await connect(alice!);
      await enable(client, {});
      await client.ping();
      await client.ping();
      client.send(x('a', NS.SM, { h: 5 }));
      const error = await client.next((el) => streamErrorCondition(el) !== undefined);
      expect(error.getChild('handled-count-too-high', NS.SM)?.attr('send-count')).toBe('1');
    });
  });

  describe('durability', () => {
    it('never acknowledges ahead of offline storage', async () => {
      const [alice, bob] = await accounts('alice', 'bob');
      const client = await connect(alice!);
      await enable(client, {});
      const to = `${bob}@${server.domain}`;
      let burst = '';
      for (let i = 1; i <= 200; i++) {
        burst += serialize(chat(to, `d-${i}`), NS.CLIENT);
        if (i % 10 === 0) burst += `<r xmlns='${NS.SM}'/>`;
      }
      client.write(burst);
      const behind: string[] = [];
      for (let i = 0; i < 20; i++) {
        const h = Number((await client.next(isSm('a'), 10_000)).attr('h'));
        const stored = await server.server.storage.offline.count(server.domain, bob!);
        if (stored < h) behind.push(`h=${h} stored=${stored}`);
      }
      expect(behind).toEqual([]);
    });

    it('acknowledges the whole burst', async () => {
      const [alice, bob] = await accounts('alice', 'bob');
      const client = await connect(alice!);
      await enable(client, {});
      const to = `${bob}@${server.domain}`;
      client.write(numbered('e', 1, 50).map((body) => serialize(chat(to, body), NS.CLIENT)).join('') + `<r xmlns='${NS.SM}'/>`);
      expect((await client.next(isSm('a'), 10_000)).attr('h')).toBe('50');
    });

    it('routes on while a tracked write is pending', async () => {
      const [alice, bob] = await accounts('alice', 'bob');
      const gate = gateWrites(server, 'slow');
      try {
        const aliceClient = await connect(alice!);
        await enable(aliceClient, {});
        const bobClient = await connect(bob!);
        aliceClient.send(chat(bobClient.jid.toString(), 'slow'));
        aliceClient.send(chat(bobClient.jid.toString(), 'fast'));
        expect(bodies(await collect(bobClient, 2, isBodyMessage))).toEqual(['slow', 'fast']);
      } finally {
        gate.release();
      }
    });

    it('holds the ack until the tracked write resolves', async () => {
      const [alice, bob] = await accounts('alice', 'bob');
      const gate = gateWrites(server, 'slow');
      try {
        const aliceClient = await connect(alice!);
        await enable(aliceClient, {});
        aliceClient.send(chat(`${bob}@${server.domain}`, 'slow'));
        aliceClient.send(chat(`${bob}@${server.domain}`, 'fast'));
        aliceClient.send(x('r', NS.SM));
        await aliceClient.nothing(isSm('a'), 300);
        gate.resolve();
        expect((await aliceClient.next(isSm('a'))).attr('h')).toBe('2');
      } finally {
        gate.release();
      }
    });

    it('closes the stream when a tracked write fails', async () => {
      const [alice, bob] = await accounts('alice', 'bob');
      const gate = gateWrites(server, 'doomed');
      try {
        const aliceClient = await connect(alice!);
        await enable(aliceClient, {});
        aliceClient.send(chat(`${bob}@${server.domain}`, 'doomed'));
        gate.reject();
        expect(await aliceClient.streamError()).toBe('internal-server-error');
      } finally {
        gate.release();
      }
    });

    it('resumes without counting the failed stanza', async () => {
      const [alice, bob] = await accounts('alice', 'bob');
      const gate = gateWrites(server, 'doomed');
      try {
        const aliceClient = await connect(alice!, { presence: true });
        const previd = (await enable(aliceClient)).attr('id')!;
        aliceClient.send(chat(`${bob}@${server.domain}`, 'fine'));
        aliceClient.send(chat(`${bob}@${server.domain}`, 'doomed'));
        aliceClient.send(chat(`${bob}@${server.domain}`, 'after'));
        gate.reject();
        await aliceClient.streamError();
        const { connection } = await authenticate(alice!);
        expect((await resume(connection, previd, 0)).attr('h')).toBe('1');
      } finally {
        gate.release();
      }
    });
  });
});

describe('stream management limits', () => {
  let server: TestServer;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    server = await startTestServer({ sessions: { resume_timeout_s: 1, max_unacked: 10 } });
    for (const name of ['alice', 'bob', 'carol', 'dave']) await server.createAccount(name, PASSWORD);
  });

  afterEach(() => {
    for (const client of clients.splice(0)) client.kill();
  });

  afterAll(async () => {
    await server.stop();
  });

  async function connect(username: string, presence = false): Promise<TestClient> {
    const client = await TestClient.connect(server, { username, password: PASSWORD, presence });
    clients.push(client);
    return client;
  }

  it('stores unacknowledged messages offline after the timeout', async () => {
    const alice = await connect('alice', true);
    const previd = (await enable(alice)).attr('id')!;
    const bob = await connect('bob');
    for (const body of numbered('t', 1, 3)) bob.send(chat(alice.jid.toString(), body));
    await collect(alice, 3, isBodyMessage);
    alice.send(x('a', NS.SM, { h: 1 }));
    await requestAck(alice);
    alice.kill();
    await delay(1500);

    const { connection } = await openClientStream(server, 'starttls');
    await login(connection, 'SCRAM-SHA-256', 'alice', PASSWORD);
    await connection.openStream();
    const failed = await resume(connection, previd, 0);
    expect(failed.getChild('item-not-found', NS.STANZAS)).toBeDefined();
    expect(failed.attr('h')).toBe('0');

    await bindResource(connection);
    connection.send(x('presence', NS.CLIENT));
    const stored = await stanzasWithin(connection, 1000);
    connection.destroy();
    expect(bodies(stored.filter(isBodyMessage))).toEqual(['t-2', 't-3']);
    expect(stored.filter(isBodyMessage).every((message) => message.getChild('delay', NS.DELAY) !== undefined)).toBe(true);
  });

  it('closes a session with too many unacknowledged stanzas', async () => {
    const carol = await connect('carol', true);
    await enable(carol, {});
    const bob = await connect('bob');
    for (const body of numbered('flood', 1, 11)) bob.send(chat(carol.jid.toString(), body));
    expect(await carol.streamError()).toBe('policy-violation');
  });

  it('stores the flood offline', async () => {
    const dave = await connect('dave', true);
    await enable(dave, {});
    const bob = await connect('bob');
    for (const body of numbered('flood', 1, 11)) bob.send(chat(dave.jid.toString(), body));
    await dave.streamError();
    await waitFor(async () => (await server.server.storage.offline.count(server.domain, 'dave')) === 11);
    expect(await server.server.storage.offline.count(server.domain, 'dave')).toBe(11);
  });
});

/**
 * Makes messages with body `body` register a durable write that the test resolves or
 * rejects, through the hook an archive uses. `release` removes the hook and resolves the write.
 */
function gateWrites(server: TestServer, body: string) {
  let resolveWrite!: () => void;
  let rejectWrite!: (err: Error) => void;
  const write = new Promise<void>((resolve, reject) => {
    resolveWrite = resolve;
    rejectWrite = reject;
  });
  // The sessions attach their own handlers; this one keeps a rejection from counting as unhandled meanwhile.
  write.catch(() => undefined);
  const remove = server.server.hooks.on(
    'message/outbound',
    ({ stanza, session }) => {
      if (stanza.getChildText('body', NS.CLIENT) === body) session.trackWrite(write);
    },
    { priority: 1000, owner: 'test' },
  );
  return {
    resolve: () => resolveWrite(),
    reject: () => rejectWrite(new Error('simulated storage failure')),
    release: () => {
      remove();
      resolveWrite();
    },
  };
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await delay(20);
  }
}
