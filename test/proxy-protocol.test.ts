/**
 * Client addresses behind a load balancer: the PROXY protocol on the client ports and
 * X-Forwarded-For on the HTTP listener, from a trusted peer (127.0.0.1) and from an
 * untrusted one (127.0.0.2, also a loopback address). 203.0.113.7 and 198.51.100.9 are
 * documentation addresses that only appear inside headers.
 */
import { randomBytes } from 'node:crypto';
import { type Server, type Socket, connect as connectTcp, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientOptions, WebSocket } from 'ws';
import { type Element, JID, NS, parseFrame, serialize, x } from '@parley/xmpp';
import { type AdminApi, startAdminApi } from './support/admin-api.js';
import { parseResponse, requestBody } from './support/bosh-client.js';
import { authElement, bindResource, loginPlain, offeredMechanisms, plainMessage, saslFailureCondition } from './support/client.js';
import { RawConnection, TEST_DOMAIN, withTimeout } from './support/raw.js';

const CLIENT = '203.0.113.7';
const OTHER_CLIENT = '198.51.100.9';
const UNTRUSTED_PEER = '127.0.0.2';
const PASSWORD = 'proxy-pass-1';
const STREAM_OPEN = `<?xml version='1.0'?><stream:stream to='${TEST_DOMAIN}' version='1.0' xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAM}'>`;

let api: AdminApi;

beforeAll(async () => {
  api = await startAdminApi({ listen: { proxy_protocol_from: ['127.0.0.1'] }, http: { trusted_proxies: ['127.0.0.1'] } });
  for (const user of ['alice', 'bob', 'carol', 'dave']) await api.server.createAccount(user, PASSWORD);
});

afterAll(async () => {
  await api?.stop();
});

/** Builds a v1 line for a TCP4 client at `source`. */
function proxyV1(source: string): Buffer {
  return Buffer.from(`PROXY TCP4 ${source} 127.0.0.1 40000 5222\r\n`);
}

