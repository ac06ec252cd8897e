import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { Element, JID, NS, StanzaError, StreamError, XmlParseError, errorReply, x } from '@parley/xmpp';
import type { ServerContext } from '../core/context.js';
import type { Transport } from './transport.js';
import { SaslNegotiation } from './sasl.js';
import { bindResource } from './bind.js';
import { TokenBucket } from './limits.js';

export type SessionState = 'opening' | 'negotiating' | 'authenticated' | 'bound' | 'closed';

const STANZA_KINDS = new Set(['message', 'presence', 'iq']);

/**
 * A client-to-server session (RFC 6120): stream negotiation, then a bound resource
 * that sends and receives stanzas. Incoming stanzas are handled one at a time, in
 * order, so that two stanzas from one client never overtake each other.
 */
export class ClientSession {
  readonly id = randomBytes(9).toString('base64url');
  log: Logger;
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

  private readonly sasl: SaslNegotiation;
  private readonly rate: TokenBucket;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private paused = false;
  private streamOpen = false;
  private authTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private idlePingSent = false;

  constructor(
    readonly server: ServerContext,
    readonly transport: Transport,
  ) {
    this.log = server.log.child({ session: this.id, transport: transport.kind, ip: transport.remoteAddress });
    this.sasl = new SaslNegotiation(this);
    const limits = server.config.sessions;
    this.rate = new TokenBucket(limits.stanzas_per_second, limits.stanza_burst);
    transport.attach({
      streamStart: (header) => this.onStreamStart(header),
      element: (element) => this.onElement(element),
      streamEnd: () => this.onStreamEnd(),
      parseError: (error) => this.onParseError(error),
      closed: (reason) => this.onTransportClosed(reason),
    });
    this.authTimer = setTimeout(() => this.closeWithError(new StreamError('connection-timeout', 'Authentication took too long.')), limits.auth_timeout_s * 1000);
    this.authTimer.unref();
    this.touch();
    server.connections.add(this);
    this.log.info('connection opened');
  }

  get authenticated(): boolean {
    return this.state === 'authenticated' || this.state === 'bound';
  }

  get host(): string {
    return this.server.config.domain;
  }

  /**
   * Registers a durable write (archive, offline storage) started for the stanza this
   * session is handling now. Stream management acknowledges the stanza only after it.
   */
  trackWrite(write: Promise<unknown>): void {
    // TODO: stream management counts the stanza as handled once its tracked writes resolve.
    write.catch((err: unknown) => this.log.error({ err }, 'durable write failed'));
  }

  /** Delivers a stanza to the client. Outgoing stanzas pass through `server.outgoing` hooks first. */
  send(stanza: Element): void {
    if (this.state === 'closed') return;
    this.transport.send(stanza);
  }

  /** Ends the session with a stream error; the reason is logged. */
  closeWithError(error: StreamError): void {
    if (this.state === 'closed') return;
    this.log.info({ condition: error.condition, text: error.text }, 'stream error sent');
    if (!this.streamOpen) this.openStream(undefined);
    this.transport.closeWithError(error.toElement());
    this.finish(`stream error ${error.condition}`);
  }

  /** Ends the session cleanly with `</stream:stream>`. */
  close(reason = 'closed by server'): void {
    if (this.state === 'closed') return;
    this.transport.closeStream();
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
    if (to.toLowerCase() !== this.host) return new StreamError('host-unknown', `This server does not serve ${to}.`);
    const version = header.attr('version');
    if (version === undefined || !/^1\.\d+$/.test(version)) {
      return new StreamError('unsupported-version', 'This server requires XMPP version 1.0.');
    }
    return undefined;
  }

  private openStream(lang: string | undefined): void {
    this.streamOpen = true;
    this.transport.openStream({ id: randomBytes(12).toString('base64url'), from: this.host, version: '1.0', 'xml:lang': lang ?? 'en' });
  }

  private sendFeatures(): void {
    const features = x('features', NS.STREAM);
    if (this.state === 'negotiating') {
      if (this.transport.canStartTls) {
        features.append(x('starttls', NS.TLS, {}, this.tlsRequired() ? x('required', NS.TLS) : undefined));
      }
      features.append(...this.sasl.features());
      features.append(...this.server.streamFeatures.preAuth(this));
    } else {
      features.append(x('bind', NS.BIND, {}, x('required', NS.BIND)));
      features.append(x('session', NS.SESSION, {}, x('optional', NS.SESSION)));
      features.append(...this.server.streamFeatures.postAuth(this));
    }
    this.transport.send(features);
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
    if (this.state === 'closed') return;
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
    if (await this.server.streamElements.handle(this, element)) return;
    if (element.name === 'iq' && element.ns === NS.CLIENT && (await this.server.preAuthIq(this, element))) return;
    throw new StreamError('not-authorized', `<${element.name}/> is not allowed before authentication.`);
  }

  private async startTls(): Promise<void> {
    if (!this.transport.canStartTls) throw new StreamError('policy-violation', 'STARTTLS is not available on this connection.');
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

  private async handleBeforeBind(element: Element): Promise<void> {
    if (element.name === 'iq' && element.ns === NS.CLIENT) {
      const bind = element.getChild('bind', NS.BIND);
      if (bind && element.attr('type') === 'set') {
        this.send(await bindResource(this, element, bind));
        return;
      }
    }
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
    if (!STANZA_KINDS.has(element.name) || element.ns !== NS.CLIENT) {
      if (await this.server.streamElements.handle(this, element)) return;
      throw new StreamError('unsupported-stanza-type', `<${element.name}/> in ${element.ns} is not a stanza this server handles.`);
    }
    await this.rateLimit();
    const stanza = this.stampSender(element);
    if (!stanza) return;
    await this.server.router.fromClient(this, stanza);
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

  private pauseReading(): void {
    this.paused = true;
    this.transport.pause();
  }

  private resumeReading(): void {
    this.paused = false;
    this.transport.resume();
  }

  private onStreamEnd(): void {
    this.log.debug('client closed the stream');
    void this.queue.then(() => this.close('closed by client'));
  }

  private onParseError(error: XmlParseError): void {
    this.closeWithError(new StreamError(error.condition, error.message));
  }

  private onTransportClosed(reason: string): void {
    this.finish(reason);
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
    if (this.state === 'closed') return;
    if (this.idlePingSent || this.state !== 'bound') {
      this.closeWithError(new StreamError('connection-timeout', 'No traffic from the client.'));
      return;
    }
    this.idlePingSent = true;
    this.send(x('iq', NS.CLIENT, { type: 'get', id: `idle-${Date.now()}`, from: this.host, to: this.jid!.toString() }, x('ping', NS.PING)));
    this.idleTimer?.refresh();
  }

  private finish(reason: string): void {
    if (this.state === 'closed') return;
    const wasBound = this.state === 'bound';
    this.state = 'closed';
    clearTimeout(this.authTimer);
    clearTimeout(this.idleTimer);
    this.server.connections.delete(this);
    this.log.info({ reason, durationMs: Date.now() - this.openedAt }, 'connection closed');
    if (!wasBound) return;
    this.server.sessions.remove(this);
    this.queue = this.queue
      .then(() => this.server.hooks.fire('session/closed', { session: this, reason }))
      .then(() => undefined)
      .catch((err: unknown) => this.log.error({ err }, 'session/closed hook failed'));
  }
}
