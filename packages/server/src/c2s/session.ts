import { Element, JID, NS, StanzaError, StreamError, XmlParseError, errorReply, x } from '@parley/xmpp';
import { randomId } from '../core/random.js';
import { LazyLog, type SessionLog } from './session-log.js';
import type { ServerContext } from '../core/context.js';
import type { Transport } from './transport.js';
import { SaslNegotiation } from './sasl.js';
import { NS_SASL2, Sasl2Negotiation } from './sasl2.js';
import { bindResource } from './bind.js';
import { TokenBucket } from './limits.js';
import { type StreamManagement, handleStreamManagement, rerouteUnacked } from './stream-management.js';
import { resumeSession } from './resumption.js';
import { anonymousDomain } from './anonymous.js';

export type SessionState = 'opening' | 'negotiating' | 'authenticated' | 'bound' | 'closed';

/**
 * A step on the way of a stanza to the client, such as client state indication. It returns
 * the stanzas to pass on now, in order. An empty list keeps `stanza` back or drops it, and
 * stanzas kept back earlier may come before it.
 */
export type OutgoingFilter = (stanza: Element) => Element[];

const STANZA_KINDS = new Set(['message', 'presence', 'iq']);

/** True for `<message/>`, `<presence/>` and `<iq/>`, the elements stream management counts. */
function isStanza(element: Element): boolean {
  return STANZA_KINDS.has(element.name) && element.ns === NS.CLIENT;
}

/**
 * A client-to-server session (RFC 6120): stream negotiation, then a bound resource
 * that sends and receives stanzas. Incoming stanzas are handled one at a time, in
 * order, so that two stanzas from one client never overtake each other. With stream
 * management resumption (XEP-0198) the session outlives a dropped connection: it
 * hibernates, and a new connection of the same account can take its place.
 */
export class ClientSession {
  readonly id = randomId(9);
  log: SessionLog;
  state: SessionState = 'opening';

  username: string | undefined;
  jid: JID | undefined;
  /** The last available presence broadcast by this resource, or undefined before the initial one. */
  presence: Element | undefined;
  priority = 0;
  /** True after the client requested the roster, so that it receives roster pushes (RFC 6121 2.1.6). */
  rosterInterested = false;
  /** Full JIDs that received directed available presence from this session (RFC 6121 4.6.3). */
  readonly directedPresence = new Set<string>();
  readonly openedAt = Date.now();
  /** Named values that modules keep on a session. */
  readonly data = new Map<string, unknown>();
  /** Stream management (XEP-0198), once the client enabled it. */
  sm: StreamManagement | undefined;
  /** Resolves once the session has ended and its closing work (hooks, unacknowledged stanzas) is done. */
  readonly ended: Promise<void>;

  private connection: Transport;
  /** The domain the first stream header addressed: the served domain or the anonymous one. */
  private streamHost: string | undefined;
  /** True while a resumable session has no connection. */
  private detached = false;
  /** Set once this connection resumed another session: elements still queued here go there. */
  private resumedInto: ClientSession | undefined;
  private readonly filters: OutgoingFilter[] = [];
  /** Durable writes started for the stanza being handled, while one is. */
  private currentWrites: Promise<unknown>[] | undefined;
  private readonly sasl: SaslNegotiation;
  private readonly sasl2: Sasl2Negotiation;
  private readonly rate: TokenBucket;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private paused = false;
  private streamOpen = false;
  private streamEndReceived = false;
  private authTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private idlePingSent = false;
  private markEnded!: () => void;

  constructor(
    readonly server: ServerContext,
    transport: Transport,
  ) {
    this.connection = transport;
    this.ended = new Promise((resolve) => {
      this.markEnded = resolve;
    });
    this.log = new LazyLog(server.log, { session: this.id, transport: transport.kind, ip: transport.remoteAddress });
    this.sasl = new SaslNegotiation(this);
    this.sasl2 = new Sasl2Negotiation(this);
    const limits = server.config.sessions;
    this.rate = new TokenBucket(limits.stanzas_per_second, limits.stanza_burst);
    this.attachTransport(transport);
    this.authTimer = setTimeout(() => this.closeWithError(new StreamError('connection-timeout', 'Authentication took too long.')), limits.auth_timeout_s * 1000);
    this.authTimer.unref();
    this.touch();
    server.connections.add(this);
    this.log.info('connection opened');
  }

