import { Dexie } from 'dexie';
import type { Envelope } from './envelope.js';
import { MAX_PAGE_SIZE, MAX_STATE_WALK, PREVIEW_LENGTH } from './limits.js';
import type { ParleyDb } from './schema.js';
import { attachmentTokens, bodyIsJustUrl } from './attachment-text.js';
import { tokenize } from './tokens.js';
import type { Conversation, ConversationKind, Message, MessageState } from './types.js';

/** The rows one write changed, for the change feed. */
export interface WriteResult {
  conversation: string;
  keys: string[];
  conversationChanged: boolean;
}

const STATE_RANK: Record<MessageState, number> = { failed: -1, sending: 0, sent: 1, delivered: 2, read: 3, received: 0 };

/** Builds a key that sorts by time and stays unique: the zero-padded milliseconds, then an id. */
export function messageKey(timestamp: number, unique: string): string {
  return `${Math.max(0, Math.floor(timestamp)).toString().padStart(15, '0')}~${unique}`;
}

export function previewOf(body: string): string {
  return body.length > PREVIEW_LENGTH ? `${body.slice(0, PREVIEW_LENGTH - 1)}…` : body;
}

/** Builds the conversation list's preview fields for `message` as the newest message. */
export function previewFields(message: Message): Pick<Conversation, 'preview' | 'previewFrom' | 'previewAttachment' | 'previewRetracted'> {
  if (message.retractedAt !== undefined) return { preview: '', previewFrom: message.from, previewAttachment: undefined, previewRetracted: true };
  const previewAttachment = message.body !== '' && bodyIsJustUrl(message.body, message.attachment) ? message.attachment : undefined;
  return { preview: previewOf(message.body), previewFrom: message.from, previewAttachment, previewRetracted: undefined };
}

export function newConversation(jid: string, kind: ConversationKind): Conversation {
  return { jid, kind, preview: '', lastActivity: 0, unread: 0, pinned: 0, mutedUntil: 0, archived: false, reachedBeginning: false };
}

/** Returns whether a live message extends the fetched range: it is newer, or the archive was empty. */
function extendsRange(conversation: Conversation, stanzaId: string): boolean {
  if (conversation.newestFetched === undefined) return conversation.reachedBeginning;
  return stanzaId > conversation.newestFetched;
}

function clampLimit(limit: number): number {
  return Math.max(1, Math.min(MAX_PAGE_SIZE, Math.floor(limit)));
}

/** The messages table: writes with dedupe, edits, state changes and page reads. */
export class MessageStore {
  constructor(private readonly db: ParleyDb) {}

  /** Reads the newest `limit` messages of a conversation, oldest first. */
  async newestPage(conversation: string, limit: number): Promise<Message[]> {
    const rows = await this.db.messages
      .where('[conversation+key]')
      .between([conversation, Dexie.minKey], [conversation, Dexie.maxKey])
      .reverse()
      .limit(clampLimit(limit))
      .toArray();
    return rows.reverse();
  }

  /** Reads the `limit` stored messages before `beforeKey`, oldest first. */
  async olderLocal(conversation: string, beforeKey: string, limit: number): Promise<Message[]> {
    const rows = await this.db.messages
      .where('[conversation+key]')
      .between([conversation, Dexie.minKey], [conversation, beforeKey], true, false)
      .reverse()
      .limit(clampLimit(limit))
      .toArray();
    return rows.reverse();
  }

  /** Reads the `limit` stored messages after `afterKey`, oldest first. */
  async newerLocal(conversation: string, afterKey: string, limit: number): Promise<Message[]> {
    return this.db.messages
      .where('[conversation+key]')
      .between([conversation, afterKey], [conversation, Dexie.maxKey], false, true)
      .limit(clampLimit(limit))
      .toArray();
  }

  /** Reads the message `key` with up to `limit` stored messages on each side, oldest first. */
  async around(conversation: string, key: string, limit: number): Promise<Message[]> {
    const row = await this.db.messages.get(key);
    if (!row || row.conversation !== conversation) return [];
    const older = await this.olderLocal(conversation, key, limit);
    const newer = await this.newerLocal(conversation, key, limit);
    return [...older, row, ...newer];
  }

