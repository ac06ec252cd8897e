import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { type Element, JID, NS, StanzaError, StreamError, StreamParser, type XmlParseError, errorReply, escapeAttr, serialize, x } from '@parley/xmpp';
import type { ServerContext } from '../core/context.js';
import { TokenBucket } from '../c2s/limits.js';
import { serializeStreamLevel } from '../net/stream-level.js';
import { verifyHandshake } from './handshake.js';
import { renamespace } from './namespace.js';

/** Grace period for the component to close its side after we closed the stream. */
const CLOSE_GRACE_MS = 2000;
/** Waiting elements above which reading pauses, and below which it resumes. */
const QUEUE_HIGH = 100;
const QUEUE_LOW = 20;
const STANZA_KINDS = new Set(['message', 'presence', 'iq']);

/** The service that accepted a component connection, as the connection uses it. */
export interface ComponentHost {
  readonly server: ServerContext;
  /** The shared secret of a configured component domain, or undefined for an unknown domain. */
  secretFor(domain: string): string | undefined;
  /** Routes the domain to this connection, or returns false when another connection already serves it. */
  attach(connection: ComponentConnection): boolean;
  detach(connection: ComponentConnection): void;
}

type State = 'opening' | 'handshake' | 'ready' | 'closed';

/**
 * One external component on the component port (XEP-0114): the stream header names the
 * component's domain, the handshake proves the shared secret, and then the component
 * sends and receives stanzas for its domain. Its stanzas are handled one at a time, in
 * order, under the same size and rate limits as a client's.
 */
export class ComponentConnection {
  readonly id = randomBytes(9).toString('base64url');
  /** The component's domain, from its stream header. */
  domain = '';
  /** Resolves when the connection is closed. */
  readonly closed: Promise<void>;
  private log: Logger;
  private state: State = 'opening';
  private readonly streamId = randomBytes(12).toString('base64url');
  private readonly parser: StreamParser;
  private readonly rate: TokenBucket;
  private readonly authTimer: NodeJS.Timeout;
  private headerSent = false;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private markClosed!: () => void;

  constructor(
    private readonly host: ComponentHost,
    private readonly socket: Socket,
  ) {
    const { config } = host.server;
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    this.log = host.server.log.child({ component: this.id, ip: socket.remoteAddress });
    this.rate = new TokenBucket(config.sessions.stanzas_per_second, config.sessions.stanza_burst);
    this.parser = new StreamParser(
      {
        streamStart: (header) => this.onStreamStart(header),
        element: (element) => this.onElement(element),
        streamEnd: () => this.onStreamEnd(),
        error: (error) => this.onParseError(error),
      },
      { maxStanzaBytes: config.sessions.max_stanza_bytes },
    );
    this.authTimer = setTimeout(() => this.closeWithError(new StreamError('connection-timeout', 'The handshake took too long.')), config.sessions.auth_timeout_s * 1000);
    this.authTimer.unref();
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    socket.on('data', (chunk: Buffer) => this.parser.write(chunk));
    socket.on('error', () => {
      // The 'close' event follows and ends the connection.
    });
    socket.on('close', () => this.finish('connection closed'));
    this.log.info('component connection opened');
  }

  /** Delivers a stanza the router addressed to the component's domain. */
  send(stanza: Element): void {
    // TODO: a component that stops reading makes the socket buffer grow without limit; close it past a threshold.
    this.write(serialize(renamespace(stanza, NS.CLIENT, NS.COMPONENT), NS.COMPONENT));
  }

  /** Sends a stream error, logs its condition and closes the connection. */
  closeWithError(error: StreamError): void {
    if (this.state === 'closed') return;
    this.log.info({ condition: error.condition, text: error.text }, 'stream error sent');
    this.openStream();
    this.write(serializeStreamLevel(error.toElement(), false) + '</stream:stream>');
    this.end(`stream error ${error.condition}`);
  }

  private onStreamStart(header: Element): void {
    if (this.state !== 'opening') return;
    const error = this.checkHeader(header);
    if (error) {
      this.closeWithError(error);
      return;
    }
    this.openStream();
    this.state = 'handshake';
  }

  private checkHeader(header: Element): StreamError | undefined {
    if (header.attrs.xmlns !== NS.COMPONENT) {
      return new StreamError('invalid-namespace', `A component stream is qualified by ${NS.COMPONENT}.`);
    }
    const to = header.attr('to')?.toLowerCase();
    if (to === undefined) return new StreamError('host-unknown', 'The stream header has no "to" attribute.');
    if (this.host.secretFor(to) === undefined) return new StreamError('host-unknown', `No component is configured for ${to}.`);
    this.domain = to;
    this.log = this.log.child({ domain: to });
    return undefined;
  }