  get authenticated(): boolean {
    return this.state === 'authenticated' || this.state === 'bound';
  }

  /** The domain of this stream and of the account it authenticates: the served domain, or the anonymous domain. */
  get host(): string {
    return this.streamHost ?? this.server.config.domain;
  }

  /** True on a stream to the anonymous domain, where only SASL ANONYMOUS is offered. */
  get anonymous(): boolean {
    return this.host !== this.server.config.domain;
  }

  /** The current connection; while the session hibernates, the one that dropped. */
  get transport(): Transport {
    return this.connection;
  }

  /** True while a resumable session waits for its client to come back. */
  get hibernating(): boolean {
    return this.detached && this.state !== 'closed';
  }

  /** Reports the events of `transport` to this session for as long as it is the session's connection. */
  private attachTransport(transport: Transport): void {
    const current = () => this.connection === transport && !this.detached;
    transport.attach({
      streamStart: (header) => {
        if (current()) this.onStreamStart(header);
      },
      element: (element) => {
        if (current()) this.onElement(element);
      },
      streamEnd: () => {
        if (current()) this.onStreamEnd();
      },
      parseError: (error) => {
        if (current()) this.onParseError(error);
      },
      closed: (reason) => {
        if (current()) this.onTransportClosed(reason);
      },
    });
  }

  /**
   * Registers a durable write (archive, offline storage) started for the stanza this
   * session is handling now. Stream management acknowledges the stanza only after it
   * resolves; when it fails, the stanza is not acknowledged and the stream is closed.
   */
  trackWrite(write: Promise<unknown>): void {
    if (this.currentWrites) {
      this.currentWrites.push(write);
      return;
    }
    this.log.warn('a durable write was tracked while no stanza was being handled');
    write.catch((err: unknown) => this.onWriteFailed(err));
  }

  /** Delivers a stanza to the client, through the outgoing filters and stream management. */
  send(stanza: Element): void {
    if (this.state === 'closed') return;
    this.pass([stanza], 0);
  }

  /** Sends stanzas that `filter` held back, through the filters after it. */
  sendPast(filter: OutgoingFilter, stanzas: Element[]): void {
    if (this.state === 'closed') return;
    this.pass(stanzas, this.filters.indexOf(filter) + 1);
  }

  /** Adds a filter on the way of stanzas to the client; returns the function that removes it. */
  addOutgoingFilter(filter: OutgoingFilter): () => void {
    this.filters.push(filter);
    return () => {
      const index = this.filters.indexOf(filter);
      if (index >= 0) this.filters.splice(index, 1);
    };
  }

  /** Writes an element that is not a stanza (such as stream management's `<a/>`) to the client, unfiltered and uncounted. */
  writeNonza(element: Element): void {
    if (this.state === 'closed' || this.detached) return;
    this.connection.send(element);
  }

  private pass(stanzas: Element[], firstFilter: number): void {
    let batch = stanzas;
    for (const filter of this.filters.slice(firstFilter)) batch = batch.flatMap((stanza) => filter(stanza));
    for (const stanza of batch) {
      if (this.state === 'closed') return;
      if (!this.detached) this.connection.send(stanza);
      if (this.sm && isStanza(stanza) && !this.sm.recordSent(stanza)) this.onQueueOverflow();
    }
  }

  private onQueueOverflow(): void {
    const max = this.server.config.sessions.max_unacked;
    if (this.detached) {
      this.finish(`more than ${max} unacknowledged stanzas while hibernating`);
      return;
    }
    this.closeWithError(new StreamError('policy-violation', `More than ${max} stanzas are waiting for your acknowledgement.`));
  }

  /** Ends the session with a stream error; the reason is logged. */
  closeWithError(error: StreamError): void {
    if (this.state === 'closed') return;
    if (!this.detached) {
      this.log.info({ condition: error.condition, text: error.text }, 'stream error sent');
      if (!this.streamOpen) this.openStream(undefined);
      this.connection.closeWithError(error.toElement());
    }
    this.finish(`stream error ${error.condition}`);
  }

