/** Storage of messages for accounts without an available resource, and their delivery later (XEP-0160). */
import type { Logger } from 'pino';
import { type Element, JID, StanzaError, parseFrame, serialize } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import type { StanzaEvent } from '../../core/events.js';
import type { OfflineMessage } from '../../storage/index.js';
import { archiveIdOf, decodeTime } from '../mam/ids.js';
import { withOfflineDelay } from './delay.js';
import { KeyedQueue } from './keyed-queue.js';
import { offlineDecision } from './policy.js';

/** Reads the session's state afresh, where TypeScript would keep a narrowing from before an await. */
function hasClosed(session: ClientSession): boolean {
  return session.state === 'closed';
}

/** Session data key, set once the delivery of stored messages to the session has started. */
const DELIVERY_STARTED = 'offline.deliveryStarted';
/** Stored messages read per database query during delivery. */
const BATCH_SIZE = 100;

/**
 * Stores and delivers offline messages. Storing and delivering run one after another per
 * account (a KeyedQueue), so a delivery reads every message stored before it started. While
 * a delivery runs, live messages for the account are held back (holdBehindStored) so that
 * they reach the client after the stored ones: RFC 6120 section 10.1 requires in-order
 * processing between two entities, and a sender's stored messages are older than its live ones.
 */
export class OfflineMessages {
  private readonly queue = new KeyedQueue();
  /** The last delivery queued per account, by bare JID, while it is pending or running. */
  private readonly deliveries = new Map<string, Promise<void>>();
  /** Latest delay stamp handed out, so that stamps never go back when the clock does. */
  private lastStoredAt = 0;

  constructor(
    private readonly server: ServerContext,
    private readonly log: Logger,
  ) {}

  /**
   * Handles `message/offline`. Returns true when the message is dealt with: queued for storage
   * (bounced later if the account's storage is full), or dropped. Returns false to let the
   * router bounce it. The write is tracked on the sender's session instead of awaited, so the
   * session goes on with its next stanza while the batch writer commits.
   */
  store(event: StanzaEvent): boolean {
    const decision = offlineDecision(event.stanza, event.to);
    if (decision === 'drop') return true;
    const max = this.server.config.offline.max_messages;
    if (decision === 'refuse' || max === 0) return false;

    const account = event.to.bare();
    const receivedAt = this.receivedAt(event.stanza, account);
    const stored = this.queue.run(account.toString(), () => this.storeQueued(event.stanza, account, max, receivedAt));
    event.origin?.trackWrite(stored);
    stored.then(
      (ok) => {
        if (ok) return;
        this.log.info({ account: account.toString(), max }, 'offline storage full, message bounced');
        this.server.router.bounce(event.stanza, new StanzaError('service-unavailable', `The recipient is offline and has the maximum of ${max} stored messages.`));
      },
      (err: unknown) => {
        this.log.error({ err, account: account.toString() }, 'storing an offline message failed');
        this.server.router.bounce(event.stanza, new StanzaError('internal-server-error', 'The message could not be stored.'));
      },
    );
    return true;
  }

  /**
   * Returns the delay stamp's time: the recipient's archive time when the archive stored the
   * message, else now. It is taken before the write queues, so a client that orders by it puts
   * offline and archived copies of the same messages in one order.
   */
  private receivedAt(message: Element, account: JID): number {
    const archiveId = archiveIdOf(message, account.toString());
    const archivedAt = archiveId === undefined ? undefined : decodeTime(archiveId);
    const stamp = Math.max(archivedAt ?? Date.now(), this.lastStoredAt);
    this.lastStoredAt = stamp;
    return stamp;
  }

  private async storeQueued(message: Element, account: JID, max: number, storedAt: number): Promise<boolean> {
    const { offline } = this.server.storage;
    if ((await offline.count(account.domain, account.local)) >= max) return false;

    const stamped = withOfflineDelay(message, this.server.config.domain, storedAt);
    await offline.store(account.domain, account.local, serialize(stamped), storedAt);

    this.catchUp(account);
    return true;
  }

  /**
   * Delivers right away what was just stored if a resource became available meanwhile: the
   * router chose offline storage before that resource's delivery started, so that delivery
   * did not see this message.
   */
  private catchUp(account: JID): void {
    const session = this.server.sessions.available(account).find((candidate) => candidate.priority >= 0 && candidate.data.has(DELIVERY_STARTED));
    if (session) this.queueDelivery(session);
  }

