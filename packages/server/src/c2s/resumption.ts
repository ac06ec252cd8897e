/** The server-wide registry of sessions that a client may resume (XEP-0198 section 5). */
import { createHash, randomBytes } from 'node:crypto';
import type { Element, JID } from '@parley/xmpp';
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

/** Told when a token starts or stops naming a session of this process (the cluster records it in Redis). */
export interface ResumableListener {
  added(digest: string, username: string): void;
  removed(digest: string): void;
}

interface Entry<S> {
  session: S;
  username: string;
  digest: string;
  timer: NodeJS.Timeout | undefined;
  /** Set while the session has no connection: what ends it, and after how long. */
  hibernation: { timeoutMs: number; expire: () => void } | undefined;
  /** True while another cluster node takes the session over; its timeout waits meanwhile. */
  claimed: boolean;
}

/** Returns the SHA-256 of a resumption token, the form in which it leaves the process. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/**
 * Sessions with resumption enabled, by token. A token resumes only a session of the same
 * account. A session whose connection dropped hibernates here until its client resumes it
 * or its timeout ends it. The sessions live in this process only: after a restart every
 * `<resume/>` fails and clients bind anew, which XEP-0198 allows. In a cluster another node
 * may take a session over (`claim`, then `handOff`), and the listener records which node
 * has each token.
 */
export class ResumableSessions<S extends Resumable> {
  /**
   * Test hook: the value that stream management counters start from. XEP-0198 starts them
   * at 0, and tests set a value near 2^32 to drive them across the wrap. Production code never sets it.
   */
  testCounterStart = 0;

  private readonly entries = new Map<string, Entry<S>>();
  /** Token by digest, for requests from other cluster nodes, which carry only the digest. */
  private readonly byDigest = new Map<string, string>();
  /** Final inbound counters of ended sessions by token digest, oldest first. */
  private readonly ended = new Map<string, { username: string; handled: number }>();
  private listener: ResumableListener | undefined;

  /** Reports tokens added and removed from now on to `listener`. */
  listen(listener: ResumableListener): void {
    this.listener = listener;
  }

  /** Registers `session` and returns its new token. */
  register(session: S): string {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    this.adopt(token, session);
    return token;
  }

  /** Registers `session` under `token`, which another cluster node created. */
  adopt(token: string, session: S): void {
    if (session.username === undefined) throw new Error('only an authenticated session can be resumable');
    const digest = tokenDigest(token);
    this.entries.set(token, { session, username: session.username, digest, timer: undefined, hibernation: undefined, claimed: false });
    this.byDigest.set(digest, token);
    this.listener?.added(digest, session.username);
  }

  /** Returns the session that `token` names if it belongs to `username` and no other node takes it over; undefined otherwise. */
  find(token: string, username: string): S | undefined {
    const entry = this.entries.get(token);
    return entry?.username === username && !entry.claimed ? entry.session : undefined;
  }

  /** Finds a session by the digest of its token, as `find` does by token. */
  findByDigest(digest: string, username: string): { token: string; session: S } | undefined {
    const token = this.byDigest.get(digest);
    const session = token === undefined ? undefined : this.find(token, username);
    return session === undefined ? undefined : { token: token!, session };
  }

  /** Starts the timeout of a session whose connection dropped; `expire` ends it. */
  hibernate(token: string, timeoutMs: number, expire: () => void): void {
    const entry = this.entries.get(token);
    if (!entry) return;
    entry.hibernation = { timeoutMs, expire };
    if (!entry.claimed) this.startTimer(entry);
  }

  /** Stops the timeout: the session has a connection again. */
  wake(token: string): void {
    const entry = this.entries.get(token);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.hibernation = undefined;
  }

  /**
   * Reserves a session for a takeover by another cluster node: `find` no longer returns it
   * and its timeout waits. Returns false when the token is unknown or already claimed.
   */
  claim(token: string): boolean {
    const entry = this.entries.get(token);
    if (!entry || entry.claimed) return false;
    entry.claimed = true;
    clearTimeout(entry.timer);
    entry.timer = undefined;
    return true;
  }

  /** Ends a claim that failed; a hibernating session gets its full timeout again. */
  release(token: string): void {
    const entry = this.entries.get(token);
    if (!entry?.claimed) return;
    entry.claimed = false;
    if (entry.hibernation) this.startTimer(entry);
  }

