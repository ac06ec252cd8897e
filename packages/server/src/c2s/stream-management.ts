/** Per-session state of stream management (XEP-0198): stanza counters, unacknowledged stanzas, ack requests. */
import { type Element, JID, NS, StanzaError, type StanzaErrorCondition, StreamError, x } from '@parley/xmpp';
import type { ServerContext } from '../core/context.js';
import type { ClientSession } from './session.js';

/** XEP-0198 section 4: `h` is an unsigned 32-bit integer that wraps to 0 after 2^32 - 1. */
const COUNTER_MODULUS = 2 ** 32;
/** Stanzas sent since the last `<r/>` after which the server requests an acknowledgement at once. */
export const ACK_REQUEST_BATCH = 10;
/** Time an unacknowledged stanza waits before the server requests an acknowledgement. */
export const ACK_REQUEST_DELAY_MS = 1000;

/** Namespaces of message copies that the archive contains already: XEP-0280 carbons and XEP-0313 results. */
const COPY_NAMESPACES = new Set(['urn:xmpp:carbons:2', 'urn:xmpp:mam:2']);

/** Returns `value` reduced to the counter range [0, 2^32). */
export function wrapCounter(value: number): number {
  return ((value % COUNTER_MODULUS) + COUNTER_MODULUS) % COUNTER_MODULUS;
}

/** Returns how many steps forward `to` lies from `from` on the wrapping counter. */
export function counterDistance(from: number, to: number): number {
  return wrapCounter(to - from);
}

/** Parses an `h` attribute: a decimal integer in [0, 2^32), or undefined when it is not one. */
export function parseCounter(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return undefined;
  const value = Number(text);
  return value < COUNTER_MODULUS ? value : undefined;
}

/** The effect of an `<a h='...'/>` from the client on the outbound queue. */
export type AckOutcome =
  | { kind: 'acknowledged'; count: number }
  /** An `h` behind the last one: a late or repeated acknowledgement, ignored. */
  | { kind: 'stale' }
  /** An `h` beyond what was sent (XEP-0198 section 6); `sendCount` is the outbound counter. */
  | { kind: 'too-high'; sendCount: number };

export interface StreamManagementOptions {
  /** The value both counters start from: 0 in XEP-0198; tests start near 2^32 to cross the wrap. */
  start: number;
  /** Unacknowledged stanzas allowed; `recordSent` reports when there are more. */
  maxUnacked: number;
  /** Writes `<r/>` to the client. */
  requestAck(): void;
}

/** The counters and queue of a session's stream management, for another cluster node that continues it. */
export interface StreamManagementSnapshot {
  /** The inbound counter `h`. */
  handled: number;
  /** The outbound counter value the client acknowledged last. */
  acked: number;
  /** Stanzas sent and not acknowledged, oldest first. */
  unacked: Element[];
}

/**
 * The stream management state of one session. Outbound: every stanza written goes to a
 * queue until the client acknowledges it. Inbound: a stanza counts as handled (the `h` the
 * server reports) once every earlier one counted and its durable writes resolved.
 */
export class StreamManagement {
  /** The resumption token, when the client enabled resumption. */
  resumeId: string | undefined;
  /** Seconds the session waits for its client after the connection drops. */
  resumeTimeoutS = 0;

  /** The outbound counter value the client last acknowledged. */
  private acked: number;
  /** Stanzas sent and not acknowledged; `unacked[i]` has sequence number `acked + 1 + i`. */
  private unacked: Element[] = [];
  /** Inbound stanzas handled and durable, modulo 2^32. */
  private handled: number;
  private counting: Promise<void> = Promise.resolve();
  private writeFailed = false;

  private requestTimer: NodeJS.Timeout | undefined;
  private awaitingAck = false;
  /** The outbound counter when the last `<r/>` went out. */
  private requestedAt: number;
  private connected = true;

  constructor(private readonly options: StreamManagementOptions) {
    this.acked = wrapCounter(options.start);
    this.handled = this.acked;
    this.requestedAt = this.acked;
  }

  /** The outbound counter: stanzas sent since stream management was enabled, modulo 2^32. */
  get sent(): number {
    return wrapCounter(this.acked + this.unacked.length);
  }

  /** The inbound counter `h` reported in `<a/>` and `<resumed/>`. */
  get handledCount(): number {
    return this.handled;
  }

  get unackedCount(): number {
    return this.unacked.length;
  }

  /** Returns the stanzas waiting for acknowledgement, oldest first. */
  pending(): Element[] {
    return [...this.unacked];
  }

  /** Returns the counters and the queue, for another cluster node that continues the session. */
  snapshot(): StreamManagementSnapshot {
    return { handled: this.handled, acked: this.acked, unacked: this.pending() };
  }

  /** Takes over the counters and the queue of a session that another cluster node handed over. */
  restore(snapshot: StreamManagementSnapshot): void {
    this.handled = wrapCounter(snapshot.handled);
    this.acked = wrapCounter(snapshot.acked);
    this.requestedAt = this.acked;
    this.unacked = [...snapshot.unacked];
  }

