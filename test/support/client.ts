import type { ConnectionOptions } from 'node:tls';
import { type Element, JID, NS, x } from '@parley/xmpp';
import { RawConnection } from './raw.js';
import { ScramClient, type ScramHashName } from './scram-client.js';
import type { TestServer } from './server.js';

/** How a test client reaches the server. */
export type ClientTransport = 'starttls' | 'tls' | 'websocket' | 'plain';

/** The SASL mechanisms TestClient can log in with. */
export type LoginMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-1' | 'PLAIN';

export interface ConnectOptions {
  username: string;
  password: string;
  resource?: string;
  /** Default 'starttls': TCP to c2sPort, then STARTTLS. */
  transport?: ClientTransport;
  /** Sends initial presence and waits for the server's echo of it. */
  presence?: boolean;
  /** Default SCRAM-SHA-256. */
  mechanism?: LoginMechanism;
}

/** Returns the `ws://` URL of the server's XMPP WebSocket endpoint. */
export function webSocketUrl(server: TestServer): string {
  return `ws://127.0.0.1:${server.httpPort}/xmpp-websocket`;
}

/**
 * Connects over `transport` and negotiates up to SASL: opens the stream and, for
 * 'starttls', upgrades to TLS and restarts it. Returns the connection and the
 * features that offer the SASL mechanisms.
 */
export async function openClientStream(
  server: TestServer,
  transport: ClientTransport,
  tlsOptions: ConnectionOptions = {},
): Promise<{ connection: RawConnection; features: Element }> {
  let connection: RawConnection;
  if (transport === 'websocket') connection = await RawConnection.websocket(webSocketUrl(server));
  else if (transport === 'tls') connection = await RawConnection.tcp(server.c2sTlsPort, { tls: tlsOptions });
  else connection = await RawConnection.tcp(server.c2sPort);

  let features = await connection.openStream();
  if (transport === 'starttls') {
    if (!features.getChild('starttls', NS.TLS)) throw new Error('the server did not offer STARTTLS');
    await connection.startTls(tlsOptions);
    features = await connection.openStream();
  }
  return { connection, features };
}

/** Returns the mechanism names in a `<stream:features/>` element. */
export function offeredMechanisms(features: Element): string[] {
  const mechanisms = features.getChild('mechanisms', NS.SASL);
  return mechanisms ? mechanisms.getChildren('mechanism', NS.SASL).map((el) => el.text()) : [];
}

/** Returns the condition of a SASL `<failure/>`, or undefined for any other element. */
export function saslFailureCondition(el: Element): string | undefined {
  if (el.name !== 'failure' || el.ns !== NS.SASL) return undefined;
  return el.elements().find((child) => child.name !== 'text')?.name;
}

/** Builds `<auth/>` with a base64 initial response ('=' for an empty one); a string is sent as it is. */
export function authElement(mechanism: string, payload: Buffer | string): Element {
  if (typeof payload === 'string') return x('auth', NS.SASL, { mechanism }, payload);
  return x('auth', NS.SASL, { mechanism }, payload.length === 0 ? '=' : payload.toString('base64'));
}

/** Builds the SASL PLAIN message (RFC 4616): authzid NUL authcid NUL password, in UTF-8. */
export function plainMessage(username: string, password: string, authzid = ''): Buffer {
  return Buffer.from(`${authzid}\0${username}\0${password}`, 'utf8');
}

/** Waits for the end of a SASL exchange step: `<challenge/>`, `<success/>` or `<failure/>`. */
export function nextSaslStep(connection: RawConnection, timeoutMs = 5000): Promise<Element> {
  return connection.next((el) => el.ns === NS.SASL && ['challenge', 'success', 'failure'].includes(el.name), timeoutMs);
}

/** Runs SASL PLAIN and returns `<success/>` or `<failure/>`. */
export async function loginPlain(connection: RawConnection, username: string, password: string): Promise<Element> {
  connection.send(authElement('PLAIN', plainMessage(username, password)));
  return nextSaslStep(connection);
}

/**
 * Runs a SCRAM exchange and returns the final `<success/>` or `<failure/>`, and the
 * client-final-message sent (undefined when the server failed the first step).
 * Throws when a `<success/>` carries a wrong server signature.
 */
export async function loginScram(connection: RawConnection, scram: ScramClient): Promise<{ outcome: Element; clientFinal?: Buffer }> {
  connection.send(authElement(scram.mechanism, scram.clientFirst()));
  const challenge = await nextSaslStep(connection);
  if (challenge.name !== 'challenge') return { outcome: challenge };

  const clientFinal = scram.clientFinal(Buffer.from(challenge.text(), 'base64'));
  connection.send(x('response', NS.SASL, {}, clientFinal.toString('base64')));
  const outcome = await nextSaslStep(connection);
  if (outcome.name === 'success' && !scram.verifyServerFinal(Buffer.from(outcome.text(), 'base64'))) {
    throw new Error('the server signature in <success/> is wrong');
  }
  return { outcome, clientFinal };
}