  /** Handles `session/initial-presence`: delivers the stored messages to a resource with non-negative priority. */
  sessionAvailable(session: ClientSession): void {
    this.startDelivery(session);
  }

  /**
   * Handles `message/bare` and `message/full` as the last handler before the router delivers:
   * waits while stored messages are delivered to the account. It also starts the delivery
   * for a resource that is available but whose `session/initial-presence` has not come yet.
   */
  async holdBehindStored(event: StanzaEvent): Promise<void> {
    const account = event.to.bare();
    for (const session of this.server.sessions.available(account)) this.startDelivery(session);

    const key = account.toString();
    let delivery = this.deliveries.get(key);
    while (delivery) {
      await delivery;
      delivery = this.deliveries.get(key);
    }
  }

  // TODO: start the delivery when a resource changes its priority from negative to non-negative; only a message arrival does that now.
  private startDelivery(session: ClientSession): void {
    if (session.priority < 0 || session.data.has(DELIVERY_STARTED)) return;
    session.data.set(DELIVERY_STARTED, true);
    this.queueDelivery(session);
  }

  private queueDelivery(session: ClientSession): void {
    const key = session.jid!.bare().toString();
    const delivery = this.queue
      .run(key, () => this.deliverStored(session))
      .catch((err: unknown) => session.log.error({ err }, 'offline message delivery failed'));
    this.deliveries.set(key, delivery);
    // Registered before any holder awaits `delivery`, so holders resuming find the entry gone.
    void delivery.then(() => {
      if (this.deliveries.get(key) === delivery) this.deliveries.delete(key);
    });
  }

  /** Sends the account's stored messages to `session` in storage order and deletes what was sent. */
  private async deliverStored(session: ClientSession): Promise<void> {
    const account = session.jid!.bare();
    const { offline } = this.server.storage;
    let total = 0;
    while (session.state !== 'closed') {
      const batch = await offline.list(account.domain, account.local, BATCH_SIZE);
      const sent = await this.sendBatch(session, batch);
      if (sent === 0) break;
      await offline.deleteUpTo(account.domain, account.local, batch[sent - 1]!.seq);
      total += sent;
      if (batch.length < BATCH_SIZE) break;
    }
    if (total > 0) session.log.debug({ count: total }, 'offline messages delivered');
  }

  /**
   * Sends messages of `batch` until the session closes and returns how many were handled.
   * That count includes messages dropped as unparsable or by a 'stored/deliver' handler,
   * such as a block set after the message was stored.
   */
  private async sendBatch(session: ClientSession, batch: OfflineMessage[]): Promise<number> {
    let handled = 0;
    for (const message of batch) {
      if (session.state === 'closed') break;
      const stanza = this.parseStored(message, session);
      const deliver = stanza !== undefined && (await this.deliverable(session, stanza));
      // The session may have closed during the check; the message then stays stored.
      if (hasClosed(session)) break;
      if (deliver) this.send(session, stanza);
      handled++;
    }
    return handled;
  }

  private async deliverable(session: ClientSession, stanza: Element): Promise<boolean> {
    const from = JID.parseOrNull(stanza.attr('from') ?? '');
    if (!from) return true;
    return !(await this.server.hooks.fire('stored/deliver', { stanza, from, to: session.jid!, session }));
  }

  private parseStored(message: OfflineMessage, session: ClientSession): Element | undefined {
    try {
      // A UTF-16 unit takes at most 3 bytes in UTF-8, so this limit never rejects what was stored.
      return parseFrame(message.stanza, { maxStanzaBytes: message.stanza.length * 3 + 1 });
    } catch (err) {
      // Keeping it would fail every later delivery too, so it is logged and deleted with the batch.
      session.log.error({ err, seq: message.seq }, 'stored offline message is not valid XML, dropped');
      return undefined;
    }
  }

  private send(session: ClientSession, stanza: Element): void {
    session.send(stanza);
    const from = JID.parseOrNull(stanza.attr('from') ?? '');
    if (!from) return;
    void this.server.hooks
      .fire('message/delivered', { stanza, from, to: session.jid!, session })
      .catch((err: unknown) => session.log.error({ err }, 'message/delivered hook failed'));
  }
}