  /** Records a stanza written to the client; false when the queue is now over `maxUnacked`. */
  recordSent(stanza: Element): boolean {
    this.unacked.push(stanza);
    this.scheduleRequest();
    return this.unacked.length <= this.options.maxUnacked;
  }

  /** Applies the client's `h`: drops acknowledged stanzas from the queue. */
  acknowledge(h: number): AckOutcome {
    const count = counterDistance(this.acked, h);
    if (count > this.unacked.length) {
      // Half the counter range behind the last acknowledgement counts as behind, the rest as ahead.
      if (counterDistance(h, this.acked) < COUNTER_MODULUS / 2) return { kind: 'stale' };
      return { kind: 'too-high', sendCount: this.sent };
    }
    this.unacked.splice(0, count);
    this.acked = h;
    this.awaitingAck = false;
    if (this.unacked.length > 0) this.scheduleRequest();
    return { kind: 'acknowledged', count };
  }

  /** Empties the queue and returns what it held, for a session that ends. */
  takePending(): Element[] {
    const pending = this.unacked;
    this.acked = this.sent;
    this.unacked = [];
    return pending;
  }

  /**
   * Records that the session finished handling an inbound stanza. The stanza counts once
   * every earlier stanza counted and `writes` resolved. When a write fails, `onFailure`
   * runs, and neither this stanza nor any later one counts until `resetAfterFailure`.
   */
  stanzaHandled(writes: Promise<unknown>[], onFailure: (err: unknown) => void): void {
    const settled = Promise.all(writes);
    // Marked handled here so that a failure is not reported as unhandled while earlier stanzas wait.
    settled.catch(() => undefined);
    this.counting = this.counting.then(() =>
      settled.then(
        () => {
          if (!this.writeFailed) this.handled = wrapCounter(this.handled + 1);
        },
        (err: unknown) => {
          if (this.writeFailed) return;
          this.writeFailed = true;
          onFailure(err);
        },
      ),
    );
  }

  /** Runs `fn` once every stanza recorded so far has counted (or failed). */
  whenCounted(fn: () => void): void {
    this.counting = this.counting.then(fn);
  }

  /** Resolves once every stanza recorded so far has counted (or failed). */
  counted(): Promise<void> {
    return this.counting;
  }

  /** Counts stanzas again after a failed write, once the client resumed from the last `h`. */
  resetAfterFailure(): void {
    this.writeFailed = false;
  }

  /** Stops ack requests while the session has no connection, until `reconnect`. */
  disconnect(): void {
    this.connected = false;
    this.awaitingAck = false;
    this.clearTimer();
  }

  /** Resumes ack requests on a new connection, with one at once when stanzas are still queued. */
  reconnect(): void {
    this.connected = true;
    if (this.unacked.length > 0) this.sendRequest();
  }

  /** Stops the timers, for a session that ends. */
  stop(): void {
    this.connected = false;
    this.clearTimer();
  }

  /**
   * Asks for an acknowledgement after every ACK_REQUEST_BATCH stanzas, and after
   * ACK_REQUEST_DELAY_MS when stanzas wait and no request is outstanding.
   */
  private scheduleRequest(): void {
    if (!this.connected) return;
    if (counterDistance(this.requestedAt, this.sent) >= ACK_REQUEST_BATCH) {
      this.sendRequest();
      return;
    }
    if (this.requestTimer === undefined && !this.awaitingAck) {
      this.requestTimer = setTimeout(() => this.sendRequest(), ACK_REQUEST_DELAY_MS);
      this.requestTimer.unref();
    }
  }

  private sendRequest(): void {
    this.clearTimer();
    if (!this.connected) return;
    this.awaitingAck = true;
    this.requestedAt = this.sent;
    this.options.requestAck();
  }

  private clearTimer(): void {
    clearTimeout(this.requestTimer);
    this.requestTimer = undefined;
  }
}

/**
 * Reroutes the stanzas a session never got acknowledged, when it ends for good. Messages go
 * through `message/offline` in order, where offline storage stamps them with a delay. IQ
 * requests get a service-unavailable error. Presence is dropped, because the session's
 * unavailable presence supersedes it. `owner` is the session's full JID.
 */
export async function rerouteUnacked(server: ServerContext, owner: JID, stanzas: Element[]): Promise<void> {
  for (const stanza of stanzas) {
    try {
      if (stanza.name === 'message') await rerouteMessage(server, owner, stanza);
      else if (stanza.name === 'iq' && (stanza.attr('type') === 'get' || stanza.attr('type') === 'set')) {
        server.router.bounce(stanza, new StanzaError('service-unavailable', 'The recipient went offline before it could respond.'));
      }
    } catch (err) {
      server.log.error({ err, jid: owner.toString() }, 'an unacknowledged stanza could not be rerouted');
    }
  }
}