  /** Ends the session cleanly with `</stream:stream>`. */
  close(reason = 'closed by server'): void {
    if (this.state === 'closed') return;
    if (!this.detached) this.connection.closeStream();
    this.finish(reason);
  }

  private onStreamStart(header: Element): void {
    this.touch();
    const error = this.checkHeader(header);
    this.openStream(header.attr('xml:lang'));
    if (error) {
      this.closeWithError(error);
      return;
    }
    if (this.state === 'opening') this.state = 'negotiating';
    this.sendFeatures();
  }

  private checkHeader(header: Element): StreamError | undefined {
    const to = header.attr('to');
    if (header.attrs.xmlns !== undefined && header.attrs.xmlns !== NS.CLIENT && header.attrs.xmlns !== NS.FRAMING) {
      return new StreamError('invalid-namespace', `Unsupported stream content namespace ${header.attrs.xmlns}.`);
    }
    if (to === undefined) return new StreamError('host-unknown', 'The stream header has no "to" attribute.');
    const host = to.toLowerCase();
    // The first header picks the domain; a restarted stream must address the same one.
    const served = this.streamHost === undefined ? host === this.server.config.domain || host === anonymousDomain(this.server) : host === this.host;
    if (!served) return new StreamError('host-unknown', `This server does not serve ${to}.`);
    this.streamHost = host;
    const version = header.attr('version');
    if (version === undefined || !/^1\.\d+$/.test(version)) {
      return new StreamError('unsupported-version', 'This server requires XMPP version 1.0.');
    }
    return undefined;
  }

  private openStream(lang: string | undefined): void {
    this.streamOpen = true;
    this.transport.openStream({ id: randomId(12), from: this.host, version: '1.0', 'xml:lang': lang ?? 'en' });
  }

  private sendFeatures(): void {
    this.transport.send(this.buildFeatures());
  }

  /** The `<stream:features/>` for the session's state; a bound session (after SASL2) gets no binding. */
  buildFeatures(): Element {
    const features = x('features', NS.STREAM);
    if (this.state === 'negotiating') {
      if (this.offersStartTls()) {
        features.append(x('starttls', NS.TLS, {}, this.tlsRequired() ? x('required', NS.TLS) : undefined));
      }
      features.append(this.sasl2.feature(), ...this.sasl.features());
      // In-band registration and the like are for the served domain only.
      if (!this.anonymous) features.append(...this.server.streamFeatures.preAuth(this));
      return features;
    }
    if (this.state === 'authenticated') {
      features.append(x('bind', NS.BIND, {}, x('required', NS.BIND)));
      features.append(x('session', NS.SESSION, {}, x('optional', NS.SESSION)));
    }
    // A session that enabled stream management inline (Bind 2) may not enable it again.
    const postAuth = this.server.streamFeatures.postAuth(this).filter((feature) => !(this.sm && feature.ns === NS.SM));
    features.append(...postAuth);
    return features;
  }

  /**
   * Decides whether to offer STARTTLS. The transport must be able to upgrade, and a loopback
   * client gets it only while `[tls] starttls_on_loopback` is on.
   */
  private offersStartTls(): boolean {
    if (!this.transport.canStartTls) return false;
    return this.server.config.tls.starttls_on_loopback || !this.transport.loopback;
  }

  /** RFC 6120 5.3.1: TLS is mandatory to authenticate unless configured off or on loopback. */
  tlsRequired(): boolean {
    const tls = this.server.config.tls;
    if (!tls.require_for_auth) return false;
    return !(tls.allow_plaintext_on_loopback && this.transport.loopback);
  }

  private onElement(element: Element): void {
    this.touch();
    if (this.state === 'closed') return;
    this.queued++;
    if (this.queued > 100 && !this.paused) this.pauseReading();
    this.queue = this.queue
      .then(() => this.handleElement(element))
      .catch((err: unknown) => this.onHandlerFailure(err, element))
      .finally(() => {
        this.queued--;
        if (this.paused && this.queued < 20) this.resumeReading();
      });
  }

