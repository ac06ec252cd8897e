/**
 * Stream management resumption on another cluster node (XEP-0198 section 5). Behind a load
 * balancer a client cannot choose its node, so instead of sending it back with `location`
 * the node that has the session hands it over to the node where the client resumes.
 */
import { randomBytes } from 'node:crypto';
import { type Element, parseFrame, serialize } from '@parley/xmpp';
import { type ArrivedSession, type ResumeAttempt, tokenDigest } from '../c2s/resumption.js';
import type { ClientSession } from '../c2s/session.js';
import { type DecodedSession, captureSession, decodeSession, restoreSession } from '../c2s/session-transfer.js';
import { handledCountTooHigh, rerouteUnacked, smFailed } from '../c2s/stream-management.js';
import type { ServerContext } from '../core/context.js';
import { ClientState } from '../modules/csi/state.js';
import type { ClusterBus } from './bus.js';
import type { MoveResult, NodeMessage } from './messages.js';
import { ArrivalHold } from './arrival-hold.js';
import { ResumeRecords } from './resume-records.js';

/** Time the node of the new connection waits for the holder's reply before the client gets `<failed/>`. */
const REPLY_TIMEOUT_MS = 5000;
/**
 * Time the holder waits for the new node's confirmation. It is far beyond what the new node
 * takes (REPLY_TIMEOUT_MS and one registry write), so that the two never both keep the session.
 */
const CONFIRM_TIMEOUT_MS = 30_000;
/** Time the new node keeps back stanzas that reach the session directly while it waits for those the holder received. */
const HOLD_TIMEOUT_MS = 2000;

type MoveMessage = Extract<NodeMessage, { t: 'move-request' | 'move-reply' | 'move-done' | 'move-forward' }>;
type MoveRequest = Extract<NodeMessage, { t: 'move-request' }>;

/** Tells whether `message` belongs to a session move. */
export function isMoveMessage(message: NodeMessage): message is MoveMessage {
  return message.t === 'move-request' || message.t === 'move-reply' || message.t === 'move-done' || message.t === 'move-forward';
}

/** The parts of the cluster that the moves use. */
export interface MoveHost {
  /** Returns the ids of the other nodes whose heartbeats arrive. */
  otherNodes(): string[];
  /** Resolves once this node's session registry writes so far are done. */
  settled(): Promise<void>;
}

/** A session this node hands over, until the new node confirms. */
interface Leaving {
  id: string;
  /** The node that continues the session. */
  node: string;
  session: ClientSession;
  token: string;
  /** Unacknowledged stanzas that went with the state; those queued later are forwarded. */
  sentCount: number;
  timer: NodeJS.Timeout | undefined;
}

/** A session that arrived here, until the holder's forwarded stanzas came. */
interface Arrival {
  session: ClientSession;
  hold: ArrivalHold;
  timer: NodeJS.Timeout;
}

/**
 * Both sides of a session move. The node where the client resumes (the new node) finds the
 * holder in Redis (`ResumeRecords`) and sends 'move-request'. The holder suspends the
 * session as a local resumption does, applies the client's `h` and replies with the state
 * ('move-reply'). The session stays registered there meanwhile, and what reaches it waits
 * in its queue. The new node continues the session on the new connection, and once its
 * registry entry is written it confirms ('move-done'). The holder then forwards what its
 * queue gained ('move-forward') and drops the session without its closing work. Until
 * that forward arrives the new node holds back what reaches the session directly, then
 * sends the forwarded stanzas first and drops those that came both ways.
 */
export class SessionMoves {
  private readonly records: ResumeRecords;
  /** Requests sent from here, by move id, waiting for the holder's reply. */
  private readonly requests = new Map<string, (result: MoveResult) => void>();
  private readonly leaving = new Map<string, Leaving>();
  private readonly arrivals = new Map<string, Arrival>();

  constructor(
    private readonly server: ServerContext,
    private readonly bus: ClusterBus,
    private readonly nodeId: string,
    private readonly host: MoveHost,
  ) {
    const { cluster } = server.config;
    const digests = () => server.resumableSessions.digests();
    this.records = new ResumeRecords(bus.redis, nodeId, cluster.expiry_ms, cluster.heartbeat_ms, digests, server.log);
  }

  /** Clears what an earlier run of this node left in Redis and records the resumable sessions from now on. */
  async start(): Promise<void> {
    await this.records.start();
    this.server.resumableSessions.listen({
      added: (digest, username) => this.records.add(digest, username),
      removed: (digest) => this.records.remove(digest),
    });
  }

  stop(): Promise<void> {
    return this.records.stop();
  }

  /** Tells whether `session` is being handed to another node, so that the new node's registry entry does not end it. */
  isLeaving(session: ClientSession): boolean {
    return [...this.leaving.values()].some((leaving) => leaving.session === session);
  }

