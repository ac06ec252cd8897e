import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { TestServer } from './support/server.js';
import { DOMAIN_A, DOMAIN_B, DomainClient, connectRawServerStream, s2sPortOf, startFederatedPair, startFederatedServer, type FederatedPair } from './support/s2s.js';

const BOB = `bob@${DOMAIN_B}`;

function chat(to: string, body: string): Element {
  return x('message', NS.CLIENT, { to, type: 'chat', id: body }, x('body', NS.CLIENT, {}, body));
}

function errorCondition(stanza: Element): string | undefined {
  return stanza.getChild('error')?.getChildByNs(NS.STANZAS)?.name;
}

function isErrorFor(id: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.attr('type') === 'error' && el.attr('id') === id;
}

/** Starts a TCP listener on 127.0.0.1 that accepts connections and never writes a byte. */
async function startSilentServer(): Promise<{ port: number; sockets: Socket[]; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Returns a port on 127.0.0.1 on which nothing listens (bound once, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('single federated server', () => {
  let a: TestServer | undefined;
  let silent: Awaited<ReturnType<typeof startSilentServer>> | undefined;

  afterEach(async () => {
    await a?.stop();
    await silent?.close();
    a = undefined;
    silent = undefined;
  });

  it('server that is down bounces with remote-server-not-found', async () => {
    a = await startFederatedServer(DOMAIN_A, { [DOMAIN_B]: `127.0.0.1:${await closedPort()}` });
    await a.createAccount('alice', 'secret-a');
    const alice = await DomainClient.connect(a, 'alice', 'secret-a');
    alice.send(chat(BOB, 'm1'));
    const bounce = await alice.next(isErrorFor('m1'), 10_000);
    expect(errorCondition(bounce)).toBe('remote-server-not-found');
    expect(bounce.attr('from')).toBe(BOB);
    await alice.close();
  });

  it('silent server bounces queued stanzas with remote-server-timeout', async () => {
    silent = await startSilentServer();
    a = await startFederatedServer(DOMAIN_A, { [DOMAIN_B]: `127.0.0.1:${silent.port}` }, { connect_timeout_s: 1 });
    await a.createAccount('alice', 'secret-a');
    const alice = await DomainClient.connect(a, 'alice', 'secret-a');
    const started = Date.now();
    for (const id of ['q1', 'q2', 'q3']) alice.send(chat(BOB, id));
    for (const id of ['q1', 'q2', 'q3']) expect(errorCondition(await alice.next(isErrorFor(id), 10_000))).toBe('remote-server-timeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(silent.sockets.length).toBe(1);

    // Right after the failure, a new stanza bounces at once instead of dialling again.
    const again = Date.now();
    alice.send(chat(BOB, 'q4'));
    expect(errorCondition(await alice.next(isErrorFor('q4'), 5000))).toBe('remote-server-timeout');
    expect(Date.now() - again).toBeLessThan(900);
    expect(silent.sockets.length).toBe(1);
    await alice.close();
  });

  it('full queue bounces with resource-constraint', async () => {
    silent = await startSilentServer();
    a = await startFederatedServer(DOMAIN_A, { [DOMAIN_B]: `127.0.0.1:${silent.port}` }, { connect_timeout_s: 2, max_queued: 2 });
    await a.createAccount('alice', 'secret-a');
    const alice = await DomainClient.connect(a, 'alice', 'secret-a');
    for (const id of ['f1', 'f2', 'f3']) alice.send(chat(BOB, id));
    expect(errorCondition(await alice.next(isErrorFor('f3'), 5000))).toBe('resource-constraint');
    expect(errorCondition(await alice.next(isErrorFor('f1'), 10_000))).toBe('remote-server-timeout');
    await alice.close();
  });

  it('denied domain bounces without a connection', async () => {
    silent = await startSilentServer();
    a = await startFederatedServer(DOMAIN_A, { [DOMAIN_B]: `127.0.0.1:${silent.port}` }, { deny_domains: [DOMAIN_B] });
    await a.createAccount('alice', 'secret-a');
    const alice = await DomainClient.connect(a, 'alice', 'secret-a');
    alice.send(chat(BOB, 'd1'));
    expect(errorCondition(await alice.next(isErrorFor('d1'), 5000))).toBe('remote-server-not-found');
    expect(silent.sockets.length).toBe(0);
    await alice.close();
  });

  it('domain outside allow_domains is rejected on incoming streams', async () => {
    a = await startFederatedServer(DOMAIN_A, {}, { allow_domains: ['partner.example.test'], allow_plaintext_on_loopback: true });
    const connection = await connectRawServerStream(s2sPortOf(a), DOMAIN_B, DOMAIN_A);
    expect(await connection.streamError()).toBe('policy-violation');
    connection.destroy();
  });

  it('unreadable ca_file stops the start', async () => {
    await expect(startFederatedServer(DOMAIN_A, {}, { ca_file: '/nonexistent/parley-ca.pem' })).rejects.toThrow(/s2s\.ca_file: cannot read \/nonexistent\/parley-ca\.pem/);
  });

  it('federation off bounces with remote-server-not-found', async () => {
    a = await startFederatedServer(DOMAIN_A, {}, { enabled: false });
    await a.createAccount('alice', 'secret-a');
    expect(a.server.addresses.s2s).toBeUndefined();
    const alice = await DomainClient.connect(a, 'alice', 'secret-a');
    alice.send(chat(BOB, 'o1'));
    expect(errorCondition(await alice.next(isErrorFor('o1'), 5000))).toBe('remote-server-not-found');
    await alice.close();
  });
});

describe('connection lifetime', () => {
  let pair: FederatedPair;

  beforeAll(async () => {
    pair = await startFederatedPair({ s2s: { idle_timeout_s: 1 } });
    await pair.a.createAccount('alice', 'secret-a');
    await pair.b.createAccount('bob', 'secret-b');
  });

  afterAll(async () => {
    await pair?.stop();
  });

  it('idle connection closes and reopens on demand', async () => {
    const alice = await DomainClient.connect(pair.a, 'alice', 'secret-a');
    const bob = await DomainClient.connect(pair.b, 'bob', 'secret-b', { presence: true });
    const pool = pair.a.server.federation!.pool;

    alice.send(chat(BOB, 'before idle'));
    await bob.next((el) => el.getChildText('body') === 'before idle', 10_000);
    const first = pool.get(DOMAIN_A, DOMAIN_B);
    expect(first?.isReady).toBe(true);

    await expect.poll(() => pool.get(DOMAIN_A, DOMAIN_B), { timeout: 5000, interval: 100 }).toBeUndefined();
    expect(first?.isOpen).toBe(false);

    alice.send(chat(BOB, 'after idle'));
    await bob.next((el) => el.getChildText('body') === 'after idle', 10_000);
    const second = pool.get(DOMAIN_A, DOMAIN_B);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    await alice.close();
    await bob.close();
  });

  it('stopped peer makes later stanzas bounce', async () => {
    const alice = await DomainClient.connect(pair.a, 'alice', 'secret-a');
    await pair.b.stop();
    alice.send(chat(BOB, 'p1'));
    expect(errorCondition(await alice.next(isErrorFor('p1'), 10_000))).toBe('remote-server-not-found');
    await alice.close();
  });
});
