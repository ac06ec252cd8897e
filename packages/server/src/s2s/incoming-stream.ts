import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { type Element, JID, NS, StanzaError, StreamError, errorReply, x } from '@parley/xmpp';
import { TokenBucket } from '../c2s/limits.js';
import { tlsRequired } from './connector.js';
import { type DialbackStream, domainOf, handleDialbackResult, handleDialbackVerify } from './incoming-dialback.js';
import type { IncomingHost } from './incoming-host.js';
import { S2S_NS } from './namespaces.js';
import { EXTERNAL, externalFeature, readAuthzid, saslFailure } from './sasl-external.js';
import { ServerStreamSocket } from './stream-socket.js';

/** Waiting elements above which reading pauses, and below which it resumes. */
const QUEUE_HIGH = 100;
const QUEUE_LOW = 20;
/** Failed SASL EXTERNAL attempts after which the stream is closed. */
const MAX_SASL_FAILURES = 3;
const STANZA_KINDS = new Set(['message', 'presence', 'iq']);

type State = 'header' | 'open' | 'closed';

/**
 * A stream another server opened to us (RFC 6120 for servers). It negotiates TLS, then
 * authenticates domains with SASL EXTERNAL or Server Dialback, replies to dialback verify
 * requests, and routes the stanzas of authenticated domain pairs, one at a time in order.
 */
export class IncomingStream implements DialbackStream {
  readonly id = randomBytes(9).toString('base64url');
  streamId = '';
  /** Resolves when the connection is closed. */
  readonly closed: Promise<void>;
  private log: Logger;
  private state: State = 'header';
  private readonly stream: ServerStreamSocket;
  /** Our domain, from the `to` of the first stream header. */
  private local = '';
  /** The peer's domain, from the `from` of its stream header; optional in RFC 6120. */
  private peer: string | undefined;
  /** Remote domain to the local domains it may send to. */
  private readonly authorized = new Map<string, Set<string>>();
  private saslDone = false;
  private saslFailures = 0;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private readonly rate: TokenBucket;
  private readonly authTimer: NodeJS.Timeout;
  private readonly idleTimer: NodeJS.Timeout;
  private markClosed!: () => void;

  constructor(
    private readonly host: IncomingHost,
    socket: Socket,
    remoteAddress?: string,
  ) {
    const { config } = host;
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    this.stream = new ServerStreamSocket(socket, config.sessions.max_stanza_bytes, remoteAddress);
    this.log = host.log.child({ s2s: 'in', connection: this.id, ip: this.stream.remoteAddress });
    this.rate = new TokenBucket(config.sessions.stanzas_per_second, config.sessions.stanza_burst);
    this.authTimer = setTimeout(() => this.closeUnlessAuthorized(new StreamError('connection-timeout', 'No domain was authenticated in time.')), config.sessions.auth_timeout_s * 1000);
    this.authTimer.unref();
    this.idleTimer = setTimeout(() => this.closeIdle(), config.s2s.idle_timeout_s * 1000);
    this.idleTimer.unref();
    this.stream.attach({
      header: (header) => this.onHeader(header),
      element: (element) => this.onElement(element),
      end: () => this.onStreamEnd(),
      parseError: (error) => this.closeWithError(new StreamError(error.condition, error.message)),
      closed: (reason) => this.finish(reason),
    });
    this.log.info('incoming server-to-server connection opened');
  }

  /** Remote domains authenticated on this stream. */
  get remoteDomains(): string[] {
    return [...this.authorized.keys()];
  }

  send(element: Element): void {
    this.stream.send(element);
  }

  authorize(remote: string, local: string, method: 'dialback' | 'sasl-external'): void {
    let locals = this.authorized.get(remote);
    if (!locals) this.authorized.set(remote, (locals = new Set()));
    locals.add(local);
    clearTimeout(this.authTimer);
    this.log.info({ remote, local, method }, 'incoming server-to-server stream authenticated');
  }

  isAuthorized(remote: string, local: string): boolean {
    return this.authorized.get(remote)?.has(local) ?? false;
  }

  closeUnlessAuthorized(error: StreamError): void {
    if (this.authorized.size === 0) this.closeWithError(error);
  }

  /** Sends a stream error (after our header if it is not written yet) and closes the connection. */
  closeWithError(error: StreamError): void {
    if (this.state === 'closed') return;
    if (this.state === 'header' && this.streamId === '') this.openOurStream({});
    this.log.info({ condition: error.condition, text: error.text }, 'stream error sent');
    this.stream.closeWithError(error);
    this.finish(`stream error ${error.condition}`);
  }