  /** Forgets a session that another cluster node continues; unlike `retire`, it keeps no final `h`. */
  handOff(token: string): void {
    const entry = this.entries.get(token);
    if (!entry) return;
    this.remove(token, entry);
  }

  /** Forgets a session that ended; `handled` is its final inbound counter. */
  retire(token: string, handled: number): void {
    const entry = this.entries.get(token);
    if (!entry) return;
    this.remove(token, entry);
    this.ended.set(entry.digest, { username: entry.username, handled });
    if (this.ended.size > MAX_REMEMBERED) this.ended.delete(this.ended.keys().next().value!);
  }

  /** Returns the final inbound counter of an ended session of `username`, for the `h` of `<failed/>`. */
  endedHandled(token: string, username: string): number | undefined {
    return this.endedHandledByDigest(tokenDigest(token), username);
  }

  /** Returns the final inbound counter of an ended session by the digest of its token. */
  endedHandledByDigest(digest: string, username: string): number | undefined {
    const ended = this.ended.get(digest);
    return ended?.username === username ? ended.handled : undefined;
  }

  /** Sessions that wait for their client to come back, including those another node is taking over. */
  hibernating(): S[] {
    return [...this.entries.values()].filter((entry) => entry.hibernation !== undefined).map((entry) => entry.session);
  }

  /** Returns the digest and account of every registered token, for the cluster's record of them. */
  digests(): { digest: string; username: string }[] {
    return [...this.entries.values()].map((entry) => ({ digest: entry.digest, username: entry.username }));
  }

  /** Number of registered sessions, connected or not. */
  get size(): number {
    return this.entries.size;
  }

  private startTimer(entry: Entry<S>): void {
    const { timeoutMs, expire } = entry.hibernation!;
    clearTimeout(entry.timer);
    entry.timer = setTimeout(() => {
      entry.timer = undefined;
      expire();
    }, timeoutMs);
    entry.timer.unref();
  }

  private remove(token: string, entry: Entry<S>): void {
    clearTimeout(entry.timer);
    this.entries.delete(token);
    this.byDigest.delete(entry.digest);
    this.listener?.removed(entry.digest);
  }
}

/** A session that another cluster node handed over, ready to continue on the connection that resumed it. */
export interface ArrivedSession {
  /** The session's full JID. */
  readonly jid: JID;
  /**
   * Continues the session on the successor connection: sends `<resumed/>` and the stanzas
   * the client has not acknowledged. With `announce`, the elements it builds around
   * `<resumed/>` (a SASL2 `<success/>`) go out in its place.
   */
  continue(announce?: (resumed: Element) => Element[]): void;
}

/**
 * The outcome of a `<resume/>`: a local session to continue, a session another cluster node
 * handed over, a `<failed/>` reply, or nothing more because a stream closed.
 */
export type ResumeAttempt =
  | { kind: 'resumed'; target: ClientSession }
  | { kind: 'arrived'; session: ArrivedSession }
  | { kind: 'failed'; answer: Element }
  | { kind: 'closed' };

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
  if (attempt.kind === 'arrived') attempt.session.continue();
}

/**
 * Finds and settles the session `request` names and applies its `h`, so that the caller can
 * adopt it or send the reply. A token that no session of this process has goes to the
 * cluster, and the node with that session hands it over.
 */
export async function attemptResume(successor: ClientSession, request: Element): Promise<ResumeAttempt> {
  const { resumableSessions: registry, cluster } = successor.server;
  const token = request.attr('previd') ?? '';
  const username = successor.username!;
  const h = parseCounter(request.attr('h'));
  if (h === undefined) return { kind: 'failed', answer: smFailed('bad-request') };
  const target = registry.find(token, username);
  if (!target) {
    const handled = registry.endedHandled(token, username);
    if (handled === undefined && cluster && token !== '') return cluster.moves.resume(successor, token, h);
    return { kind: 'failed', answer: smFailed('item-not-found', handled) };
  }

  target.suspend();
  await target.settle();
  if (successor.state === 'closed') return { kind: 'closed' };
  // The session ended meanwhile, or another cluster node claimed it.
  if (registry.find(token, username) !== target) return { kind: 'failed', answer: smFailed('item-not-found', registry.endedHandled(token, username)) };
  const outcome = target.sm!.acknowledge(h);
  if (outcome.kind === 'too-high') {
    successor.closeWithError(handledCountTooHigh(h, outcome.sendCount));
    target.close('resumed with an acknowledgement beyond the stanzas sent');
    return { kind: 'closed' };
  }
  return { kind: 'resumed', target };
}