  /** Handles a move message from another node. */
  receive(message: MoveMessage): void {
    if (message.t === 'move-request') {
      void this.offer(message).catch((err: unknown) => this.server.log.error({ err, node: message.reply }, 'cluster: handing a session over failed'));
    } else if (message.t === 'move-reply') {
      this.receiveReply(message.id, message.holder, message.result);
    } else if (message.t === 'move-done') {
      this.confirmed(message.id, message.ok);
    } else {
      this.receiveForwarded(message.id, message.stanzas);
    }
  }

  // The new node's side.

  /**
   * Resumes on `successor` the session with `token` that another node has, after the
   * client acknowledged `h` stanzas. Fails with item-not-found when no live node has it,
   * when the holder is gone, or when it does not reply within REPLY_TIMEOUT_MS.
   */
  async resume(successor: ClientSession, token: string, h: number): Promise<ResumeAttempt> {
    const username = successor.username!;
    const digest = tokenDigest(token);
    const notFound = (handled?: number): ResumeAttempt => ({ kind: 'failed', answer: smFailed('item-not-found', handled) });
    const holder = await this.records.locate(digest, username, this.host.otherNodes()).catch((err: unknown) => {
      successor.log.warn({ err }, 'cluster: looking up a resumable session in Redis failed');
      return undefined;
    });
    if (holder === undefined) return notFound();

    const id = randomBytes(9).toString('base64url');
    const reply = this.awaitReply(id);
    const request: MoveRequest = { t: 'move-request', id, digest, user: username, h, reply: this.nodeId };
    if (!(await this.bus.sendToNode(holder, request))) {
      this.requests.get(id)?.({ kind: 'not-found' });
      successor.log.info({ holder }, 'the node that held the resumable session is gone');
      return notFound();
    }
    const result = await reply;
    if (result === undefined) {
      successor.log.warn({ holder, timeoutMs: REPLY_TIMEOUT_MS }, 'cluster: the resumption request to the node with the session timed out');
      return notFound();
    }
    if (result.kind === 'not-found') return notFound(result.handled);
    if (result.kind === 'too-high') {
      successor.closeWithError(handledCountTooHigh(h, result.sendCount));
      return { kind: 'closed' };
    }
    return this.arrive(successor, holder, id, token, result.session);
  }