  private onHeader(header: Element): void {
    if (this.state !== 'header') return;
    const error = this.checkHeader(header);
    if (error) {
      this.closeWithError(error);
      return;
    }
    this.openOurStream(header.attrs);
    this.state = 'open';
    this.stream.send(this.features());
  }

  private checkHeader(header: Element): StreamError | undefined {
    if (header.attrs.xmlns !== NS.SERVER) return new StreamError('invalid-namespace', `A server-to-server stream is qualified by ${NS.SERVER}.`);
    if (!/^1\.\d+$/.test(header.attr('version') ?? '')) return new StreamError('unsupported-version', 'This server speaks XMPP 1.0 streams only.');
    const to = domainOf(header.attr('to'));
    if (!to || !this.host.serves(to)) return new StreamError('host-unknown', `This server does not serve ${header.attr('to') ?? 'a domain without a name'}.`);
    if (this.local !== '' && to !== this.local) return new StreamError('host-unknown', 'A restarted stream must keep its "to" domain.');

    const fromText = header.attr('from');
    const from = fromText === undefined ? undefined : domainOf(fromText);
    if (fromText !== undefined && !from) return new StreamError('invalid-from', `"${fromText}" is not a domain.`);
    if (from && !this.host.policy.allows(from)) return new StreamError('policy-violation', `This server does not federate with ${from}.`);
    if (this.local === '') this.log = this.log.child({ local: to, remote: from });
    this.local = to;
    this.peer = from;
    return undefined;
  }

  /** Writes our header with a fresh stream id (RFC 6120), addressed back to the `from` in the peer's header `attrs`. */
  private openOurStream(attrs: Record<string, string>): void {
    this.streamId = randomBytes(16).toString('base64url');
    this.stream.openStream({ id: this.streamId, from: this.local || undefined, to: attrs.from, version: '1.0' });
  }

  private features(): Element {
    const features = x('features', NS.STREAM);
    if (!this.stream.secure) {
      const required = tlsRequired(this.host.config, this.stream.loopback);
      features.append(x('starttls', NS.TLS, {}, required ? x('required', NS.TLS) : undefined));
      if (required) return features;
    }
    if (this.saslDone) return features;
    if (this.peerCertificateValid()) features.append(externalFeature());
    features.append(x('dialback', S2S_NS.DIALBACK_FEATURE, {}, x('errors', S2S_NS.DIALBACK_FEATURE)));
    return features;
  }

  private peerCertificateValid(): boolean {
    const tlsSocket = this.stream.tlsSocket;
    if (tlsSocket === undefined || this.peer === undefined) return false;
    const problem = this.host.tls.certificateProblem(tlsSocket, this.peer);
    if (problem !== undefined) this.log.debug({ problem }, 'the peer certificate does not allow SASL EXTERNAL');
    return problem === undefined;
  }

  private onElement(element: Element): void {
    if (this.state === 'closed') return;
    this.idleTimer.refresh();
    this.queued++;
    if (this.queued > QUEUE_HIGH) this.stream.pause();
    this.queue = this.queue
      .then(() => this.handle(element))
      .catch((err: unknown) => this.onHandlerFailure(err))
      .finally(() => {
        this.queued--;
        if (this.queued < QUEUE_LOW) this.stream.resume();
      });
  }

  private onHandlerFailure(err: unknown): void {
    if (err instanceof StreamError) {
      this.closeWithError(err);
      return;
    }
    this.log.error({ err }, 'handling an element of an incoming server-to-server stream failed');
  }

  private async handle(element: Element): Promise<void> {
    if (this.state !== 'open') return;
    if (element.ns === NS.TLS && element.name === 'starttls') return this.startTls();
    if (!this.stream.secure && tlsRequired(this.host.config, this.stream.loopback)) {
      throw new StreamError('policy-violation', 'This server requires TLS before anything else.');
    }
    if (element.ns === NS.SASL && element.name === 'auth') return this.authenticateExternal(element);
    if (element.ns === S2S_NS.DIALBACK && element.name === 'result') {
      // Verification takes a connection of its own; the stream goes on meanwhile.
      handleDialbackResult(this.host, this, element).catch((err: unknown) => this.onHandlerFailure(err));
      return;
    }
    if (element.ns === S2S_NS.DIALBACK && element.name === 'verify') return handleDialbackVerify(this.host, this, element);
    if (element.ns === NS.CLIENT && STANZA_KINDS.has(element.name)) return this.routeStanza(element);
    if (this.authorized.size === 0) throw new StreamError('not-authorized', `<${element.name}/> is not allowed before authentication.`);
    throw new StreamError('unsupported-stanza-type', `<${element.name}/> in ${element.ns} is not a stanza this server handles.`);
  }