  /** Stores a message, a correction or a retraction; returns what changed. */
  apply(envelope: Envelope, inRange: boolean): Promise<WriteResult> {
    return this.db.transaction('rw', this.db.messages, this.db.conversations, this.db.rooms, async () => {
      const parsed = envelope.parsed;
      if (parsed.retracts) return this.retract(envelope, parsed.retracts);
      if (parsed.replaces && parsed.body !== undefined) return this.correct(envelope, parsed.replaces, parsed.body);
      if (parsed.body === undefined && !parsed.tombstone) return this.unchanged(envelope);
      return this.insert(envelope, inRange);
    });
  }

  /** Finds a message by the id a correction, retraction, receipt or marker names. */
  async findByRef(conversation: string, ref: string): Promise<Message | undefined> {
    return (
      (await this.db.messages.where('[conversation+originId]').equals([conversation, ref]).last()) ??
      (await this.db.messages.where('[conversation+msgId]').equals([conversation, ref]).last()) ??
      (await this.db.messages.where('[conversation+stanzaId]').equals([conversation, ref]).first())
    );
  }

  /**
   * Moves own messages forward to `state`: the message `ref` names and, with `earlier`, the
   * own messages before it (a displayed marker covers everything before it). Stops at the first
   * own message already there, and after MAX_STATE_WALK rows.
   */
  moveStates(conversation: string, ref: string, state: MessageState, earlier: boolean): Promise<string[]> {
    return this.db.transaction('rw', this.db.messages, async () => {
      const target = await this.findByRef(conversation, ref);
      if (!target || target.direction !== 'out') return [];
      if (!earlier) return (await this.raise(target, state)) ? [target.key] : [];

      const changed: string[] = [];
      const rows = this.db.messages
        .where('[conversation+key]')
        .between([conversation, Dexie.minKey], [conversation, target.key], true, true)
        .reverse()
        .limit(MAX_STATE_WALK);
      await rows.until((row) => row.direction === 'out' && row.key !== target.key && STATE_RANK[row.state] >= STATE_RANK[state]).each((row) => {
        if (row.direction === 'out') changed.push(row.key);
      });
      const raised: string[] = [];
      for (const key of changed) {
        const row = await this.db.messages.get(key);
        if (row && (await this.raise(row, state))) raised.push(key);
      }
      return raised;
    });
  }

  /** Sets a state when it is further along; a message still in the outbox stays 'sending'. */
  private async raise(row: Message, state: MessageState): Promise<boolean> {
    if (row.state === 'sending' || row.state === 'failed' || STATE_RANK[row.state] >= STATE_RANK[state]) return false;
    await this.db.messages.update(row.key, { state });
    return true;
  }

  private unchanged(envelope: Envelope): WriteResult {
    return { conversation: envelope.conversation, keys: [], conversationChanged: false };
  }

  private async findDuplicate(envelope: Envelope): Promise<Message | undefined> {
    const { conversation, stanzaId, parsed } = envelope;
    if (stanzaId !== undefined) {
      const byStanzaId = await this.db.messages.where('[conversation+stanzaId]').equals([conversation, stanzaId]).first();
      if (byStanzaId) return byStanzaId;
    }
    if (parsed.originId === undefined) return undefined;
    // Origin-ids are chosen by senders: only the same sender's message is the same message.
    const candidates = await this.db.messages.where('[conversation+originId]').equals([conversation, parsed.originId]).toArray();
    return candidates.find((row) => row.from === envelope.from || (row.direction === 'out' && envelope.direction === 'out'));
  }

  private async insert(envelope: Envelope, inRange: boolean): Promise<WriteResult> {
    const duplicate = await this.findDuplicate(envelope);
    if (duplicate) return this.merge(duplicate, envelope);

    const parsed = envelope.parsed;
    const body = parsed.tombstone ? '' : (parsed.body ?? '');
    const message: Message = {
      key: messageKey(envelope.timestamp, envelope.stanzaId ?? parsed.originId ?? parsed.msgId ?? crypto.randomUUID()),
      conversation: envelope.conversation,
      kind: envelope.kind,
      direction: envelope.direction,
      from: envelope.from,
      body,
      timestamp: envelope.timestamp,
      state: envelope.direction === 'out' ? 'sent' : 'received',
      tokens: tokenize(body),
    };
    if (parsed.attachment && !parsed.tombstone) {
      message.attachment = parsed.attachment;
      message.tokens = attachmentTokens(body, parsed.attachment);
    }
    if (envelope.stanzaId !== undefined) message.stanzaId = envelope.stanzaId;
    if (parsed.originId !== undefined) message.originId = parsed.originId;
    if (parsed.msgId !== undefined) message.msgId = parsed.msgId;
    if (parsed.tombstone) message.retractedAt = envelope.timestamp;
    await this.db.messages.put(message);

    const conversationChanged = await this.touchConversation(message, inRange);
    return { conversation: envelope.conversation, keys: [message.key], conversationChanged };
  }