  /** Resolves with the holder's reply to move `id`, or undefined after REPLY_TIMEOUT_MS. */
  private awaitReply(id: string): Promise<MoveResult | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.requests.delete(id);
        resolve(undefined);
      }, REPLY_TIMEOUT_MS);
      this.requests.set(id, (result) => {
        clearTimeout(timer);
        this.requests.delete(id);
        resolve(result);
      });
    });
  }

  private receiveReply(id: string, holder: string, result: MoveResult): void {
    const waiting = this.requests.get(id);
    if (waiting) {
      waiting(result);
      return;
    }
    // The client got <failed/> already, so the holder keeps the session.
    if (result.kind === 'moved') void this.bus.sendToNode(holder, { t: 'move-done', id, ok: false });
  }

  private arrive(successor: ClientSession, holder: string, id: string, token: string, moved: Extract<MoveResult, { kind: 'moved' }>['session']): ResumeAttempt {
    const decline = () => void this.bus.sendToNode(holder, { t: 'move-done', id, ok: false });
    if (successor.state === 'closed') {
      decline();
      return { kind: 'closed' };
    }
    let decoded: DecodedSession;
    try {
      decoded = decodeSession(moved, this.server.config.sessions.max_stanza_bytes * 2);
    } catch (err) {
      successor.log.error({ err, holder }, 'cluster: the state of a session from another node is invalid');
      decline();
      return { kind: 'failed', answer: smFailed('item-not-found') };
    }
    const session: ArrivedSession = {
      jid: decoded.jid,
      continue: (announce) => {
        if (successor.state === 'closed') decline();
        else this.install(successor, holder, id, token, decoded, announce);
      },
    };
    return { kind: 'arrived', session };
  }

  private install(successor: ClientSession, holder: string, id: string, token: string, decoded: DecodedSession, announce?: (resumed: Element) => Element[]): void {
    const hold = new ArrivalHold();
    hold.attach(successor);
    const sm = restoreSession(successor, decoded, token);
    successor.continueMoved(decoded.jid, sm, announce);
    successor.log.info({ holder }, 'session taken over from another cluster node');

    const timer = setTimeout(() => this.endHold(id, undefined), HOLD_TIMEOUT_MS);
    timer.unref();
    this.arrivals.set(id, { session: successor, hold, timer });
    // The holder drops its registry entry on this message, so this node's entry must be written first.
    void this.host.settled().then(() => this.bus.sendToNode(holder, { t: 'move-done', id, ok: true }));
  }

  private receiveForwarded(id: string, stanzas: string[]): void {
    let parsed: Element[] = [];
    try {
      parsed = stanzas.map((xml) => parseFrame(xml, { maxStanzaBytes: this.server.config.sessions.max_stanza_bytes * 2 }));
    } catch (err) {
      this.server.log.error({ err }, 'cluster: stanzas forwarded with a moved session are invalid');
    }
    this.endHold(id, parsed);
  }

  /**
   * Sends the stanzas the holder forwarded, then those held back here. `forwarded` is
   * undefined when the forward did not come within HOLD_TIMEOUT_MS: the held stanzas go out
   * then, and a forward that comes later within CONFIRM_TIMEOUT_MS follows them.
   */
  private endHold(id: string, forwarded: Element[] | undefined): void {
    const arrival = this.arrivals.get(id);
    if (!arrival) return;
    clearTimeout(arrival.timer);
    const { session } = arrival;
    const unsent = arrival.hold.release(forwarded ?? []);
    // The session ended meanwhile: these take the way of its other unacknowledged stanzas.
    if (unsent.length > 0) void rerouteUnacked(this.server, session.jid!, unsent);
    if (forwarded !== undefined) {
      this.arrivals.delete(id);
      return;
    }
    session.log.warn({ timeoutMs: HOLD_TIMEOUT_MS }, 'cluster: the stanzas the old node received during the move did not come in time');
    arrival.timer = setTimeout(() => this.arrivals.delete(id), CONFIRM_TIMEOUT_MS);
    arrival.timer.unref();
  }

  // The holder's side.

  /** Handles a 'move-request': suspends the session, applies `h` and sends the state. */
  private async offer(request: MoveRequest): Promise<void> {
    const registry = this.server.resumableSessions;
    const notFound = (): MoveResult => ({ kind: 'not-found', handled: registry.endedHandledByDigest(request.digest, request.user) });
    const found = registry.findByDigest(request.digest, request.user);
    if (!found || !registry.claim(found.token)) {
      await this.reply(request, notFound());
      return;
    }

    const { token, session } = found;
    let result: MoveResult;
    try {
      result = await this.prepare(session, request.h);
    } catch (err) {
      registry.release(token);
      session.log.error({ err, node: request.reply }, 'cluster: preparing a session move failed; the session stays here');
      await this.reply(request, notFound());
      return;
    }
    if (result.kind !== 'moved') {
      registry.release(token);
      await this.reply(request, result.kind === 'not-found' ? notFound() : result);
      return;
    }

    const leaving: Leaving = { id: request.id, node: request.reply, session, token, sentCount: result.session.sm.unacked.length, timer: undefined };
    this.leaving.set(leaving.id, leaving);
    leaving.timer = setTimeout(() => this.stay(leaving, 'the new node did not confirm'), CONFIRM_TIMEOUT_MS);
    leaving.timer.unref();
    if (!(await this.reply(request, result))) this.stay(leaving, 'the new node is gone');
  }

  /** Settles `session` as a local resumption does and captures it, unless it ended or `h` is beyond the stanzas sent. */
  private async prepare(session: ClientSession, h: number): Promise<MoveResult> {
    session.suspend();
    await session.settle();
    if (session.state === 'closed') return { kind: 'not-found' };
    const outcome = session.sm!.acknowledge(h);
    if (outcome.kind === 'too-high') {
      session.close('resumed on another node with an acknowledgement beyond the stanzas sent');
      return { kind: 'too-high', sendCount: outcome.sendCount };
    }
    // XEP-0352 section 5.2: a resumed stream starts active, so what client state held goes along.
    for (const value of session.data.values()) if (value instanceof ClientState) value.setActive();
    return { kind: 'moved', session: captureSession(session) };
  }

  private reply(request: MoveRequest, result: MoveResult): Promise<boolean> {
    return this.bus.sendToNode(request.reply, { t: 'move-reply', id: request.id, holder: this.nodeId, result });
  }

  /** Completes or cancels a move on the new node's 'move-done'. */
  private confirmed(id: string, ok: boolean): void {
    const leaving = this.leaving.get(id);
    if (!leaving) return;
    if (!ok) {
      this.stay(leaving, 'the new node gave up');
      return;
    }
    clearTimeout(leaving.timer);
    this.leaving.delete(id);
    const { session } = leaving;
    const later = session.state === 'closed' ? [] : session.sm!.pending().slice(leaving.sentCount);
    // Published before the registry entry goes, so that it reaches the new node before anything rerouted from here.
    void this.bus.sendToNode(leaving.node, { t: 'move-forward', id, stanzas: later.map((stanza) => serialize(stanza)) });
    // NOTE: a session that ended here during the move (shutdown, a full queue) did its closing work already.
    if (session.state !== 'closed') session.relinquish();
    session.log.info({ node: leaving.node, forwarded: later.length }, 'session handed over to another cluster node');
  }

  /** Cancels a move: the session goes on hibernating here, with its full timeout. */
  private stay(leaving: Leaving, reason: string): void {
    clearTimeout(leaving.timer);
    this.leaving.delete(leaving.id);
    this.server.resumableSessions.release(leaving.token);
    leaving.session.log.info({ node: leaving.node, reason }, 'session move cancelled; the session stays here');
  }
}