/** Builds a v2 PROXY header for a TCP over IPv4 client at `source`, or a LOCAL header. */
function proxyV2(source: string | 'local'): Buffer {
  const fixed = Buffer.from('0d0a0d0a000d0a515549540a0000000c', 'hex');
  if (source === 'local') return Buffer.concat([fixed.subarray(0, 12), Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  fixed[12] = 0x21;
  fixed[13] = 0x11;
  const block = Buffer.from([...source.split('.').map(Number), 127, 0, 0, 1, 0x9c, 0x40, 0x14, 0x66]);
  return Buffer.concat([fixed, block]);
}

/** Fetches the admin API's session list, as full JID to reported address. */
async function sessionAddresses(): Promise<Map<string, string>> {
  const response = await api.request('GET', '/sessions');
  expect(response.status).toBe(200);
  return new Map((response.body.items as { jid: string; ip: string }[]).map((item) => [item.jid, item.ip]));
}

/** After the stream header: STARTTLS, PLAIN over TLS, binding. Returns the full JID. */
async function loginOverStartTls(connection: RawConnection, user: string): Promise<JID> {
  await connection.startTls();
  await connection.openStream();
  expect((await loginPlain(connection, user, PASSWORD)).name).toBe('success');
  await connection.openStream();
  return bindResource(connection);
}

/** Waits until the server closes `connection`, which must happen without any stream from it. */
async function expectClosedUnanswered(connection: RawConnection): Promise<void> {
  await connection.waitForClose(8000);
  expect(connection.header).toBeUndefined();
  expect(connection.receivedText()).toBe('');
}

describe('PROXY protocol from a trusted balancer', () => {
  it('takes the client address from a v2 header, with no loopback relief', async () => {
    const connection = await RawConnection.tcp(api.server.c2sPort);
    try {
      connection.write(proxyV2(CLIENT));
      const features = await connection.openStream();
      // A loopback client may log in without TLS here (allow_plaintext_on_loopback); this one may not.
      expect(features.getChild('starttls', NS.TLS)?.getChild('required', NS.TLS)).toBeDefined();
      expect(offeredMechanisms(features)).toEqual([]);
      connection.send(authElement('PLAIN', plainMessage('alice', PASSWORD)));
      const reply = await connection.next((el) => el.ns === NS.SASL || el.ns === NS.STREAM);
      expect(saslFailureCondition(reply) ?? reply.toString()).toBe('encryption-required');

      const jid = await loginOverStartTls(connection, 'alice');
      expect((await sessionAddresses()).get(jid.toString())).toBe(CLIENT);
    } finally {
      connection.destroy();
    }
  });

  it('reads a v1 header sent with the stream header', async () => {
    const connection = await RawConnection.tcp(api.server.c2sPort);
    try {
      connection.write(Buffer.concat([proxyV1(OTHER_CLIENT), Buffer.from(STREAM_OPEN)]));
      const features = await connection.next((el) => el.name === 'features' && el.ns === NS.STREAM);
      expect(offeredMechanisms(features)).toEqual([]);
      const jid = await loginOverStartTls(connection, 'bob');
      expect((await sessionAddresses()).get(jid.toString())).toBe(OTHER_CLIENT);
    } finally {
      connection.destroy();
    }
  });

  it('keeps loopback rules for loopback and LOCAL', async () => {
    for (const header of [proxyV1('127.0.0.1'), proxyV2('local')]) {
      const connection = await RawConnection.tcp(api.server.c2sPort);
      connection.write(header);
      expect(offeredMechanisms(await connection.openStream())).toContain('PLAIN');
      connection.destroy();
    }
  });

  it('reads the header before the TLS handshake on the direct TLS port', async () => {
    const balancer = await startBalancer(api.server.c2sTlsPort, proxyV2(CLIENT));
    const connection = await RawConnection.tcp(balancer.port, { tls: {} });
    try {
      const features = await connection.openStream();
      expect(offeredMechanisms(features)).toContain('PLAIN');
      expect((await loginPlain(connection, 'carol', PASSWORD)).name).toBe('success');
      await connection.openStream();
      const jid = await bindResource(connection);
      expect((await sessionAddresses()).get(jid.toString())).toBe(CLIENT);
    } finally {
      connection.destroy();
      await balancer.close();
    }
  });

  it('closes a connection that starts without a header', async () => {
    const connection = await RawConnection.tcp(api.server.c2sPort);
    connection.writeStreamHeader();
    await expectClosedUnanswered(connection);
  });

  it('closes connections that send garbage or an oversized header', async () => {
    const oversizedV2 = Buffer.concat([proxyV2(CLIENT).subarray(0, 14), Buffer.from([0xff, 0xff]), randomBytes(3000)]);
    const inputs = [randomBytes(64), Buffer.from('PROXY TCP4 ' + '1'.repeat(300) + '\r\n'), oversizedV2, Buffer.from('PROXY TCP4 203.0.113.7 127.0.0.1 99999 5222\r\n')];
    for (const input of inputs) {
      const connection = await RawConnection.tcp(api.server.c2sPort);
      connection.write(input);
      await expectClosedUnanswered(connection);
    }
  });

  it('closes a connection whose header does not arrive within 5 s', async () => {
    const connection = await RawConnection.tcp(api.server.c2sPort);
    connection.write(proxyV2(CLIENT).subarray(0, 20));
    const started = Date.now();
    await expectClosedUnanswered(connection);
    expect(Date.now() - started).toBeGreaterThan(4000);
  }, 15_000);

  it('still serves clients after all that', async () => {
    const connection = await RawConnection.tcp(api.server.c2sPort);
    try {
      connection.write(proxyV2(CLIENT));
      await connection.openStream();
      const jid = await loginOverStartTls(connection, 'dave');
      expect((await sessionAddresses()).get(jid.toString())).toBe(CLIENT);
    } finally {
      connection.destroy();
    }
  });
});

describe('PROXY protocol from an untrusted address', () => {
  it('serves a connection without a header directly', async () => {
    const socket = await openFrom(UNTRUSTED_PEER, api.server.c2sPort);
    let received = '';
    const features = new Promise<void>((resolve) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('utf8');
        if (received.includes('</stream:features>')) resolve();
      });
    });
    socket.write(STREAM_OPEN);
    try {
      await withTimeout(features, 5000, 'the server sent no stream features');
      // 127.0.0.2 is a loopback address, so PLAIN is offered before TLS.
      expect(received).toContain('<mechanism>PLAIN</mechanism>');
    } finally {
      socket.destroy();
    }
  });

  it('treats the connection as direct and its header as bad XML', async () => {
    const socket = await openFrom(UNTRUSTED_PEER, api.server.c2sPort);
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(Buffer.concat([proxyV1(CLIENT), Buffer.from(STREAM_OPEN)]));
    await withTimeout(closed, 5000, 'the server did not close the connection');
    expect(received).toContain('not-well-formed');
  });
});