  /** Writes our stream header once; `from` is the component's domain as XEP-0114 section 3 shows it. */
  private openStream(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    const from = this.domain === '' ? '' : ` from="${escapeAttr(this.domain)}"`;
    this.write(`<?xml version='1.0'?><stream:stream xmlns="${NS.COMPONENT}" xmlns:stream="${NS.STREAM}" id="${this.streamId}"${from}>`);
  }

  private onElement(element: Element): void {
    if (this.state === 'closed') return;
    this.queued++;
    if (this.queued > QUEUE_HIGH) this.socket.pause();
    this.queue = this.queue
      .then(() => this.handleElement(element))
      .catch((err: unknown) => this.onHandlerFailure(err))
      .finally(() => {
        this.queued--;
        if (this.queued < QUEUE_LOW && this.socket.isPaused()) this.socket.resume();
      });
  }

  private onHandlerFailure(err: unknown): void {
    if (err instanceof StreamError) {
      this.closeWithError(err);
      return;
    }
    this.log.error({ err }, 'component stanza handling failed');
  }

  private async handleElement(element: Element): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'handshake') return this.handleHandshake(element);
    if (this.state !== 'ready') throw new StreamError('not-authorized', 'The stream is not open yet.');
    if (!STANZA_KINDS.has(element.name) || (element.ns !== NS.COMPONENT && element.ns !== NS.CLIENT)) {
      throw new StreamError('unsupported-stanza-type', `<${element.name}/> in ${element.ns} is not a stanza this server handles.`);
    }
    await this.rateLimit();
    await this.routeStanza(renamespace(element, NS.COMPONENT, NS.CLIENT));
  }

  private handleHandshake(element: Element): void {
    if (element.name !== 'handshake' || element.ns !== NS.COMPONENT) {
      throw new StreamError('not-authorized', `<${element.name}/> is not allowed before the handshake.`);
    }
    const ip = this.socket.remoteAddress ?? 'unknown';
    const throttle = this.host.server.authThrottle;
    if (!throttle.check(ip).allowed) throw new StreamError('not-authorized', 'Too many failed handshakes; try again later.');
    if (!verifyHandshake(this.streamId, this.host.secretFor(this.domain)!, element.text())) {
      throttle.recordFailure(ip);
      throw new StreamError('not-authorized', 'The handshake does not match the secret.');
    }
    if (!this.host.attach(this)) throw new StreamError('conflict', `A component is already connected for ${this.domain}.`);
    clearTimeout(this.authTimer);
    this.state = 'ready';
    this.write(serialize(x('handshake', NS.COMPONENT), NS.COMPONENT));
    this.log.info('component authenticated');
  }

  /** Checks the addresses (XEP-0114 section 3: `from` within the component's domain) and routes the stanza. */
  private async routeStanza(stanza: Element): Promise<void> {
    const from = this.checkFrom(stanza.attr('from'));
    stanza.attrs.from = from.toString();
    const toText = stanza.attr('to');
    if (toText === undefined) throw new StreamError('improper-addressing', `<${stanza.name}/> from a component needs a "to" address.`);
    const to = JID.parseOrNull(toText);
    if (!to) {
      if (stanza.attr('type') !== 'error') this.send(errorReply(stanza, new StanzaError('jid-malformed', `The address "${toText}" is not a valid JID.`)));
      return;
    }
    stanza.attrs.to = to.toString();
    await this.host.server.router.route(stanza, from, to);
  }

  private checkFrom(fromText: string | undefined): JID {
    if (fromText === undefined) return JID.parse(this.domain);
    const from = JID.parseOrNull(fromText);
    if (!from || from.domain !== this.domain) {
      throw new StreamError('invalid-from', `A stanza from this component must come from ${this.domain} or an address at it.`);
    }
    return from;
  }

  private async rateLimit(): Promise<void> {
    const waitMs = this.rate.take();
    if (waitMs <= 0) return;
    this.socket.pause();
    await new Promise((resolve) => setTimeout(resolve, waitMs));
    if (this.queued < QUEUE_HIGH) this.socket.resume();
  }

  private onStreamEnd(): void {
    void this.queue.then(() => {
      this.write('</stream:stream>');
      this.end('closed by component');
    });
  }

  private onParseError(error: XmlParseError): void {
    this.closeWithError(new StreamError(error.condition, error.message));
  }

  private write(text: string): void {
    if (this.state === 'closed' || this.socket.destroyed) return;
    this.socket.write(text);
  }

  /** Closes our side; the socket's 'close' finishes the connection. */
  private end(reason: string): void {
    if (this.state === 'closed') return;
    this.finish(reason);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  private finish(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.authTimer);
    this.host.detach(this);
    this.log.info({ reason }, 'component connection closed');
    this.markClosed();
  }
}