  private async startTls(): Promise<void> {
    if (this.stream.secure) throw new StreamError('policy-violation', 'TLS is already in place.');
    this.stream.send(x('proceed', NS.TLS));
    this.state = 'header';
    try {
      await this.stream.startServerTls(this.host.tls.serverContext);
    } catch (err) {
      this.log.info({ err: (err as Error).message }, 'TLS handshake failed');
      this.stream.destroy();
      this.finish('TLS handshake failed');
    }
  }

  /** SASL EXTERNAL (RFC 6120, XEP-0178): the certificate proves the peer's domain. */
  private authenticateExternal(auth: Element): void {
    if (this.saslDone || auth.attr('mechanism') !== EXTERNAL || !this.stream.secure) {
      this.stream.send(saslFailure('invalid-mechanism', 'Only EXTERNAL is offered, once, over TLS.'));
      return;
    }
    const authzid = readAuthzid(auth);
    if (authzid === null) return this.saslFailed('incorrect-encoding', 'The initial response is not base64.');
    const domain = authzid ?? this.peer;
    if (!domain) return this.saslFailed('invalid-authzid', 'Name the domain in the stream header or the initial response.');
    if (this.peer !== undefined && domain !== this.peer) return this.saslFailed('invalid-authzid', 'The identity differs from the stream header.');
    if (!this.host.policy.allows(domain)) return this.saslFailed('not-authorized', `This server does not federate with ${domain}.`);
    if (!this.stream.tlsSocket || this.host.tls.certificateProblem(this.stream.tlsSocket, domain) !== undefined) {
      return this.saslFailed('not-authorized', `The certificate is not valid for ${domain}.`);
    }

    this.stream.send(x('success', NS.SASL));
    this.saslDone = true;
    this.peer = domain;
    this.authorize(domain, this.local, 'sasl-external');
    this.stream.restart();
    this.state = 'header';
  }

  private saslFailed(condition: string, text: string): void {
    this.stream.send(saslFailure(condition, text));
    this.saslFailures++;
    if (this.saslFailures >= MAX_SASL_FAILURES) this.closeWithError(new StreamError('policy-violation', 'Too many failed SASL attempts.'));
  }

  /**
   * Checks the addresses of a stanza from the peer (RFC 6120): both are
   * required, `from` must be at an authenticated domain, and `to` at a domain we serve.
   */
  private async routeStanza(stanza: Element): Promise<void> {
    if (this.authorized.size === 0) throw new StreamError('not-authorized', 'Stanzas are not allowed before authentication.');
    const fromText = stanza.attr('from');
    const toText = stanza.attr('to');
    if (fromText === undefined || toText === undefined) {
      throw new StreamError('improper-addressing', 'A stanza between servers needs "from" and "to" addresses.');
    }
    const from = JID.parseOrNull(fromText);
    if (!from || !this.authorized.has(from.domain)) {
      throw new StreamError('invalid-from', `"${fromText}" is not at a domain authenticated on this stream.`);
    }
    const to = JID.parseOrNull(toText);
    if (!to) {
      if (stanza.attr('type') !== 'error') this.stream.send(errorReply(stanza, new StanzaError('jid-malformed', `"${toText}" is not a valid JID.`)));
      return;
    }
    if (!this.host.serves(to.domain)) throw new StreamError('host-unknown', `This server does not serve ${to.domain}.`);

    await this.rateLimit();
    stanza.attrs.from = from.toString();
    stanza.attrs.to = to.toString();
    await this.host.server.router.route(stanza, from, to);
  }

  private async rateLimit(): Promise<void> {
    const waitMs = this.rate.take();
    if (waitMs <= 0) return;
    this.stream.pause();
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    if (this.queued < QUEUE_HIGH) this.stream.resume();
  }

  private closeIdle(): void {
    if (this.state === 'closed') return;
    this.log.info('closing an idle incoming server-to-server stream');
    this.stream.closeStream();
    this.finish('idle timeout');
  }

  private onStreamEnd(): void {
    void this.queue.then(() => {
      this.stream.closeStream();
      this.finish('closed by the peer');
    });
  }

  /** Closes the stream at shutdown. */
  shutdown(): void {
    this.closeWithError(new StreamError('system-shutdown', 'The server is shutting down.'));
  }

  private finish(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.authTimer);
    clearTimeout(this.idleTimer);
    this.host.incomingClosed(this);
    this.log.info({ reason }, 'incoming server-to-server connection closed');
    this.markClosed();
  }
}