  private onHandlerFailure(err: unknown, element: Element): void {
    if (err instanceof StreamError) {
      this.closeWithError(err);
      return;
    }
    this.log.error({ err, element: element.name }, 'element handling failed');
    if (STANZA_KINDS.has(element.name) && element.attr('type') !== 'error' && this.state !== 'closed') {
      this.send(errorReply(element, new StanzaError('internal-server-error')));
    }
  }

  private async handleElement(element: Element): Promise<void> {
    // Elements that arrived after <resume/> on this connection; the resumed session's own
    // queue gets them before anything the connection delivers later, because the resume
    // finishes in a microtask and these follow in microtasks, before the next read.
    if (this.resumedInto) return this.resumedInto.onElement(element);
    if (this.state === 'closed') return;
    if (element.name === 'error' && element.ns === NS.STREAM) return this.onClientStreamError(element);
    if (this.state === 'negotiating') return this.handleNegotiation(element);
    if (this.state === 'authenticated') return this.handleBeforeBind(element);
    if (this.state === 'bound') return this.handleBound(element);
    throw new StreamError('not-authorized', 'The stream is not open yet.');
  }

  private async handleNegotiation(element: Element): Promise<void> {
    if (element.ns === NS.TLS && element.name === 'starttls') return this.startTls();
    if (element.ns === NS.SASL) {
      if (this.tlsRequired() && !this.transport.secure) {
        this.transport.send(x('failure', NS.SASL, {}, x('encryption-required', NS.SASL)));
        return;
      }
      const username = await this.sasl.handle(element);
      if (username !== undefined) this.onAuthenticated(username);
      return;
    }
    if (element.ns === NS_SASL2) {
      if (this.tlsRequired() && !this.transport.secure) {
        this.transport.send(x('failure', NS_SASL2, {}, x('encryption-required', NS.SASL)));
        return;
      }
      return this.sasl2.handle(element);
    }
    if (await this.server.streamElements.handle(this, element)) return;
    if (element.name === 'iq' && element.ns === NS.CLIENT && !this.anonymous && (await this.server.preAuthIq(this, element))) return;
    throw new StreamError('not-authorized', `<${element.name}/> is not allowed before authentication.`);
  }

  private async startTls(): Promise<void> {
    if (!this.offersStartTls()) throw new StreamError('policy-violation', 'STARTTLS is not available on this connection.');
    this.transport.send(x('proceed', NS.TLS));
    this.streamOpen = false;
    try {
      await this.transport.startTls();
    } catch (err) {
      this.log.info({ err }, 'TLS handshake failed');
      this.finish('TLS handshake failed');
      return;
    }
    this.log.debug('TLS established');
  }

  private onAuthenticated(username: string): void {
    this.username = username;
    this.state = 'authenticated';
    this.streamOpen = false;
    clearTimeout(this.authTimer);
    this.transport.restart();
    this.log.info({ user: username }, 'authenticated');
  }

  /** SASL2 success: the stream goes on without a restart (XEP-0388 section 2.6.1). */
  onSasl2Authenticated(username: string): void {
    this.username = username;
    this.state = 'authenticated';
    clearTimeout(this.authTimer);
    this.log.info({ user: username }, 'authenticated with SASL2');
  }

  /** Sends the SASL2 `<success/>`, binds `jid` when Bind 2 chose one, then sends the new stream features. */
  completeSasl2(success: Element, jid: JID | undefined): void {
    if (this.state === 'closed') return;
    this.transport.send(success);
    if (jid) this.onBound(jid);
    this.sendFeatures();
  }

  /** The bare JID of the account this session authenticated as. */
  jidOfAccount(): JID {
    return JID.parse(`${this.username!}@${this.host}`);
  }

  private async handleBeforeBind(element: Element): Promise<void> {
    if (element.name === 'iq' && element.ns === NS.CLIENT) {
      const bind = element.getChild('bind', NS.BIND);
      if (bind && element.attr('type') === 'set') {
        this.send(await bindResource(this, element, bind));
        return;
      }
    }
    if (element.ns === NS.SM && element.name === 'resume') return resumeSession(this, element);
    if (element.ns === NS.SM) return handleStreamManagement(this, element);
    if (await this.server.streamElements.handle(this, element)) return;
    throw new StreamError('not-authorized', `<${element.name}/> is not allowed before resource binding.`);
  }

