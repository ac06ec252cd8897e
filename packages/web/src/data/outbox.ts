import { parseFrame, type XmppClientLike } from '../xmpp/index.js';
import type { ChangeFeed } from './change-feed.js';
import { OUTBOX_BATCH } from './limits.js';
import type { ParleyDb } from './schema.js';
import type { OutboxEntry } from './types.js';

/**
 * The durable outbox: stanzas wait in IndexedDB until the server's stream management
 * acknowledges them, so they survive a closed tab. Each stanza goes out unchanged, so a
 * re-send carries the same origin-id and the server drops it if the first copy arrived.
 * Entries go out in insertion order; one is never in flight twice in the same session.
 */
export class Outbox {
  private readonly inFlight = new Set<number>();
  private flushing = false;
  private again = false;

  constructor(
    private readonly db: ParleyDb,
    private readonly client: XmppClientLike,
    private readonly feed: ChangeFeed,
  ) {}

  /** Adds an entry; call inside the transaction that writes its message row. */
  add(entry: OutboxEntry): Promise<number | undefined> {
    return this.db.outbox.add(entry);
  }

  size(): Promise<number> {
    return this.db.outbox.count();
  }

  /** Hands every waiting entry not yet in flight to the connection, in order. */
  async flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return;
    }
    this.flushing = true;
    try {
      do {
        this.again = false;
        const entries = await this.db.outbox.orderBy('seq').limit(OUTBOX_BATCH + this.inFlight.size).toArray();
        for (const entry of entries) this.dispatch(entry);
      } while (this.again);
    } finally {
      this.flushing = false;
    }
  }

  private dispatch(entry: OutboxEntry): void {
    const seq = entry.seq;
    if (seq === undefined || this.inFlight.has(seq) || this.inFlight.size >= OUTBOX_BATCH) return;
    this.inFlight.add(seq);
    this.client.sendAcked(parseFrame(entry.xml)).then(
      () => void this.acknowledged(entry),
      // The session was lost; the entry stays and goes out again on the next session.
      () => this.inFlight.delete(seq),
    );
  }

  private async acknowledged(entry: OutboxEntry): Promise<void> {
    await this.db.transaction('rw', this.db.outbox, this.db.messages, async () => {
      await this.db.outbox.delete(entry.seq!);
      if (entry.messageKey === undefined) return;
      const message = await this.db.messages.get(entry.messageKey);
      if (message?.state === 'sending') await this.db.messages.update(entry.messageKey, { state: 'sent' });
    });
    this.inFlight.delete(entry.seq!);
    if (entry.messageKey !== undefined) this.feed.emit({ type: 'messages', conversation: entry.conversation, keys: [entry.messageKey] });
    this.feed.emit({ type: 'outbox', size: await this.size() });
    if ((await this.size()) > this.inFlight.size) await this.flush();
  }
}
