/**
 * A minimal XMPP client for the load generator: one TCP connection, optional STARTTLS,
 * in-band registration (XEP-0077), SASL SCRAM-SHA-256, resource binding, and raw stanza
 * writes. It parses with @parley/xmpp's StreamParser and writes hand-built strings, so
 * each simulated client costs one socket, one parser and a few closures.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

import { type Element, NS, StreamParser, escapeAttr, escapeText } from '@parley/xmpp';

import { ScramSha256 } from './scram.js';

/** Address, XMPP domain and transport of a server under load. */
export interface Target {
  host: string;
  port: number;
  domain: string;
  /** 'plain': TCP without TLS, which every server here allows on loopback. 'starttls': upgrade first. */
  transport: 'plain' | 'starttls';
}

/** An account of the benchmark. */
export interface Account {
  username: string;
  password: string;
}

const STEP_TIMEOUT_MS = 30_000;
const CLOSE_TIMEOUT_MS = 2_000;

/** Raised when the server rejects a step; `condition` is the XMPP condition when there is one. */
export class XmppStepError extends Error {
  constructor(
    message: string,
    readonly condition?: string,
  ) {
    super(message);
    this.name = 'XmppStepError';
  }
}

interface Waiter {
  resolve(el: Element): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** One client connection. Negotiation steps are awaited one at a time; stanzas then go to `onStanza`. */
export class XmppConnection {
  /** Receives every top-level element once no negotiation step is waiting. */
  onStanza: ((el: Element) => void) | undefined;
  /** Called once when the connection closes, for whatever reason. */
  onClose: (() => void) | undefined;
  /** The bound full JID, set by bind(). */
  jid = '';
  closed = false;
  private bound = false;

  private socket: Socket;
  private readonly parser: StreamParser;
  private readonly pending: Element[] = [];
  private waiter: Waiter | undefined;
  private failure: Error | undefined;

  private constructor(
    socket: Socket,
    private readonly target: Target,
  ) {
    this.socket = socket;
    this.parser = new StreamParser(
      {
        streamStart: () => undefined,
        element: (el) => this.receive(el),
        streamEnd: () => this.fail(new XmppStepError('the server closed the stream')),
        error: (err) => this.fail(err),
      },
      { maxStanzaBytes: 1 << 20 },
    );
    this.attach(socket);
  }