  /** Called by resource binding once the session has its full JID. */
  onBound(jid: JID): void {
    this.jid = jid;
    this.state = 'bound';
    this.server.sessions.add(this);
    this.log = this.log.child({ jid: jid.toString() });
    this.log.info('resource bound');
    void this.server.hooks.fire('session/bound', { session: this }).catch((err: unknown) => this.log.error({ err }, 'session/bound hook failed'));
  }

  private async handleBound(element: Element): Promise<void> {
    if (!isStanza(element)) {
      if (element.ns === NS.SM) return handleStreamManagement(this, element);
      if (await this.server.streamElements.handle(this, element)) return;
      throw new StreamError('unsupported-stanza-type', `<${element.name}/> in ${element.ns} is not a stanza this server handles.`);
    }
    const writes: Promise<unknown>[] = [];
    this.currentWrites = writes;
    try {
      await this.rateLimit();
      await this.waitForStorage();
      const stanza = this.stampSender(element);
      if (stanza) await this.server.router.fromClient(this, stanza);
    } finally {
      this.currentWrites = undefined;
      this.countHandled(writes);
    }
  }

  /** Records a handled stanza, including one rejected with an error; stream management counts it once `writes` are durable. */
  private countHandled(writes: Promise<unknown>[]): void {
    if (this.sm) {
      this.sm.stanzaHandled(writes, (err) => this.onWriteFailed(err));
      return;
    }
    for (const write of writes) write.catch((err: unknown) => this.onWriteFailed(err));
  }

  /** Closes the connection after a failed durable write, so that the client sends the unacknowledged stanza again. */
  private onWriteFailed(err: unknown): void {
    this.log.error({ err }, 'durable write failed');
    this.dropConnection(new StreamError('internal-server-error', 'A stanza you sent could not be stored; send it again.'));
  }

  /**
   * Replaces the `from` a client wrote with its full JID (RFC 6120 8.1.2.1), and checks
   * `to`. Returns undefined when the stanza was answered with an error instead.
   */
  private stampSender(stanza: Element): Element | undefined {
    stanza.attrs.from = this.jid!.toString();
    const to = stanza.attr('to');
    if (to === undefined) return stanza;
    const parsed = JID.parseOrNull(to);
    if (parsed) {
      stanza.attrs.to = parsed.toString();
      return stanza;
    }
    if (stanza.attr('type') !== 'error') {
      const error = new StanzaError('jid-malformed', `The address "${to}" is not a valid JID.`);
      this.send(x(stanza.name, stanza.ns, { type: 'error', id: stanza.attr('id'), from: to, to: stanza.attrs.from }, error.toElement()));
    }
    return undefined;
  }

  private async rateLimit(): Promise<void> {
    const waitMs = this.rate.take();
    if (waitMs <= 0) return;
    this.pauseReading();
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    this.resumeReading();
  }

  /** Stops reading while the batch writer is far behind the disk, so that fast senders cannot queue writes without bound. */
  private async waitForStorage(): Promise<void> {
    const { batch } = this.server.storage;
    if (!batch.congested) return;
    this.pauseReading();
    await batch.relieved();
    this.resumeReading();
  }

  private pauseReading(): void {
    if (this.resumedInto) return;
    this.paused = true;
    this.transport.pause();
  }

  private resumeReading(): void {
    if (this.resumedInto) return;
    this.paused = false;
    this.transport.resume();
  }

  /** Closes the server's side of the stream, because a client that sends a stream error ends the stream (RFC 6120 4.9.1.1). */
  private onClientStreamError(error: Element): void {
    this.log.info({ condition: error.getChildByNs(NS.STREAMS)?.name }, 'client sent a stream error');
    this.streamEndReceived = true;
    this.close('stream error from client');
  }

  private onStreamEnd(): void {
    this.log.debug('client closed the stream');
    this.streamEndReceived = true;
    void this.queue.then(() => this.close('closed by client'));
  }

  private onParseError(error: XmlParseError): void {
    this.closeWithError(new StreamError(error.condition, error.message));
  }

  /** Ends the session when the connection is gone, unless it is resumable and the client did not close the stream (XEP-0198 section 7). */
  private onTransportClosed(reason: string): void {
    if (this.resumable && !this.streamEndReceived) this.hibernate(reason);
    else this.finish(reason);
  }