describe('X-Forwarded-For from a trusted proxy', () => {
  it('gives a WebSocket session the right-most untrusted address', async () => {
    const forwarded = `127.0.0.5, ${CLIENT}, 127.0.0.1`;
    const client = await WsClient.open(`wss://127.0.0.1:${api.server.httpsPort}/xmpp-websocket`, { headers: { 'x-forwarded-for': forwarded } });
    try {
      const jid = await client.login('alice');
      expect((await sessionAddresses()).get(jid.toString())).toBe(CLIENT);
    } finally {
      client.close();
    }
  });

  it('gives no loopback relief to a forwarded client over plain HTTP', async () => {
    const forwarded = await WsClient.open(wsUrl(), { headers: { 'x-forwarded-for': CLIENT } });
    const direct = await WsClient.open(wsUrl());
    try {
      expect(offeredMechanisms(await forwarded.openStream())).toEqual([]);
      expect(offeredMechanisms(await direct.openStream())).toContain('PLAIN');
    } finally {
      forwarded.close();
      direct.close();
    }
  });

  it('gives no loopback relief to a forwarded BOSH client', async () => {
    const forwarded = await boshFeatures({ 'x-forwarded-for': CLIENT });
    const direct = await boshFeatures({});
    expect(offeredMechanisms(forwarded)).toEqual([]);
    expect(offeredMechanisms(direct)).toContain('PLAIN');
  });

  it('requires HTTPS for registration by a forwarded client', async () => {
    const body = JSON.stringify({ username: 'erin', password: PASSWORD });
    const forwarded = await fetch(`${api.url}/registration`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': CLIENT }, body });
    expect(forwarded.status).toBe(403);
    const direct = await fetch(`${api.url}/registration`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(direct.status).toBe(201);
  });
});

describe('X-Forwarded-For from an untrusted peer', () => {
  it('is ignored', async () => {
    const client = await WsClient.open(`wss://127.0.0.1:${api.server.httpsPort}/xmpp-websocket`, {
      headers: { 'x-forwarded-for': CLIENT },
      localAddress: UNTRUSTED_PEER,
    });
    try {
      const jid = await client.login('bob');
      expect((await sessionAddresses()).get(jid.toString())).toBe(UNTRUSTED_PEER);
    } finally {
      client.close();
    }
  });
});

function wsUrl(): string {
  return `ws://127.0.0.1:${api.server.httpPort}/xmpp-websocket`;
}

/** Creates a BOSH session with `headers` and returns the stream features of its creation response. */
async function boshFeatures(headers: Record<string, string>): Promise<Element> {
  const create = requestBody({ rid: 1000, to: TEST_DOMAIN, wait: 1, hold: 1, 'xmpp:version': '1.0', 'xml:lang': 'en' });
  const url = `http://127.0.0.1:${api.server.httpPort}/http-bind`;
  const post = async (text: string) => (await fetch(url, { method: 'POST', headers: { 'content-type': 'text/xml', ...headers }, body: text, signal: AbortSignal.timeout(5000) })).text();
  const creation = parseResponse(await post(create));
  const features = creation.getChild('features', NS.STREAM);
  if (!features) throw new Error(`no stream features in ${creation.toString()}`);
  await post(requestBody({ sid: creation.attr('sid') ?? '', rid: 1001, type: 'terminate' }));
  return features;
}

/** Opens a TCP connection to 127.0.0.1:`port` from the local address `from`. */
function openFrom(from: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: '127.0.0.1', port, localAddress: from });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Starts a stand-in for HAProxy's `send-proxy-v2` in TCP mode. For each client it connects to
 * `target` and writes `header` together with the client's first bytes (a TLS ClientHello), so
 * that both reach the server in one segment. Then it relays both ways.
 */
async function startBalancer(target: number, header: Buffer): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('close', () => sockets.delete(socket));
  };
  const server: Server = createServer((client) => {
    track(client);
    client.once('data', (first: Buffer) => {
      client.pause();
      const upstream = connectTcp({ host: '127.0.0.1', port: target }, () => {
        upstream.write(Buffer.concat([header, first]));
        client.pipe(upstream).pipe(client);
      });
      track(upstream);
      upstream.once('close', () => client.destroy());
      client.once('close', () => upstream.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** An XMPP client over a WebSocket (RFC 7395) whose connection options the test sets. */
class WsClient {
  private readonly unread: Element[] = [];
  private readonly waiters = new Set<{ predicate: (el: Element) => boolean; resolve(el: Element): void }>();

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => this.receive(parseFrame(data.toString('utf8'), { maxStanzaBytes: 1 << 24 })));
  }

  static async open(url: string, options: ClientOptions = {}): Promise<WsClient> {
    const socket = new WebSocket(url, ['xmpp'], { rejectUnauthorized: false, ...options });
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      }),
      5000,
      'the WebSocket did not open',
    );
    return new WsClient(socket);
  }

  send(el: Element): void {
    this.socket.send(serialize(el, ''));
  }

  /** Opens (or restarts) the stream and resolves with the features. */
  openStream(): Promise<Element> {
    const features = this.next((el) => el.name === 'features' && el.ns === NS.STREAM);
    this.send(x('open', NS.FRAMING, { to: TEST_DOMAIN, version: '1.0' }));
    return features;
  }

  /** Logs in with PLAIN and binds a resource; returns the full JID. */
  async login(user: string): Promise<JID> {
    await this.openStream();
    this.send(authElement('PLAIN', plainMessage(user, PASSWORD)));
    const outcome = await this.next((el) => el.ns === NS.SASL && (el.name === 'success' || el.name === 'failure'));
    if (outcome.name !== 'success') throw new Error(`login of ${user} failed: ${outcome.toString()}`);
    await this.openStream();
    const bound = this.next((el) => el.name === 'iq' && el.attr('id') === 'bind');
    this.send(x('iq', NS.CLIENT, { type: 'set', id: 'bind' }, x('bind', NS.BIND)));
    return JID.parse((await bound).getChild('bind', NS.BIND)?.getChildText('jid', NS.BIND) ?? '');
  }

  next(predicate: (el: Element) => boolean, timeoutMs = 5000): Promise<Element> {
    const index = this.unread.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.unread.splice(index, 1)[0]!);
    const waiter = { predicate, resolve: (_el: Element) => undefined as void };
    const arrived = new Promise<Element>((resolve) => {
      waiter.resolve = resolve;
      this.waiters.add(waiter);
    });
    return withTimeout(arrived, timeoutMs, `no element matching ${predicate.toString()}`).finally(() => this.waiters.delete(waiter));
  }

  close(): void {
    this.socket.terminate();
  }

  private receive(el: Element): void {
    for (const waiter of this.waiters) {
      if (!waiter.predicate(el)) continue;
      this.waiters.delete(waiter);
      waiter.resolve(el);
      return;
    }
    this.unread.push(el);
  }
}