async function rerouteMessage(server: ServerContext, owner: JID, message: Element): Promise<void> {
  if (message.elements().some((child) => COPY_NAMESPACES.has(child.ns))) return;
  const from = JID.parseOrNull(message.attr('from') ?? '') ?? JID.parse(server.config.domain);
  // NOTE: offline storage replaces a delay stamp of this domain with the time of storing, so a
  // message that came from offline storage once loses its first stamp here.
  // TODO: `message/offline` offers no way to await the write when no session sent the message,
  // so at shutdown storage may close before a rerouted message is stored.
  if (!server.router.isEphemeral(owner.domain) && (await server.hooks.fire('message/offline', { stanza: message, from, to: owner }))) return;
  const type = message.attr('type') ?? 'normal';
  if (type === 'chat' || type === 'normal') {
    server.router.bounce(message, new StanzaError('service-unavailable', 'The recipient went offline before receiving this message.'));
  }
}

/** Builds `<failed/>` with a stanza error condition, and the inbound counter when known (XEP-0198 section 6). */
export function smFailed(condition: StanzaErrorCondition, h?: number): Element {
  return x('failed', NS.SM, { h }, x(condition, NS.STANZAS));
}

/** Builds the stream error for an `h` beyond the stanzas sent (XEP-0198 section 6). */
export function handledCountTooHigh(h: number, sendCount: number): StreamError {
  return new StreamError(
    'undefined-condition',
    `You acknowledged ${h} stanzas, but only ${sendCount} were sent to you.`,
    x('handled-count-too-high', NS.SM, { h, 'send-count': sendCount }),
  );
}

/** Handles `<enable/>`, `<r/>` and `<a/>` from the client (XEP-0198 sections 3 and 4); `<resume/>` goes to resumeSession. */
export function handleStreamManagement(session: ClientSession, element: Element): void {
  switch (element.name) {
    case 'enable':
      return enable(session, element);
    case 'r':
      return answerAckRequest(session);
    case 'a':
      return applyAck(session, element);
    case 'resume':
      // A bound session cannot resume another one (XEP-0198 section 5: <resume/> replaces binding).
      return session.writeNonza(smFailed('unexpected-request'));
    default:
      throw new StreamError('unsupported-stanza-type', `<${element.name}/> is not a stream management element a client sends.`);
  }
}

/** XEP-0198 section 3: only after resource binding, and only once per stream. */
function enable(session: ClientSession, request: Element): void {
  if (session.state !== 'bound' || session.sm) {
    session.writeNonza(smFailed('unexpected-request'));
    return;
  }
  session.writeNonza(startStreamManagement(session, request));
}

/** Enables stream management on `session` as `request` asks and returns the `<enabled/>` answer; Bind 2 calls it before the session is bound. */
export function startStreamManagement(session: ClientSession, request: Element): Element {
  const { config, resumableSessions } = session.server;
  const sm = createStreamManagement(session, resumableSessions.testCounterStart);
  session.sm = sm;
  const resume = request.attr('resume');
  // An anonymous user cannot log in as the same account again, so it could never resume.
  if ((resume !== 'true' && resume !== '1') || session.anonymous) return x('enabled', NS.SM);
  sm.resumeId = resumableSessions.register(session);
  sm.resumeTimeoutS = resumeTimeout(request.attr('max'), config.sessions.resume_timeout_s);
  return x('enabled', NS.SM, { id: sm.resumeId, resume: 'true', max: sm.resumeTimeoutS });
}

function createStreamManagement(session: ClientSession, start: number): StreamManagement {
  return new StreamManagement({
    start,
    maxUnacked: session.server.config.sessions.max_unacked,
    requestAck: () => session.writeNonza(x('r', NS.SM)),
  });
}

/**
 * Builds the stream management state of a session that another cluster node handed over
 * to `session`: its counters, its queue and its resumption token, which stays the same.
 */
export function restoreStreamManagement(session: ClientSession, snapshot: StreamManagementSnapshot, token: string, resumeTimeoutS: number): StreamManagement {
  const sm = createStreamManagement(session, 0);
  sm.restore(snapshot);
  sm.resumeId = token;
  sm.resumeTimeoutS = resumeTimeoutS;
  return sm;
}

/** Returns the client's preferred `max` when it is shorter than the configured timeout, else the timeout. */
function resumeTimeout(requested: string | undefined, configured: number): number {
  const max = requested !== undefined && /^\d{1,9}$/.test(requested) ? Number(requested) : 0;
  return max >= 1 && max < configured ? max : configured;
}

/** Sends `<a/>` for an `<r/>` once every stanza received before it is durable, so that `h` covers them. */
function answerAckRequest(session: ClientSession): void {
  const { sm } = session;
  if (!sm) {
    session.writeNonza(smFailed('unexpected-request'));
    return;
  }
  sm.whenCounted(() => session.writeNonza(x('a', NS.SM, { h: sm.handledCount })));
}

function applyAck(session: ClientSession, ack: Element): void {
  const { sm } = session;
  if (!sm) {
    session.writeNonza(smFailed('unexpected-request'));
    return;
  }
  const h = parseCounter(ack.attr('h'));
  if (h === undefined) throw new StreamError('bad-format', 'The h attribute of <a/> must be an integer from 0 to 4294967295.');
  const outcome = sm.acknowledge(h);
  if (outcome.kind === 'too-high') throw handledCountTooHigh(h, outcome.sendCount);
}