  private get resumable(): boolean {
    return this.state === 'bound' && this.sm?.resumeId !== undefined;
  }

  /** Ends the connection with a stream error; a resumable session hibernates instead of ending. */
  private dropConnection(error: StreamError): void {
    if (this.state === 'closed' || this.detached) return;
    if (!this.resumable) {
      this.closeWithError(error);
      return;
    }
    this.log.info({ condition: error.condition, text: error.text }, 'stream error sent');
    this.connection.closeWithError(error.toElement());
    this.hibernate(`stream error ${error.condition}`);
  }

  /**
   * Keeps the session without a connection: it stays in the session registry with its
   * presence, and what it is sent waits in the stream management queue until the client
   * resumes or `resume_timeout_s` ends the session.
   */
  private hibernate(reason: string): void {
    const sm = this.sm!;
    this.detached = true;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    sm.disconnect();
    this.server.connections.delete(this);
    this.server.resumableSessions.hibernate(sm.resumeId!, sm.resumeTimeoutS * 1000, () => this.finish('resumption timed out'));
    this.log.info({ reason, unacked: sm.unackedCount }, 'connection lost, session waits for resumption');
    void this.server.hooks.fire('session/hibernated', { session: this, unacked: sm.pending() }).catch((err: unknown) => this.log.error({ err }, 'session/hibernated hook failed'));
  }

  /** Detaches the session from its connection, which gets a `conflict` stream error, because another connection resumes it. */
  suspend(): void {
    if (this.state === 'closed' || this.detached || !this.resumable) return;
    this.dropConnection(new StreamError('conflict', 'The session was resumed on another connection.'));
  }

  /** Resolves once every element received so far is handled and, under stream management, counted. */
  async settle(): Promise<void> {
    await this.queue;
    await this.sm?.counted();
  }

  /**
   * Continues this hibernating session on the connection of `successor`, which authenticated
   * as the same account and sent `<resume/>`: sends `<resumed/>`, then every unacknowledged
   * stanza again (XEP-0198 section 5). With `announce`, the elements it builds around
   * `<resumed/>` (a SASL2 `<success/>`) go out in its place.
   */
  adoptConnection(successor: ClientSession, announce?: (resumed: Element) => Element[]): void {
    const sm = this.sm!;
    const transport = successor.handOver(this);
    this.server.resumableSessions.wake(sm.resumeId!);
    this.detached = false;
    this.streamOpen = true;
    this.streamEndReceived = false;
    this.connection = transport;
    this.attachTransport(transport);
    this.server.connections.add(this);
    this.touch();
    this.announceResumed(announce, 'session resumed');
  }

  /**
   * Continues on this connection a session that another cluster node handed over, with
   * `jid` and `sm` from there. The caller restored its presence and module data. From now
   * on the session is bound here, and as with `adoptConnection` the client gets
   * `<resumed/>` and every stanza it has not acknowledged.
   */
  continueMoved(jid: JID, sm: StreamManagement, announce?: (resumed: Element) => Element[]): void {
    this.jid = jid;
    this.sm = sm;
    this.state = 'bound';
    this.server.resumableSessions.adopt(sm.resumeId!, this);
    this.server.sessions.add(this);
    this.log = this.log.child({ jid: jid.toString() });
    // Modules that keep per-node state for the bound sessions of an account set it up here.
    void this.server.hooks.fire('session/bound', { session: this }).catch((err: unknown) => this.log.error({ err }, 'session/bound hook failed'));
    this.announceResumed(announce, 'session resumed from another cluster node');
  }

  /** Sends `<resumed/>` (or what `announce` builds around it) and the unacknowledged stanzas, then fires `session/resumed`. */
  private announceResumed(announce: ((resumed: Element) => Element[]) | undefined, message: string): void {
    const sm = this.sm!;
    const transport = this.connection;
    const resumed = x('resumed', NS.SM, { previd: sm.resumeId, h: sm.handledCount });
    if (announce) transport.sendMany(announce(resumed));
    else this.writeNonza(resumed);
    sm.resetAfterFailure();
    const pending = sm.pending();
    if (pending.length > 0) transport.sendMany(pending);
    sm.reconnect();
    this.log.info({ resumedVia: transport.kind, resumedFrom: transport.remoteAddress, resent: pending.length }, message);
    void this.server.hooks.fire('session/resumed', { session: this }).catch((err: unknown) => this.log.error({ err }, 'session/resumed hook failed'));
  }