  /** Merges a second copy of a stored message, which may bring the stanza id the first lacked. */
  private async merge(row: Message, envelope: Envelope): Promise<WriteResult> {
    const patch: Partial<Message> = {};
    if (row.stanzaId === undefined && envelope.stanzaId !== undefined) patch.stanzaId = envelope.stanzaId;
    if (row.direction === 'out' && row.state === 'sending' && envelope.stanzaId !== undefined) patch.state = 'sent';
    if (Object.keys(patch).length === 0) return this.unchanged(envelope);
    await this.db.messages.update(row.key, patch);
    return { conversation: envelope.conversation, keys: [row.key], conversationChanged: false };
  }

  private async correct(envelope: Envelope, ref: string, body: string): Promise<WriteResult> {
    const target = await this.findByRef(envelope.conversation, ref);
    if (!target || target.from !== envelope.from || target.retractedAt !== undefined) return this.unchanged(envelope);
    if (target.body === body) return this.unchanged(envelope);
    await this.db.messages.update(target.key, { body, tokens: tokenize(body), editedAt: envelope.timestamp });
    const conversationChanged = await this.refreshPreview({ ...target, body });
    return { conversation: envelope.conversation, keys: [target.key], conversationChanged };
  }

  private async retract(envelope: Envelope, ref: string): Promise<WriteResult> {
    const moderated = envelope.parsed.moderatedBy !== undefined;
    // Only the room itself (no nick) may announce a moderation; it names the room's stanza id.
    if (moderated && (envelope.kind !== 'groupchat' || envelope.from !== '')) return this.unchanged(envelope);
    const target = moderated
      ? await this.db.messages.where('[conversation+stanzaId]').equals([envelope.conversation, ref]).first()
      : await this.findByRef(envelope.conversation, ref);
    // TODO: keep a retraction that arrives before its original (live, ahead of a catch-up) and apply it later.
    if (!target || target.retractedAt !== undefined) return this.unchanged(envelope);
    if (!moderated && target.from !== envelope.from) return this.unchanged(envelope);

    const patch: Partial<Message> = { body: '', tokens: [], retractedAt: envelope.timestamp, attachment: undefined };
    if (moderated) patch.moderatedBy = envelope.parsed.moderatedBy ?? '';
    await this.db.messages.update(target.key, patch);
    const conversationChanged = await this.refreshPreview({ ...target, ...patch });
    return { conversation: envelope.conversation, keys: [target.key], conversationChanged };
  }

  /** A new conversation row; a group's takes the name stored for the room, so it shows offline too. */
  private async newRow(message: Message): Promise<Conversation> {
    const row = newConversation(message.conversation, message.kind);
    const name = message.kind === 'groupchat' ? (await this.db.rooms.get(message.conversation))?.name : undefined;
    if (name) row.name = name;
    return row;
  }

  /** Shows a new message in the conversation list; returns whether the row changed. */
  private async touchConversation(message: Message, inRange: boolean): Promise<boolean> {
    const conversation = (await this.db.conversations.get(message.conversation)) ?? (await this.newRow(message));
    let changed = false;
    if (message.timestamp >= conversation.lastActivity && (message.body !== '' || message.retractedAt !== undefined)) {
      conversation.lastActivity = message.timestamp;
      Object.assign(conversation, previewFields(message));
      if (conversation.previewAttachment === undefined) delete conversation.previewAttachment;
      if (conversation.previewRetracted === undefined) delete conversation.previewRetracted;
      if (message.stanzaId !== undefined) conversation.lastStanzaId = message.stanzaId;
      changed = true;
    }
    if (inRange && message.stanzaId !== undefined && extendsRange(conversation, message.stanzaId)) {
      conversation.newestFetched = message.stanzaId;
      conversation.oldestFetched ??= message.stanzaId;
      changed = true;
    }
    if (changed) await this.db.conversations.put(conversation);
    return changed;
  }

  /**
   * After a correction or retraction of the newest message, the list's preview follows: the new
   * text, or a "message deleted" marker. Call it inside a transaction on messages and conversations.
   */
  async refreshPreview(edited: Message): Promise<boolean> {
    const newest = await this.newestPage(edited.conversation, 1);
    if (newest[0]?.key !== edited.key) return false;
    await this.db.conversations.update(edited.conversation, previewFields(edited));
    return true;
  }
}