/** Logs in with `mechanism` and returns `<success/>` or `<failure/>`. */
export async function login(connection: RawConnection, mechanism: LoginMechanism, username: string, password: string): Promise<Element> {
  if (mechanism === 'PLAIN') return loginPlain(connection, username, password);
  const hash: ScramHashName = mechanism === 'SCRAM-SHA-1' ? 'SHA-1' : 'SHA-256';
  return (await loginScram(connection, new ScramClient({ hash, username, password }))).outcome;
}

/** Binds a resource on an authenticated, restarted stream and returns the full JID. */
export async function bindResource(connection: RawConnection, resource?: string): Promise<JID> {
  const bind = x('bind', NS.BIND, {}, resource === undefined ? undefined : x('resource', NS.BIND, {}, resource));
  connection.send(x('iq', NS.CLIENT, { type: 'set', id: 'bind-1' }, bind));
  const reply = await connection.next((el) => el.name === 'iq' && el.attr('id') === 'bind-1', 5000);
  const full = reply.getChild('bind', NS.BIND)?.getChildText('jid', NS.BIND);
  if (reply.attr('type') !== 'result' || full === undefined) throw new Error(`resource binding failed: ${reply.toString()}`);
  return JID.parse(full);
}

let nextIqId = 1;

/** A logged-in client with a bound resource, over a real socket. */
export class TestClient {
  private constructor(
    readonly connection: RawConnection,
    readonly jid: JID,
  ) {}

  /** Connects, authenticates, binds a resource and, if asked, sends initial presence. */
  static async connect(server: TestServer, options: ConnectOptions): Promise<TestClient> {
    const { connection } = await openClientStream(server, options.transport ?? 'starttls');
    try {
      const outcome = await login(connection, options.mechanism ?? 'SCRAM-SHA-256', options.username, options.password);
      if (outcome.name !== 'success') throw new Error(`login of ${options.username} failed: ${outcome.toString()}`);

      await connection.openStream();
      const client = new TestClient(connection, await bindResource(connection, options.resource));
      if (options.presence) await client.sendInitialPresence();
      return client;
    } catch (err) {
      connection.destroy();
      throw err;
    }
  }

  /** Sends a stanza; a string is written as it is. */
  send(stanza: Element | string): void {
    if (typeof stanza === 'string') this.connection.write(stanza);
    else this.connection.send(stanza);
  }

  /** Writes raw bytes or text to the connection (whitespace, split UTF-8, broken XML). */
  write(data: string | Buffer): void {
    this.connection.write(data);
  }

  /** Resolves with the next unread element matching `predicate`; rejects after `timeoutMs`. */
  next(predicate?: (el: Element) => boolean, timeoutMs = 2000): Promise<Element> {
    return this.connection.next(predicate, timeoutMs);
  }

  /** Rejects if an element matching `predicate` is unread now or arrives within `ms`. */
  nothing(predicate: (el: Element) => boolean, ms: number): Promise<void> {
    return this.connection.nothing(predicate, ms);
  }

  /** Sends an IQ (adding an id if it has none) and resolves with its result or error. */
  iq(stanza: Element, timeoutMs = 5000): Promise<Element> {
    if (stanza.attr('id') === undefined) stanza.setAttr('id', `iq-${nextIqId++}`);
    const id = stanza.attr('id');
    const reply = this.next((el) => el.name === 'iq' && el.attr('id') === id && (el.attr('type') === 'result' || el.attr('type') === 'error'), timeoutMs);
    this.send(stanza);
    return reply;
  }

  /** Pings the server (XEP-0199) and resolves with the reply. */
  ping(timeoutMs = 5000): Promise<Element> {
    return this.iq(x('iq', NS.CLIENT, { type: 'get', to: this.jid.domain }, x('ping', NS.PING)), timeoutMs);
  }

  /** Waits for a `<stream:error/>` and returns its condition. */
  streamError(timeoutMs = 2000): Promise<string> {
    return this.connection.streamError(timeoutMs);
  }

  /** Closes the stream, waits for the server to close its side, then closes the connection. */
  async close(): Promise<void> {
    const { connection } = this;
    if (connection.isClosed) return;
    if (connection.kind === 'websocket') connection.send(x('close', NS.FRAMING));
    else connection.write('</stream:stream>');
    await connection.waitForStreamEnd(2000).catch(() => undefined);
    connection.end();
    await connection.waitForClose(2000).catch(() => connection.destroy());
  }

  /** Drops the connection without closing the stream. */
  kill(): void {
    this.connection.destroy();
  }

  private async sendInitialPresence(): Promise<void> {
    const own = this.jid.toString();
    const echo = this.next((el) => el.name === 'presence' && el.attr('from') === own && el.attr('type') === undefined, 5000);
    this.send(x('presence', NS.CLIENT));
    await echo;
  }
}
