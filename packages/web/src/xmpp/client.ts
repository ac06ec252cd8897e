import { Backoff, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { Emitter } from './emitter.js';
import { x, type XElement } from './element.js';
import { XmppAuthError, XmppStreamError } from './errors.js';
import { FramedSocket, type SocketEnd, type WebSocketConstructor } from './framed-socket.js';
import { IqTracker } from './iq-tracker.js';
import { NS } from './ns.js';
import { authenticate } from './sasl.js';
import { authenticateSasl2, sasl2Feature, type Sasl2Outcome } from './sasl2.js';
import type { ScramKeys } from './scram.js';
import type { FastToken } from './fast.js';
import { freshUserAgent, type UserAgent } from './user-agent.js';
import { revokeFastToken } from './fast-revoke.js';
import { StreamManagement, type Unacked } from './stream-management.js';
import { bindResource, enableStreamManagement, resumeSession } from './session-setup.js';
import { answerIq, type IqHandler } from './iq-handlers.js';
import { KeepAlive } from './keep-alive.js';

export type ConnectionStatus = 'offline' | 'connecting' | 'authenticating' | 'online' | 'resuming' | 'waiting-to-reconnect' | 'auth-failed';

export interface XmppClientOptions {
  /** ws:// or wss:// URL of the server's XMPP WebSocket endpoint. */
  service: string;
  /** The account's bare JID. */
  jid: string;
  password?: string;
  /** SCRAM keys from an earlier login, used instead of the password (worker takeover). */
  keys?: ScramKeys;
  /** A FAST token (XEP-0484) from an earlier login, tried first when the server offers FAST. */
  fastToken?: FastToken;
  /** Receives every change of the FAST token (new, rotated, count raised, or undefined when dropped); logins wait for it. */
  saveFastToken?: (token: FastToken | undefined) => Promise<void>;
  /** Loads the SASL2 user agent once, before the first login; without it each client gets a fresh id. */
  loadUserAgent?: () => Promise<UserAgent>;
  /** The resource to request with RFC 6120 binding, or the tag of a Bind 2 request ('web' when not set). */
  resource?: string;
  /** Injected in Node tests (the `ws` package); defaults to the global WebSocket. */
  webSocket?: WebSocketConstructor;
  reconnect?: Partial<BackoffOptions>;
  /** Time allowed for connecting and negotiating one stream. */
  negotiationTimeoutMs?: number;
  /** Silence after which the connection probes the server, and after which it gives up. */
  keepAlive?: { idleMs: number; timeoutMs: number };
}

export interface ClientEvents extends Record<string, unknown> {
  stanza: XElement;
  status: ConnectionStatus;
  online: { resumed: boolean };
}

/** Rejects sendAcked() promises and IQs whose session ended without resumption. */
export class XmppSessionLostError extends Error {
  override name = 'XmppSessionLostError';
}

const DEFAULT_IQ_TIMEOUT_MS = 30_000;

/** Stream errors that no reconnection can cure: the server does not serve the account's domain. */
const FATAL_STREAM_ERRORS = new Set(['host-unknown', 'host-gone']);

function isFatalStreamError(err: unknown): err is XmppStreamError {
  return err instanceof XmppStreamError && FATAL_STREAM_ERRORS.has(err.condition);
}

/**
 * One account's XMPP connection over WebSocket. Where the server offers SASL2 it logs in with
 * FAST tokens, Bind 2 and inline resumption, and otherwise with SASL SCRAM and binding. It
 * keeps stream management with resumption, reconnects with backoff, and tracks IQs.
 * Stanzas sent while offline wait and go out in order once online. When a session is lost
 * instead of resumed, everything still waiting from it is dropped, and sendAcked() rejects
 * with XmppSessionLostError. Then 'online' fires with `resumed: false`, so the data layer
 * re-sends its outbox.
 */
export class XmppClient {
  status: ConnectionStatus = 'offline';
  jid: string;
  /** Error of the last failed connection attempt or stream, for display. */
  lastError: Error | undefined;

  private readonly events = new Emitter<ClientEvents>();
  private readonly sm = new StreamManagement();
  private readonly iqs = new IqTracker();
  private readonly iqHandlers = new Map<string, IqHandler>();
  private readonly backoff: Backoff;
  private readonly keepAlive: KeepAlive;
  private readonly domain: string;
  private readonly username: string;
  private password: string | undefined;
  private keys: ScramKeys | undefined;
  private token: FastToken | undefined;
  private userAgent: UserAgent | undefined;
  private everOnline = false;
  private outbox: Unacked[] = [];
  private socket: FramedSocket | undefined;
  private wanted = false;
  private hadSession = false;
  private run = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private ackRequested = false;
  private startWaiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  private readonly onNetworkOnline = (): void => this.reconnectNow();

  constructor(private readonly options: XmppClientOptions) {
    const bare = options.jid.split('/')[0] ?? '';
    const at = bare.indexOf('@');
    if (at <= 0 || at === bare.length - 1) throw new Error(`not an account JID: ${options.jid}`);
    this.jid = bare;
    this.username = bare.slice(0, at);
    this.domain = bare.slice(at + 1);
    this.password = options.password;
    this.keys = options.keys;
    this.token = options.fastToken;
    this.backoff = new Backoff({ ...DEFAULT_BACKOFF, ...options.reconnect });
    this.keepAlive = new KeepAlive(options.keepAlive ?? { idleMs: 30_000, timeoutMs: 15_000 }, () => this.probe(), () => this.socket?.drop());
  }

  /** The bare JID of the account. */
  get bareJid(): string {
    return this.jid.split('/')[0] ?? this.jid;
  }

  /** The SCRAM keys of the last login, kept in memory instead of the password. */
  get scramKeys(): ScramKeys | undefined {
    return this.keys;
  }

  /** The FAST token for the next login, kept in memory like the SCRAM keys. */
  get fastToken(): FastToken | undefined {
    return this.token;
  }

  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Connects, authenticates, binds and enables stream management; resolves once online. */
  start(): Promise<void> {
    if (this.status === 'online') return Promise.resolve();
    const online = new Promise<void>((resolve, reject) => this.startWaiters.push({ resolve, reject }));
    if (!this.wanted) {
      this.wanted = true;
      networkEvents()?.addEventListener('online', this.onNetworkOnline);
      void this.connect();
    }
    return online;
  }

  /** Closes the stream (ending the session on the server) and stops reconnecting. */
  async stop(): Promise<void> {
    this.wanted = false;
    this.run++;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    networkEvents()?.removeEventListener('online', this.onNetworkOnline);

    const socket = this.socket;
    this.socket = undefined;
    this.keepAlive.stop();
    if (socket && this.status === 'online') socket.close();
    else socket?.drop();

    this.loseSession(new XmppSessionLostError('the client stopped'));
    this.hadSession = false;
    this.settleStart(new Error('the client stopped'));
    this.setStatus('offline');
  }

  send(stanza: XElement): void {
    this.submit({ stanza });
  }

  /**
   * Sends and resolves once the server's stream management acknowledgement covers the stanza.
   * NOTE: on a server without stream management it resolves once the stanza is written.
   */
  sendAcked(stanza: XElement): Promise<void> {
    return new Promise((resolve, reject) => this.submit({ stanza, acked: { resolve, reject } }));
  }

  /** Sends an IQ request (an id is added when missing) and resolves with its result. */
  iq(request: XElement, timeoutMs = DEFAULT_IQ_TIMEOUT_MS): Promise<XElement> {
    if (!request.attr('id')) request.setAttr('id', this.iqs.nextId());
    const answer = this.iqs.track(request.attr('id')!, request.attr('to'), timeoutMs);
    this.send(request);
    return answer;
  }

  /** Registers the handler of incoming IQ get/set requests whose payload is `name` in `ns`; others get service-unavailable. */
  handleIq(name: string, ns: string, handler: IqHandler): () => void {
    const key = `${ns} ${name}`;
    this.iqHandlers.set(key, handler);
    return () => this.iqHandlers.delete(key);
  }

  /** Sets what the next login uses; a password replaces stored keys that no longer work. */
  setCredentials(credentials: { password?: string; keys?: ScramKeys; fastToken?: FastToken }): void {
    if (credentials.password !== undefined) this.password = credentials.password;
    if (credentials.keys !== undefined) this.keys = credentials.keys;
    if (credentials.fastToken !== undefined) this.token = credentials.fastToken;
  }

  /**
   * Signing out: deletes the FAST token on the server with a login that only invalidates it
   * (XEP-0484 section 3.6), and drops it from memory and storage. Does nothing unless this
   * client has been online and has a token. Call it after stop(). A server that cannot be
   * reached keeps the token until it expires.
   */
  async revokeFastToken(timeoutMs = 5_000): Promise<void> {
    const token = this.token;
    if (!token || !this.everOnline) return;
    await this.changeFastToken(undefined);
    const WebSocketClass = this.options.webSocket ?? (globalThis as unknown as { WebSocket: WebSocketConstructor }).WebSocket;
    const userAgent = await this.currentUserAgent();
    await revokeFastToken({ service: this.options.service, webSocket: WebSocketClass, domain: this.domain, username: this.username, userAgent, token, timeoutMs });
  }

  /** Kills the socket without closing the stream, as a network failure would (tests and diagnostics). */
  dropConnection(): void {
    this.socket?.drop();
  }

  /** Skips the backoff wait, for instance when the browser reports the network back. */
  reconnectNow(): void {
    if (!this.retryTimer) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    void this.connect();
  }

  private async connect(): Promise<void> {
    const run = ++this.run;
    try {
      await this.negotiate(run);
    } catch (err) {
      if (run !== this.run) return;
      this.socket?.drop();
      this.socket = undefined;
      this.lastError = err as Error;
      if (err instanceof XmppAuthError) this.failAuth(err);
      else if (isFatalStreamError(err)) this.failFatal(err);
      else if (this.wanted) this.scheduleReconnect();
    }
  }

  private async negotiate(run: number): Promise<void> {
    this.setStatus('connecting');
    const WebSocketClass = this.options.webSocket ?? (globalThis as unknown as { WebSocket: WebSocketConstructor }).WebSocket;
    const timeoutMs = this.options.negotiationTimeoutMs ?? 20_000;
    const socket = await FramedSocket.open(this.options.service, WebSocketClass, timeoutMs);
    if (run !== this.run) return socket.drop();
    this.socket = socket;
    const timer = setTimeout(() => socket.drop(), timeoutMs);

    try {
      const features = await socket.openStream(this.domain, this.bareJid);
      this.setStatus('authenticating');
      const authentication = sasl2Feature(features);
      const resumed = authentication ? await this.loginSasl2(socket, authentication) : await this.loginLegacy(socket, features);
      if (run !== this.run) return socket.drop();
      this.goOnline(socket, resumed);
    } finally {
      clearTimeout(timer);
    }
  }

  /** RFC 6120 SASL, a stream restart, then resumption or binding; returns true when resumed. */
  private async loginLegacy(socket: FramedSocket, features: XElement): Promise<boolean> {
    const keys = await authenticate(socket, features, { username: this.username, password: this.password, keys: this.keys, plainAllowed: plainAllowed(this.options.service) });
    if (keys) this.keepKeys(keys);
    const afterAuth = await socket.openStream(this.domain, this.bareJid);
    return this.resumeOrBind(socket, afterAuth);
  }

  /** SASL2 with FAST, and resumption or Bind 2 inline, in one round trip; returns true when resumed. */
  private async loginSasl2(socket: FramedSocket, authentication: XElement): Promise<boolean> {
    const resumeId = this.sm.resumeId;
    if (resumeId) this.setStatus('resuming');
    const outcome = await authenticateSasl2(socket, authentication, {
      username: this.username,
      password: this.password,
      keys: this.keys,
      plainAllowed: plainAllowed(this.options.service),
      userAgent: await this.currentUserAgent(),
      tag: this.options.resource ?? 'web',
      fastToken: this.token,
      onFastCount: (token) => this.changeFastToken(token),
      resume: resumeId ? { previd: resumeId, h: this.sm.inbound } : undefined,
    });

    if (outcome.keys) this.keepKeys(outcome.keys);
    if (outcome.token) await this.changeFastToken(outcome.token);
    else if (outcome.fastRejected) await this.changeFastToken(undefined);
    return this.applySasl2Session(socket, outcome);
  }

  private async applySasl2Session(socket: FramedSocket, outcome: Sasl2Outcome): Promise<boolean> {
    if (outcome.resumed) {
      const { h } = outcome.resumed;
      if (!Number.isInteger(h) || !this.sm.acknowledge(h)) throw new Error('the server resumed with a bad h');
      return true;
    }
    if (outcome.resumeFailed?.h !== undefined) this.sm.acknowledge(outcome.resumeFailed.h);
    if (this.hadSession) this.loseSession(new XmppSessionLostError('the session ended and could not be resumed'));

    if (outcome.bound) this.jid = outcome.jid;
    // Bind 2 was not offered or failed (say, too many sessions): RFC 6120 binding reports why.
    else this.jid = await bindResource(socket, this.options.resource);

    if (outcome.bound?.sm) this.sm.enable(outcome.bound.sm.resumeId);
    // The server offers <sm/> after binding only while stream management is still off.
    else if (outcome.features.getChild('sm', NS.SM)) await enableStreamManagement(socket, this.sm);
    this.hadSession = true;
    return false;
  }

  private keepKeys(keys: ScramKeys): void {
    this.keys = keys;
    this.password = undefined;
  }

  private async changeFastToken(token: FastToken | undefined): Promise<void> {
    this.token = token;
    try {
      await this.options.saveFastToken?.(token);
    } catch (err) {
      console.warn('storing the FAST token failed', err);
    }
  }

  private async currentUserAgent(): Promise<UserAgent> {
    if (this.userAgent) return this.userAgent;
    let agent: UserAgent | undefined;
    try {
      agent = await this.options.loadUserAgent?.();
    } catch (err) {
      console.warn('loading the device id failed; this connection uses a new one', err);
    }
    this.userAgent = agent ?? freshUserAgent();
    return this.userAgent;
  }

  private async resumeOrBind(socket: FramedSocket, features: XElement): Promise<boolean> {
    const smOffered = features.getChild('sm', NS.SM) !== undefined;
    if (smOffered && this.sm.resumeId) {
      this.setStatus('resuming');
      if (await resumeSession(socket, this.sm)) return true;
    }
    if (this.hadSession) this.loseSession(new XmppSessionLostError('the session ended and could not be resumed'));

    this.jid = await bindResource(socket, this.options.resource);
    if (smOffered) await enableStreamManagement(socket, this.sm);
    this.hadSession = true;
    return false;
  }

  private goOnline(socket: FramedSocket, resumed: boolean): void {
    socket.onEnd((end) => this.onSocketEnd(socket, end));
    socket.onElement((element) => this.receive(element));
    this.backoff.reset();
    this.lastError = undefined;
    this.everOnline = true;
    this.setStatus('online');

    if (resumed) for (const item of this.sm.unacked) socket.write(item.stanza);
    const waiting = this.outbox;
    this.outbox = [];
    for (const item of waiting) this.write(item);
    if (this.sm.unacked.length > 0) this.requestAck();

    this.keepAlive.start();
    this.events.emit('online', { resumed });
    this.settleStart();
  }

  private receive(element: XElement): void {
    this.keepAlive.heard();
    if (element.ns === NS.SM) return this.receiveSm(element);
    if (this.sm.enabled && StreamManagement.counts(element)) this.sm.received();

    if (element.name === 'iq') {
      const type = element.attr('type');
      if (type === 'result' || type === 'error') {
        if (this.iqs.settle(element, this.jid)) return;
      } else if (type === 'get' || type === 'set') {
        void answerIq(element, this.iqHandlers, (reply) => this.send(reply));
      }
    }
    this.events.emit('stanza', element);
  }

  private receiveSm(element: XElement): void {
    if (element.name === 'r') this.socket?.write(x('a', NS.SM, { h: this.sm.inbound }));
    if (element.name !== 'a') return;
    this.ackRequested = false;
    if (!this.sm.acknowledge(Number(element.attr('h')))) {
      // XEP-0198 section 4: an h beyond what was sent is an error; start over on a new stream.
      this.socket?.write(x('error', NS.STREAM, {}, x('undefined-condition', NS.STREAMS_ERR), x('handled-count-too-high', NS.SM, { h: element.attr('h') })));
      this.socket?.close();
    }
  }

  private submit(item: Unacked): void {
    if (this.status === 'online' && this.socket) {
      this.write(item);
      if (item.acked) this.requestAck();
    } else this.outbox.push(item);
  }

  private write(item: Unacked): void {
    this.socket?.write(item.stanza);
    if (this.sm.enabled) this.sm.written(item);
    else item.acked?.resolve();
  }

  /** Asks for an acknowledgement once per task, however many stanzas were written in it. */
  private requestAck(): void {
    if (this.ackRequested || !this.sm.enabled) return;
    this.ackRequested = true;
    queueMicrotask(() => this.socket?.write(x('r', NS.SM)));
  }

  private probe(): void {
    if (this.sm.enabled) this.socket?.write(x('r', NS.SM));
    else this.iq(x('iq', NS.CLIENT, { type: 'get', to: this.domain }, x('ping', NS.PING))).catch(() => undefined);
  }

  private onSocketEnd(socket: FramedSocket, end: SocketEnd): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.keepAlive.stop();
    this.ackRequested = false;
    this.lastError = end.error;
    if (!this.wanted) return;

    // A conflict means another connection took this resource over; coming back would push it out.
    if (end.error instanceof XmppStreamError && end.error.condition === 'conflict') {
      void this.stop();
      return;
    }
    if (isFatalStreamError(end.error)) {
      this.failFatal(end.error);
      return;
    }
    if (!this.sm.resumeId) this.loseSession(new XmppSessionLostError('the connection ended'));
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    this.setStatus('waiting-to-reconnect');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, this.backoff.next());
  }

  /** Stops for good after a stream error that no reconnection can cure; start() rejects with it. */
  private failFatal(err: XmppStreamError): void {
    this.settleStart(err);
    void this.stop();
  }

  private failAuth(err: XmppAuthError): void {
    this.wanted = false;
    this.keys = undefined;
    if (this.token) void this.changeFastToken(undefined);
    networkEvents()?.removeEventListener('online', this.onNetworkOnline);
    this.loseSession(err);
    this.settleStart(err);
    this.setStatus('auth-failed');
  }

  /** Ends the session's state: waiting stanzas are dropped, their promises and the IQs reject. */
  private loseSession(error: Error): void {
    this.sm.reset(error);
    for (const item of this.outbox.splice(0)) item.acked?.reject(error);
    this.iqs.rejectAll(error);
  }

  private settleStart(error?: Error): void {
    const waiters = this.startWaiters.splice(0);
    for (const waiter of waiters) {
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  private setStatus(status: ConnectionStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.events.emit('status', status);
  }
}

/** PLAIN sends the password itself: only over TLS or to this machine. */
function plainAllowed(service: string): boolean {
  const url = new URL(service);
  return url.protocol === 'wss:' || ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

interface NetworkEvents {
  addEventListener(type: 'online', listener: () => void): void;
  removeEventListener(type: 'online', listener: () => void): void;
}

/** Returns the global scope as an event target for 'online' (windows and workers), or undefined in Node. */
function networkEvents(): NetworkEvents | undefined {
  const scope = globalThis as unknown as Partial<NetworkEvents>;
  return typeof scope.addEventListener === 'function' ? (scope as NetworkEvents) : undefined;
}
