import type { XElement, XmppClientLike } from '../xmpp/index.js';
import type { ChangeFeed } from './change-feed.js';
import { envelope, type Envelope, type Source } from './envelope.js';
import { isFromOwnAccount } from './inbox.js';
import { bareOf, randomId } from './jid.js';
import type { MessageStore } from './message-store.js';
import { NS } from './ns.js';
import { receiptMessage } from './outgoing.js';
import { forwardedMessage, parseMessage, type ParsedMessage } from './parse.js';
import type { ParleyDb } from './schema.js';

/** The origin of a message beyond the stanza itself. */
export interface ReceiveContext {
  archiveId?: string;
  delay?: number;
  /** The conversation is in step with the archive, so a new stanza id extends the fetched range. */
  inRange: boolean;
}

/**
 * Turns message stanzas (live, carbons, archive results) into stored rows, state changes of
 * own messages, typing notices and receipts.
 */
export class Receiver {
  constructor(
    private readonly db: ParleyDb,
    private readonly client: XmppClientLike,
    private readonly messages: MessageStore,
    private readonly feed: ChangeFeed,
    private readonly now: () => number,
  ) {}

  /** Handles a message stanza as the connection delivered it; carbons are unwrapped. */
  async live(stanza: XElement, inRange: (conversation: string) => boolean): Promise<void> {
    const carbon = stanza.getChild('sent', NS.CARBONS) ?? stanza.getChild('received', NS.CARBONS);
    if (carbon) {
      // Carbons come from the account itself; anyone else sending one is forging (XEP-0280 section 11).
      if (!isFromOwnAccount(stanza, this.client.bareJid)) return;
      const inner = forwardedMessage(carbon);
      if (!inner) return;
      const source: Source = carbon.name === 'sent' ? 'carbon-sent' : 'carbon-received';
      return this.message(inner.message, source, { inRange: false }, inRange);
    }
    if (stanza.attr('type') === 'error') return this.failed(stanza);
    return this.message(stanza, 'live', { inRange: false }, inRange);
  }

  /** Handles one archive result's forwarded message. */
  async archived(result: XElement): Promise<void> {
    const forwarded = forwardedMessage(result);
    const archiveId = result.attr('id');
    if (!forwarded || !archiveId) return;
    const context: ReceiveContext = { archiveId, inRange: false };
    if (forwarded.delay !== undefined) context.delay = forwarded.delay;
    await this.message(forwarded.message, 'archive', context, () => false);
  }

  private async message(stanza: XElement, source: Source, context: ReceiveContext, inRange: (conversation: string) => boolean): Promise<void> {
    const parsed = parseMessage(stanza);
    const ownNick = parsed.type === 'groupchat' ? (await this.db.rooms.get(bareOf(parsed.from)))?.nick : undefined;
    const placed = envelope(parsed, source, { own: bareOf(this.client.bareJid), now: this.now(), archiveId: context.archiveId, delay: context.delay, ownNick });
    if (!placed) return;

    if (source === 'live') this.answerReceipt(placed);
    if (placed.direction === 'in') await this.statesFrom(placed, parsed);
    if (source === 'live' && placed.direction === 'in' && parsed.chatState && parsed.body === undefined) {
      this.feed.emit({ type: 'typing', conversation: placed.conversation, from: placed.from, state: parsed.chatState });
    }

    const written = await this.messages.apply(placed, inRange(placed.conversation));
    if (written.keys.length > 0) this.feed.emit({ type: 'messages', conversation: written.conversation, keys: written.keys });
    if (written.conversationChanged) this.feed.emit({ type: 'conversation', jid: written.conversation });
  }

  /** Sends an XEP-0184 receipt for a 1:1 message that requests one. */
  private answerReceipt(placed: Envelope): void {
    const { parsed } = placed;
    if (placed.kind !== 'chat' || placed.direction !== 'in' || !parsed.receiptRequest || !parsed.msgId || parsed.body === undefined) return;
    this.client.send(receiptMessage(parsed.from, randomId(), parsed.msgId));
  }

  /** Receipts and markers from the other side move own messages to delivered or read. */
  private async statesFrom(placed: Envelope, parsed: ParsedMessage): Promise<void> {
    const { conversation } = placed;
    let keys: string[] = [];
    if (parsed.receiptFor) keys = await this.messages.moveStates(conversation, parsed.receiptFor, 'delivered', false);
    const marker = parsed.marker;
    if (marker && placed.kind === 'chat') {
      keys = keys.concat(await this.messages.moveStates(conversation, marker.id, marker.kind === 'received' ? 'delivered' : 'read', true));
    }
    if (marker && placed.kind === 'groupchat' && marker.kind !== 'received') {
      // Group read state comes from the receipts query, so a marker only signals that it moved.
      this.feed.emit({ type: 'receipts', room: conversation, stanzaId: marker.id });
    }
    if (keys.length > 0) this.feed.emit({ type: 'messages', conversation, keys });
  }

  /** Marks a bounced own message (type error) as failed. */
  private async failed(stanza: XElement): Promise<void> {
    const id = stanza.attr('id');
    const conversation = bareOf(stanza.attr('from') ?? '');
    if (!id || !conversation) return;
    const row = await this.messages.findByRef(conversation, id);
    if (!row || row.direction !== 'out' || (row.state !== 'sent' && row.state !== 'sending')) return;
    await this.db.messages.update(row.key, { state: 'failed' });
    this.feed.emit({ type: 'messages', conversation, keys: [row.key] });
  }
}
