/** The server-wide registry of sessions that a client may resume (XEP-0198 section 5). */
import { randomBytes } from 'node:crypto';
import type { Element } from '@parley/xmpp';
import type { ClientSession } from './session.js';
import { handledCountTooHigh, parseCounter, smFailed } from './stream-management.js';

/** Bytes of randomness in a resumption token: 144 bits, so tokens cannot be guessed. */
const TOKEN_BYTES = 18;
/** Ended sessions remembered, so that a late `<resume/>` still learns the final `h`. */
const MAX_REMEMBERED = 10_000;

/** The part of a session that the registry uses. */
export interface Resumable {
  /** The account the session authenticated as. */
  readonly username: string | undefined;
}

interface Entry<S> {
  session: S;
  username: string;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Sessions with resumption enabled, by token. A token resumes only a session of the same
 * account. A session whose connection dropped hibernates here until its client resumes it
 * or its timeout ends it. The state lives in memory only, so after a restart every
 * `<resume/>` fails and clients bind anew, which XEP-0198 allows.
 */
export class ResumableSessions<S extends Resumable> {
  /**
   * Test hook: the value that stream management counters start from. XEP-0198 starts them
   * at 0, and tests set a value near 2^32 to drive them across the wrap. Production code never sets it.
   */
  testCounterStart = 0;

  private readonly entries = new Map<string, Entry<S>>();
  /** Final inbound counters of ended sessions by token, oldest first. */
  private readonly ended = new Map<string, { username: string; handled: number }>();

  /** Registers `session` and returns its new token. */
  register(session: S): string {
    if (session.username === undefined) throw new Error('only an authenticated session can be resumable');
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    this.entries.set(token, { session, username: session.username, timer: undefined });
    return token;
  }

  /** Returns the session that `token` names if it belongs to `username`; undefined otherwise. */
  find(token: string, username: string): S | undefined {
    const entry = this.entries.get(token);
    return entry?.username === username ? entry.session : undefined;
  }

  /** Starts the timeout of a session whose connection dropped; `expire` ends it. */
  hibernate(token: string, timeoutMs: number, expire: () => void): void {
    const entry = this.entries.get(token);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      expire();
    }, timeoutMs);
    entry.timer.unref();
  }

  /** Stops the timeout: the session has a connection again. */
  wake(token: string): void {
    const entry = this.entries.get(token);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  /** Forgets a session that ended; `handled` is its final inbound counter. */
  retire(token: string, handled: number): void {
    const entry = this.entries.get(token);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.entries.delete(token);
    this.ended.set(token, { username: entry.username, handled });
    if (this.ended.size > MAX_REMEMBERED) this.ended.delete(this.ended.keys().next().value!);
  }

  /** Returns the final inbound counter of an ended session of `username`, for the `h` of `<failed/>`. */
  endedHandled(token: string, username: string): number | undefined {
    const ended = this.ended.get(token);
    return ended?.username === username ? ended.handled : undefined;
  }

  /** Sessions that wait for their client to come back. */
  hibernating(): S[] {
    return [...this.entries.values()].filter((entry) => entry.timer !== undefined).map((entry) => entry.session);
  }

  /** Number of registered sessions, connected or not. */
  get size(): number {
    return this.entries.size;
  }
}

/** What a `<resume/>` led to: the session to continue, a `<failed/>` answer, or nothing more because a stream closed. */
export type ResumeAttempt = { kind: 'resumed'; target: ClientSession } | { kind: 'failed'; answer: Element } | { kind: 'closed' };

/**
 * Handles `<resume/>` on a stream that authenticated and bound no resource (XEP-0198
 * section 5). The session the token names takes over this connection. Its old connection,
 * if still open, gets a `conflict` stream error. Once everything that arrived on the old
 * connection is handled and durable, the client gets `<resumed h/>` and the stanzas it has
 * not acknowledged. Otherwise the client gets `<failed/>` and may bind a resource instead.
 */
export async function resumeSession(successor: ClientSession, request: Element): Promise<void> {
  const attempt = await attemptResume(successor, request);
  if (attempt.kind === 'failed') successor.writeNonza(attempt.answer);
  if (attempt.kind === 'resumed') attempt.target.adoptConnection(successor);
}

/** Finds and settles the session `request` names and applies its `h`; the caller adopts or answers. */
export async function attemptResume(successor: ClientSession, request: Element): Promise<ResumeAttempt> {
  const registry = successor.server.resumableSessions;
  const token = request.attr('previd') ?? '';
  const username = successor.username!;
  const h = parseCounter(request.attr('h'));
  if (h === undefined) return { kind: 'failed', answer: smFailed('bad-request') };
  const target = registry.find(token, username);
  if (!target) return { kind: 'failed', answer: smFailed('item-not-found', registry.endedHandled(token, username)) };

  target.suspend();
  await target.settle();
  if (successor.state === 'closed') return { kind: 'closed' };
  if (target.state === 'closed') return { kind: 'failed', answer: smFailed('item-not-found', registry.endedHandled(token, username)) };
  const outcome = target.sm!.acknowledge(h);
  if (outcome.kind === 'too-high') {
    successor.closeWithError(handledCountTooHigh(h, outcome.sendCount));
    target.close('resumed with an acknowledgement beyond the stanzas sent');
    return { kind: 'closed' };
  }
  return { kind: 'resumed', target };
}