  /** Opens a TCP connection to the target and returns once it is connected. */
  static connect(target: Target, timeoutMs = STEP_TIMEOUT_MS): Promise<XmppConnection> {
    return new Promise((resolve, reject) => {
      const socket = connectTcp({ host: target.host, port: target.port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new XmppStepError(`connecting to ${target.host}:${target.port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        resolve(new XmppConnection(socket, target));
      });
    });
  }

  /** Connects, runs STARTTLS when the target's transport is 'starttls', and returns the stream features. */
  static async open(target: Target): Promise<{ connection: XmppConnection; features: Element }> {
    const connection = await XmppConnection.connect(target);
    try {
      let features = await connection.openStream();
      if (target.transport === 'starttls') {
        await connection.startTls(features);
        features = await connection.openStream();
      }
      return { connection, features };
    } catch (err) {
      connection.destroy();
      throw err;
    }
  }

  /** Connects, authenticates with SCRAM-SHA-256, binds a resource and, if asked, sends initial presence. */
  static async login(target: Target, account: Account, presence: boolean): Promise<XmppConnection> {
    const { connection, features } = await XmppConnection.open(target);
    try {
      await connection.authenticate(features, account);
      await connection.bind();
      if (presence) connection.send('<presence/>');
      return connection;
    } catch (err) {
      connection.destroy();
      throw err;
    }
  }

  /** Writes raw XML. */
  send(xml: string): void {
    if (!this.closed) this.socket.write(xml);
  }

  /** Sends a stream header and returns the `<stream:features/>` that follows it. */
  async openStream(): Promise<Element> {
    this.parser.reset();
    this.send(
      `<?xml version='1.0'?><stream:stream xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAM}' to='${escapeAttr(this.target.domain)}' version='1.0'>`,
    );
    const features = await this.next();
    if (features.name !== 'features' || features.ns !== NS.STREAM) throw unexpected('stream features', features);
    return features;
  }

  /** Runs STARTTLS (RFC 6120 section 5) and switches the connection to TLS. */
  async startTls(features: Element): Promise<void> {
    if (!features.getChild('starttls', NS.TLS)) throw new XmppStepError('the server does not offer STARTTLS');
    this.send(`<starttls xmlns='${NS.TLS}'/>`);
    const reply = await this.next();
    if (reply.name !== 'proceed') throw unexpected('<proceed/>', reply);

    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    // The benchmark's servers use a self-signed certificate generated for the run.
    const secure = connectTls({ socket: plain, servername: this.target.domain, rejectUnauthorized: false });
    this.socket = secure;
    this.attach(secure);
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
  }

  /** Registers an account in-band (XEP-0077); an existing account counts as success. */
  async register(account: Account): Promise<'created' | 'exists'> {
    const query = `<query xmlns='${NS.REGISTER}'><username>${escapeText(account.username)}</username><password>${escapeText(account.password)}</password></query>`;
    this.send(`<iq type='set' id='reg1'>${query}</iq>`);
    const reply = await this.next();
    if (reply.name === 'iq' && reply.attrs.type === 'result') return 'created';

    const condition = errorCondition(reply);
    if (condition === 'conflict') return 'exists';
    throw new XmppStepError(`registration of ${account.username} failed: ${condition ?? reply.name}`, condition);
  }

  /** Authenticates with SCRAM-SHA-256 and restarts the stream; returns the new features. */
  async authenticate(features: Element, account: Account): Promise<Element> {
    const mechanisms = features.getChild('mechanisms', NS.SASL)?.getChildren('mechanism', NS.SASL).map((el) => el.text()) ?? [];
    if (!mechanisms.includes('SCRAM-SHA-256')) throw new XmppStepError(`SCRAM-SHA-256 is not offered (offered: ${mechanisms.join(', ')})`);

    const scram = new ScramSha256(account.username, account.password);
    this.send(`<auth xmlns='${NS.SASL}' mechanism='SCRAM-SHA-256'>${scram.first()}</auth>`);
    const challenge = await this.next();
    if (challenge.name !== 'challenge') throw saslFailure(account, challenge);

    this.send(`<response xmlns='${NS.SASL}'>${scram.final(challenge.text())}</response>`);
    const outcome = await this.next();
    if (outcome.name !== 'success') throw saslFailure(account, outcome);
    if (!scram.verify(outcome.text())) throw new XmppStepError(`the server signature for ${account.username} is wrong`);
    return this.openStream();
  }

  /** Binds a server-generated resource (RFC 6120 section 7) and stores the full JID. */
  async bind(): Promise<string> {
    this.send(`<iq type='set' id='bind1'><bind xmlns='${NS.BIND}'/></iq>`);
    const reply = await this.next();
    const jid = reply.getChild('bind', NS.BIND)?.getChildText('jid', NS.BIND);
    if (reply.name !== 'iq' || reply.attrs.type !== 'result' || jid === undefined) throw unexpected('a bind result', reply);
    this.jid = jid;
    // From here on, stanzas that no negotiation step awaits go to onStanza or are dropped.
    this.bound = true;
    return jid;
  }

  /** Ends the stream and waits, for a bounded time, until the server closes the connection. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.destroy();
        resolve();
      }, CLOSE_TIMEOUT_MS);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end('</stream:stream>');
    });
  }

  /** Closes the socket at once. */
  destroy(): void {
    this.socket.destroy();
  }

  /** Returns the next element that arrives, for negotiation steps. */
  private next(timeoutMs = STEP_TIMEOUT_MS): Promise<Element> {
    const queued = this.pending.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new XmppStepError(`no reply from the server within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  private receive(el: Element): void {
    if (el.name === 'error' && el.ns === NS.STREAM) {
      const condition = el.elements().find((child) => child.ns === NS.STREAMS)?.name;
      this.fail(new XmppStepError(`stream error: ${condition ?? 'unknown'}`, condition));
      return;
    }
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      clearTimeout(waiter.timer);
      waiter.resolve(el);
    } else if (!this.bound) {
      this.pending.push(el);
    } else if (isPing(el)) {
      // Reply to XEP-0199 pings, so that a server's idle check sees a live client.
      this.send(`<iq type='result' id='${escapeAttr(el.attrs.id ?? '')}' to='${escapeAttr(el.attrs.from ?? this.target.domain)}'/>`);
    } else {
      this.onStanza?.(el);
    }
  }

  private attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.parser.write(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => {
      this.fail(new XmppStepError('the connection closed'));
      if (this.closed) return;
      this.closed = true;
      this.onClose?.();
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const waiter = this.waiter;
    if (waiter) {
      this.waiter = undefined;
      clearTimeout(waiter.timer);
      waiter.reject(err);
    }
  }
}

function isPing(el: Element): boolean {
  return el.name === 'iq' && el.attrs.type === 'get' && el.getChild('ping', NS.PING) !== undefined;
}

/** Returns the condition of a stanza or SASL error element, if any. */
function errorCondition(el: Element): string | undefined {
  if (el.ns === NS.SASL) return el.elements().find((child) => child.name !== 'text')?.name;
  return el
    .getChild('error')
    ?.elements()
    .find((child) => child.ns === NS.STANZAS)?.name;
}

function saslFailure(account: Account, el: Element): XmppStepError {
  const condition = errorCondition(el);
  return new XmppStepError(`authentication of ${account.username} failed: ${condition ?? el.name}`, condition);
}

function unexpected(expected: string, el: Element): XmppStepError {
  return new XmppStepError(`expected ${expected}, received <${el.name}> ${JSON.stringify(el.attrs)}`, errorCondition(el));
}
