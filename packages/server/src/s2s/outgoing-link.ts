import type { Logger } from 'pino';
import { type Element, NS, StanzaError, StreamError } from '@parley/xmpp';
import { type ConnectorContext, openOutgoingStream } from './connector.js';
import type { DialbackKeys } from './dialback-key.js';
import { NegotiationError } from './inbox.js';
import type { Target } from './resolver.js';
import { type AuthMethod, authenticateOutgoing } from './outgoing-auth.js';
import type { ServerStreamSocket } from './stream-socket.js';

/** The parts of the federation service that an outgoing link uses. */
export interface LinkHost extends ConnectorContext {
  readonly keys: DialbackKeys;
  /** Sends an error reply for a stanza that could not be delivered. */
  bounce(stanza: Element, error: StanzaError): void;
}

type LinkState = 'connecting' | 'ready' | 'closed';

/**
 * The outgoing stream from one of our domains to one remote domain. Stanzas wait in a bounded
 * queue while it connects and authenticate; if it fails they bounce with remote-server-not-found
 * or remote-server-timeout. Once ready it closes after `[s2s] idle_timeout_s` without stanzas.
 */
export class OutgoingLink {
  private state: LinkState = 'connecting';
  /** Authentication method of the stream, once it is ready. */
  authMethod: AuthMethod | undefined;
  /** The address connected to, once connected. */
  target: Target | undefined;
  /** Why the link could not be set up, once it failed. */
  failure: StanzaError | undefined;
  private readonly queue: Element[] = [];
  private stream: ServerStreamSocket | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private readonly connectTimer: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(
    private readonly host: LinkHost,
    readonly local: string,
    readonly remote: string,
    /** Called once when the link can no longer send. */
    private readonly onClosed: (link: OutgoingLink) => void,
  ) {
    this.log = host.log.child({ s2s: 'out', local, remote });
    const timeoutMs = host.config.s2s.connect_timeout_s * 1000;
    this.connectTimer = setTimeout(() => this.fail(new NegotiationError(`connecting to ${remote} timed out`, 'remote-server-timeout')), timeoutMs);
    this.connectTimer.unref();
    void this.connect(Date.now() + timeoutMs);
  }

  get isOpen(): boolean {
    return this.state !== 'closed';
  }

  get isReady(): boolean {
    return this.state === 'ready';
  }

  /** Sends a stanza now, or queues it while the stream is being set up. */
  send(stanza: Element): void {
    if (this.state === 'ready') {
      this.stream!.send(stanza);
      this.idleTimer?.refresh();
      return;
    }
    if (this.state === 'closed') {
      this.host.bounce(stanza, new StanzaError('remote-server-not-found', `The connection to ${this.remote} is closed.`));
      return;
    }
    if (this.queue.length >= this.host.config.s2s.max_queued) {
      this.host.bounce(stanza, new StanzaError('resource-constraint', `Too many stanzas are waiting for the connection to ${this.remote}.`));
      return;
    }
    this.queue.push(stanza);
  }

  /** Closes the stream (idle timeout, shutdown); queued stanzas bounce. */
  close(reason: string): void {
    if (this.state === 'closed') return;
    const wasReady = this.state === 'ready';
    this.finish();
    if (wasReady) this.stream?.closeStream();
    else this.stream?.destroy();
    this.bounceQueue(new StanzaError('remote-server-not-found', `The connection to ${this.remote} was closed: ${reason}.`));
    this.log.info({ reason }, 'outgoing server-to-server stream closed');
  }

  private async connect(deadline: number): Promise<void> {
    try {
      const opened = await openOutgoingStream(this.host, this.local, this.remote, deadline);
      this.stream = opened.stream;
      this.target = opened.target;
      if (!this.isOpen) {
        opened.stream.destroy();
        return;
      }
      const method = await authenticateOutgoing(opened, this.host.keys, this.local, this.remote, deadline);
      if (!this.isOpen) {
        opened.stream.closeStream();
        return;
      }
      this.becomeReady(opened.stream, method);
    } catch (err) {
      this.fail(err instanceof NegotiationError ? err : new NegotiationError((err as Error).message));
    }
  }

  private becomeReady(stream: ServerStreamSocket, method: AuthMethod): void {
    clearTimeout(this.connectTimer);
    this.state = 'ready';
    this.authMethod = method;
    stream.attach({
      header: () => undefined,
      element: (element) => this.onPeerElement(element),
      end: () => this.close('closed by the peer'),
      parseError: (error) => {
        stream.closeWithError(new StreamError(error.condition, error.message));
        this.close(`invalid XML from the peer: ${error.message}`);
      },
      closed: (reason) => this.close(reason),
    });
    this.log.info({ method }, 'outgoing server-to-server stream authenticated');

    const waiting = this.queue.splice(0);
    for (const stanza of waiting) stream.send(stanza);
    this.idleTimer = setTimeout(() => this.close('idle timeout'), this.host.config.s2s.idle_timeout_s * 1000);
    this.idleTimer.unref();
  }

  /** Handles an element from the receiving server, which sends only stream errors here because streams are not bidirectional (XEP-0288). */
  private onPeerElement(element: Element): void {
    if (element.name === 'error' && element.ns === NS.STREAM) {
      this.close(`stream error ${element.getChildByNs(NS.STREAMS)?.name ?? 'undefined-condition'} from the peer`);
      return;
    }
    this.log.debug({ element: element.name, ns: element.ns }, 'ignored an element on an outgoing stream');
  }

  private fail(err: NegotiationError): void {
    if (this.state === 'closed') return;
    this.failure = new StanzaError(err.condition, `Could not reach ${this.remote}: ${err.message}.`);
    this.finish();
    this.stream?.destroy();
    this.log.warn({ err: err.message, queued: this.queue.length }, 'outgoing server-to-server stream failed');
    this.bounceQueue(this.failure);
  }

  private finish(): void {
    this.state = 'closed';
    clearTimeout(this.connectTimer);
    clearTimeout(this.idleTimer);
    this.onClosed(this);
  }

  private bounceQueue(error: StanzaError): void {
    for (const stanza of this.queue.splice(0)) this.host.bounce(stanza, error);
  }
}