  /**
   * Ends this hibernating session here without its closing work, because another cluster
   * node continues it: no `session/closed` hook (so no unavailable presence) and no
   * rerouting of the unacknowledged stanzas, which went along.
   */
  relinquish(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.authTimer);
    clearTimeout(this.idleTimer);
    this.server.connections.delete(this);
    this.sm?.stop();
    if (this.sm?.resumeId !== undefined) this.server.resumableSessions.handOff(this.sm.resumeId);
    // NOTE: modules that drop per-account caches on `session/closed` (shared roster views, vCard
    // photo hashes) keep them on this node until a later session of the account here ends.
    this.server.sessions.remove(this);
    this.log.info({ durationMs: Date.now() - this.openedAt }, 'session moved to another cluster node');
    this.markEnded();
  }

  /** Gives this connection to `target`, which it resumed; this session object ends without closing hooks. */
  private handOver(target: ClientSession): Transport {
    this.resumedInto = target;
    this.state = 'closed';
    clearTimeout(this.authTimer);
    clearTimeout(this.idleTimer);
    this.server.connections.delete(this);
    this.log.info({ resumed: target.id }, 'connection handed over to the resumed session');
    this.markEnded();
    return this.connection;
  }

  /** Resets the idle timer; after `idle_timeout_s` of silence the server pings, then gives up. */
  private touch(): void {
    this.idlePingSent = false;
    if (this.idleTimer) {
      this.idleTimer.refresh();
      return;
    }
    this.idleTimer = setTimeout(() => this.onIdle(), this.server.config.sessions.idle_timeout_s * 1000);
    this.idleTimer.unref();
  }

  private onIdle(): void {
    if (this.state === 'closed' || this.detached) return;
    if (this.state !== 'bound') {
      this.closeWithError(new StreamError('connection-timeout', 'No traffic from the client.'));
      return;
    }
    if (this.idlePingSent) {
      this.dropConnection(new StreamError('connection-timeout', 'No traffic from the client.'));
      return;
    }
    this.idlePingSent = true;
    this.send(x('iq', NS.CLIENT, { type: 'get', id: `idle-${Date.now()}`, from: this.host, to: this.jid!.toString() }, x('ping', NS.PING)));
    this.idleTimer?.refresh();
  }

  /**
   * Ends the session for good. After the elements already queued, the `session/closed`
   * hook runs (presence sends unavailable), then the stanzas the client never acknowledged
   * are rerouted, messages to offline storage.
   */
  private finish(reason: string): void {
    if (this.state === 'closed') return;
    const wasBound = this.state === 'bound';
    this.state = 'closed';
    clearTimeout(this.authTimer);
    clearTimeout(this.idleTimer);
    this.server.connections.delete(this);
    this.log.info({ reason, durationMs: Date.now() - this.openedAt }, this.detached ? 'session ended' : 'connection closed');
    if (!wasBound) {
      this.markEnded();
      return;
    }
    this.server.sessions.remove(this);
    const unacked = this.retireStreamManagement();
    const jid = this.jid!;
    this.queue = this.queue
      .then(() => this.server.hooks.fire('session/closed', { session: this, reason }))
      .then(() => undefined)
      .catch((err: unknown) => this.log.error({ err }, 'session/closed hook failed'))
      .then(() => rerouteUnacked(this.server, jid, unacked))
      .finally(() => this.markEnded());
  }

  /** Stops stream management and returns the stanzas still waiting for acknowledgement. */
  private retireStreamManagement(): Element[] {
    const { sm } = this;
    if (!sm) return [];
    sm.stop();
    if (sm.resumeId !== undefined) this.server.resumableSessions.retire(sm.resumeId, sm.handledCount);
    const unacked = sm.takePending();
    if (unacked.length > 0) this.log.info({ count: unacked.length }, 'rerouting unacknowledged stanzas');
    return unacked;
  }
}
