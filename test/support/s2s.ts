import { type Element, JID, NS, x } from '@parley/xmpp';
import { bindResource, login } from './client.js';
import { RawConnection } from './raw.js';
import { startTestServer, type TestServer } from './server.js';

export const DOMAIN_A = 'a.example.test';
export const DOMAIN_B = 'b.example.test';
const DIALBACK = 'jabber:server:dialback';
/** Subdomain services a test server runs by default. */
const SERVICES = ['conference', 'upload', 'directory'];

/** Two servers that federate with each other on 127.0.0.1. */
export interface FederatedPair {
  a: TestServer;
  b: TestServer;
  stop(): Promise<void>;
}

/**
 * Starts a.example.test and b.example.test with `[s2s]` enabled and each one's hosts map
 * pointing at the other's s2s port on 127.0.0.1, so no DNS lookup ever happens. `s2s` is
 * merged into both `[s2s]` sections; `a` and `b` are further overrides per server.
 */
export async function startFederatedPair(
  options: { s2s?: Record<string, unknown>; a?: Record<string, unknown>; b?: Record<string, unknown> } = {},
): Promise<FederatedPair> {
  const a = await startFederatedServer(DOMAIN_A, {}, options.s2s, options.a);
  let b: TestServer;
  try {
    b = await startFederatedServer(DOMAIN_B, { [DOMAIN_A]: `127.0.0.1:${s2sPortOf(a)}` }, options.s2s, options.b);
  } catch (err) {
    await a.stop();
    throw err;
  }
  a.server.config.s2s.hosts[DOMAIN_B] = `127.0.0.1:${s2sPortOf(b)}`;
  // Subdomain services take part in federation too; these entries keep their lookups off DNS.
  for (const service of SERVICES) {
    a.server.config.s2s.hosts[`${service}.${DOMAIN_B}`] = `127.0.0.1:${s2sPortOf(b)}`;
    b.server.config.s2s.hosts[`${service}.${DOMAIN_A}`] = `127.0.0.1:${s2sPortOf(a)}`;
  }
  return {
    a,
    b,
    async stop() {
      await Promise.all([a.stop(), b.stop()]);
    },
  };
}

/** Starts one server for `domain` with federation on and the given hosts map. */
export async function startFederatedServer(
  domain: string,
  hosts: Record<string, string>,
  s2s: Record<string, unknown> = {},
  overrides: Record<string, unknown> = {},
): Promise<TestServer> {
  const ownS2s = (overrides.s2s ?? {}) as Record<string, unknown>;
  const server = await startTestServer({
    ...overrides,
    domain,
    listen: { s2s_port: 0, ...((overrides.listen ?? {}) as Record<string, unknown>) },
    s2s: { enabled: true, connect_timeout_s: 5, ...s2s, ...ownS2s, hosts: { ...hosts, ...((ownS2s.hosts ?? {}) as Record<string, string>) } },
  });
  forbidDns(server);
  return server;
}

/**
 * Makes every domain outside the hosts map fail to resolve, so that a test that reaches an
 * unexpected domain fails with remote-server-not-found instead of querying real DNS.
 */
function forbidDns(server: TestServer): void {
  const resolver = server.server.federation?.resolver;
  if (!resolver) return;
  const resolve = resolver.resolve.bind(resolver);
  resolver.resolve = async (domain: string) => {
    const hosts = Object.keys(server.server.config.s2s.hosts).map((name) => name.toLowerCase());
    if (!hosts.includes(domain)) throw new Error(`${domain} is not in the test hosts map, and tests never query DNS`);
    return resolve(domain);
  };
}

/** Returns the s2s port the server listens on. */
export function s2sPortOf(server: TestServer): number {
  const port = server.server.addresses.s2s;
  if (port === undefined) throw new Error(`${server.domain} does not listen for server-to-server streams`);
  return port;
}

let nextIqId = 1;

/** A logged-in client of a server whose domain is not the default test domain. */
export class DomainClient {
  private constructor(
    readonly connection: RawConnection,
    readonly jid: JID,
  ) {}

  /** Connects without TLS (loopback), logs in with SCRAM-SHA-256, binds and, if asked, sends initial presence. */
  static async connect(server: TestServer, username: string, password: string, options: { resource?: string; presence?: boolean } = {}): Promise<DomainClient> {
    const connection = await RawConnection.tcp(server.c2sPort);
    try {
      const header = { to: server.domain, version: '1.0' };
      await connection.openStream(header);
      const outcome = await login(connection, 'SCRAM-SHA-256', username, password);
      if (outcome.name !== 'success') throw new Error(`login of ${username}@${server.domain} failed: ${outcome.toString()}`);
      await connection.openStream(header);
      const client = new DomainClient(connection, await bindResource(connection, options.resource));
      if (options.presence) await client.sendInitialPresence();
      return client;
    } catch (err) {
      connection.destroy();
      throw err;
    }
  }

  send(stanza: Element): void {
    this.connection.send(stanza);
  }

  next(predicate?: (el: Element) => boolean, timeoutMs = 5000): Promise<Element> {
    return this.connection.next(predicate, timeoutMs);
  }

  nothing(predicate: (el: Element) => boolean, ms: number): Promise<void> {
    return this.connection.nothing(predicate, ms);
  }

  /** Sends an IQ (adding an id) and resolves with its result or error. */
  iq(stanza: Element, timeoutMs = 10_000): Promise<Element> {
    if (stanza.attr('id') === undefined) stanza.setAttr('id', `s2s-iq-${nextIqId++}`);
    const id = stanza.attr('id');
    const reply = this.next((el) => el.name === 'iq' && el.attr('id') === id && (el.attr('type') === 'result' || el.attr('type') === 'error'), timeoutMs);
    this.send(stanza);
    return reply;
  }

  async close(): Promise<void> {
    if (this.connection.isClosed) return;
    this.connection.write('</stream:stream>');
    await this.connection.waitForStreamEnd(2000).catch(() => undefined);
    this.connection.end();
    await this.connection.waitForClose(2000).catch(() => this.connection.destroy());
  }

  private async sendInitialPresence(): Promise<void> {
    const own = this.jid.toString();
    const echo = this.next((el) => el.name === 'presence' && el.attr('from') === own && el.attr('type') === undefined, 5000);
    this.send(x('presence', NS.CLIENT));
    await echo;
  }
}

/**
 * Opens a hand-driven server-to-server connection to `port` on 127.0.0.1, for tests that play
 * a misbehaving peer: a jabber:server stream from `from` to `to`. Returns it with the features.
 */
export async function openRawServerStream(port: number, from: string, to: string): Promise<{ connection: RawConnection; features: Element }> {
  const connection = await connectRawServerStream(port, from, to);
  const features = await connection.next((el) => el.name === 'features' && el.ns === NS.STREAM, 5000);
  return { connection, features };
}

/** Connects to `port` on 127.0.0.1 and writes a stream header, without waiting for the reply. */
export async function connectRawServerStream(port: number, from: string, to: string, namespace: string = NS.SERVER): Promise<RawConnection> {
  const connection = await RawConnection.tcp(port);
  connection.write(`<?xml version='1.0'?><stream:stream xmlns='${namespace}' xmlns:stream='${NS.STREAM}' xmlns:db='${DIALBACK}' from='${from}' to='${to}' version='1.0'>`);
  return connection;
}

/** Builds `<db:result/>` or `<db:verify/>` (XEP-0220). */
export function dialbackElement(name: 'result' | 'verify', attrs: Record<string, string>, key?: string): Element {
  return x(name, DIALBACK, attrs, key);
}
