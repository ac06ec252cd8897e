import { x, type XElement, type XmppClientLike } from '../xmpp/index.js';
import { ArchiveSync } from './archive-sync.js';
import { attachmentTokens, bodyIsJustUrl } from './attachment-text.js';
import type { Attachment } from './attachment-types.js';
import { ChangeFeed } from './change-feed.js';
import { applyInboxEntries } from './inbox-apply.js';
import { InboxQueries, isFromOwnAccount, readInboxEntry, readInboxPush, type InboxEntry } from './inbox.js';
import { bareOf, randomId } from './jid.js';
import { MAX_OPEN_CONVERSATIONS } from './limits.js';
import { MamQueries } from './mam.js';
import { messageKey, MessageStore, newConversation, previewOf } from './message-store.js';
import { NS } from './ns.js';
import { attachmentElements } from './oob.js';
import { Outbox } from './outbox.js';
import { chatMessage, chatStateMessage, correctionMessage, groupReceiptsQuery, inboxProperties, markerMessage, retractionMessage } from './outgoing.js';
import type { ChatState } from './parse.js';
import { Receiver } from './receiver.js';
import { TabCoordinator, defaultLocks, type LockManagerLike } from './tabs.js';
import { readGroupReceipts } from './receipts.js';
import { syncRoster, applyRosterPush } from './roster.js';
import type { ParleyDb } from './schema.js';
import { searchAll, type SearchOptions, type SearchResult } from './search-merged.js';
import { tokenize } from './tokens.js';
import type { Conversation, ConversationKind, DataChange, Message, MessageKey, ReceiptRecord } from './types.js';

export interface ChatStoreOptions {
  /** The clock, for tests. */
  now?: () => number;
  /** Web Locks that choose the active tab; defaults to navigator.locks, null makes this store active alone. */
  locks?: LockManagerLike | null;
  /** Shares changes with the account's other tabs over a BroadcastChannel (default: where there is one). */
  shareChanges?: boolean;
}

/**
 * One account's chat data: IndexedDB first, the server for what changed or is missing.
 * Reads are pages; nothing keeps a conversation's history in memory.
 */
export class ChatStore {
  private readonly feed = new ChangeFeed();
  private readonly messages: MessageStore;
  private readonly mam: MamQueries;
  private readonly inbox: InboxQueries;
  private readonly outbox: Outbox;
  private readonly archive: ArchiveSync;
  private readonly receiver: Receiver;
  private readonly now: () => number;
  /** Conversations the UI shows, kept in step with the archive (at most MAX_OPEN_CONVERSATIONS). */
  private readonly open = new Map<string, ConversationKind>();
  /** Open conversations caught up in this session: live stanza ids extend their fetched range. */
  private readonly synced = new Set<string>();
  private readonly detach: (() => void)[] = [];
  private queue: Promise<void> = Promise.resolve();
  private syncing: Promise<void> | undefined;
  private closed = false;
  /** Only the active tab's store handles live stanzas, syncs and sends the outbox. */
  private active = false;
  private readonly tabs: TabCoordinator;

  constructor(
    readonly db: ParleyDb,
    private readonly client: XmppClientLike,
    options: ChatStoreOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.messages = new MessageStore(db);
    this.mam = new MamQueries(client);
    this.inbox = new InboxQueries(client);
    this.outbox = new Outbox(db, client, this.feed);
    this.receiver = new Receiver(db, client, this.messages, this.feed, this.now);
    this.archive = new ArchiveSync(db, this.mam, (_jid, results) => this.serial(async () => {
      for (const result of results) await this.receiver.archived(result);
    }));
    this.detach.push(client.on('stanza', (stanza) => this.onStanza(stanza)));

    this.tabs = new TabCoordinator(
      `parley-data:${db.name}`,
      { change: (change) => this.feed.deliver(change), outbox: () => this.kickOutbox() },
      options.locks === undefined ? defaultLocks() : options.locks,
      options.shareChanges ?? true,
    );
    this.feed.forward = (change) => this.tabs.broadcast(change);
    this.tabs.whenActive(() => this.activate());
  }

  /** True while this store is the account's active one (see TabCoordinator). */
  get isActive(): boolean {
    return this.active;
  }

  subscribe(listener: (change: DataChange) => void): () => void {
    return this.feed.subscribe(listener);
  }

  /** Stops listening to the connection; the database stays open. */
  close(): void {
    this.closed = true;
    this.active = false;
    this.tabs.close();
    for (const detach of this.detach.splice(0)) detach();
  }

  /** Syncs the inbox (unread counts and read positions from the server), then the archive of open conversations. */
  startupSync(): Promise<void> {
    if (!this.active) return Promise.resolve();
    this.syncing ??= this.runSync().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** Pinned first, then by last activity. */
  async conversations(limit: number): Promise<Conversation[]> {
    return this.db.conversations
      .orderBy('[pinned+lastActivity]')
      .reverse()
      .limit(Math.max(1, limit))
      .toArray();
  }

  conversation(jid: string): Promise<Conversation | undefined> {
    return this.db.conversations.get(bareOf(jid));
  }

  /** Keeps a conversation in step with the archive while the UI shows it, and catches it up now. */
  async openConversation(jid: string, kind: ConversationKind = 'chat'): Promise<void> {
    const bare = bareOf(jid);
    this.open.delete(bare);
    this.open.set(bare, kind);
    for (const oldest of this.open.keys()) {
      if (this.open.size <= MAX_OPEN_CONVERSATIONS) break;
      this.closeConversation(oldest);
    }
    await this.catchUp(bare, kind);
  }

  closeConversation(jid: string): void {
    this.open.delete(bareOf(jid));
    this.synced.delete(bareOf(jid));
  }

  newestPage(conversation: string, limit: number): Promise<Message[]> {
    return this.messages.newestPage(bareOf(conversation), limit);
  }

  /** Older messages: from IndexedDB, and from the archive only for what is not stored. */
  async olderPage(conversation: string, before: MessageKey, limit: number): Promise<Message[]> {
    const jid = bareOf(conversation);
    const range = await this.db.conversations.get(jid);
    const kind = range?.kind ?? this.open.get(jid) ?? 'chat';
    const edge = await this.db.messages.get(before.key);
    if (edge?.stanzaId !== undefined && belowRange(edge, range)) {
      await this.archive.fetchNextTo(jid, kind, edge.stanzaId, 'older', limit);
      return this.messages.olderLocal(jid, before.key, limit);
    }

    const local = await this.messages.olderLocal(jid, before.key, limit);
    // Rows below the fetched range came from a jump; the archive fills the gap before them first.
    const crossesGap = local.some((row) => belowRange(row, range));
    if (local.length >= limit && !crossesGap) return local;
    const fetched = await this.archive.fetchOlder(jid, kind, crossesGap ? limit : limit - local.length);
    return fetched ? this.messages.olderLocal(jid, before.key, limit) : local;
  }

  /** Newer messages after `after`; below the fetched range (after a jump) the archive fills them in first. */
  async newerPage(conversation: string, after: MessageKey, limit: number): Promise<Message[]> {
    const jid = bareOf(conversation);
    const range = await this.db.conversations.get(jid);
    const edge = await this.db.messages.get(after.key);
    if (edge?.stanzaId !== undefined && belowRange(edge, range)) {
      const kind = range?.kind ?? this.open.get(jid) ?? 'chat';
      await this.archive.fetchNextTo(jid, kind, edge.stanzaId, 'newer', limit);
    }
    return this.messages.newerLocal(jid, after.key, limit);
  }

  /**
   * The window around a message (a search hit): the message and up to `limit` messages on each
   * side, oldest first. A hit only the server had is fetched with its neighbours and stored first.
   * `key` is the message's stored key, absent when neither IndexedDB nor the archive has it.
   */
  async pageAround(conversation: string, target: { key: string; stanzaId?: string }, limit: number): Promise<{ messages: Message[]; key?: string }> {
    const jid = bareOf(conversation);
    let row = await this.storedMessage(jid, target);
    if (!row && target.stanzaId !== undefined) {
      const kind = (await this.db.conversations.get(jid))?.kind ?? this.open.get(jid) ?? 'chat';
      await this.archive.fetchAround(jid, kind, target.stanzaId, limit);
      row = await this.storedMessage(jid, target);
    }
    if (!row) return { messages: [] };
    return { messages: await this.messages.around(jid, row.key, limit), key: row.key };
  }

  /**
   * Stores the message and its outbox entry in one transaction, then hands it to the connection.
   * With `file`, the message shares an uploaded file, takes the upload's id, and the pending upload row goes in the same transaction.
   */
  async send(conversation: string, body: string, kind: ConversationKind, file?: { attachment: Attachment; uploadId: string }): Promise<Message> {
    const jid = bareOf(conversation);
    const id = file?.uploadId ?? randomId();
    const now = this.now();
    const from = kind === 'groupchat' ? ((await this.db.rooms.get(jid))?.nick ?? this.ownBare()) : this.ownBare();
    const message: Message = { key: messageKey(now, id), conversation: jid, kind, direction: 'out', from, body, timestamp: now, originId: id, msgId: id, state: 'sending', tokens: tokenize(body) };
    if (file) {
      message.attachment = file.attachment;
      message.tokens = attachmentTokens(body, file.attachment);
    }
    const stanza = chatMessage(jid, kind, id, body, file ? attachmentElements(file.attachment) : []);

    await this.db.transaction('rw', [this.db.messages, this.db.conversations, this.db.outbox, this.db.uploads], async () => {
      await this.db.messages.add(message);
      await this.outbox.add({ conversation: jid, xml: stanza.toString(), messageKey: message.key, createdAt: now });
      if (file) await this.db.uploads.delete(file.uploadId);
      const row = (await this.db.conversations.get(jid)) ?? newConversation(jid, kind);
      const previewAttachment = bodyIsJustUrl(body, file?.attachment) ? file?.attachment : undefined;
      const { previewRetracted: _cleared, ...kept } = row;
      await this.db.conversations.put({ ...kept, preview: previewOf(body), previewFrom: from, previewAttachment, lastActivity: Math.max(row.lastActivity, now) });
    });
    this.emitSent(jid, message.key);
    this.kickOutbox();
    return message;
  }

  /** XEP-0308: replaces the body of an own message. */
  async correct(target: MessageKey, body: string): Promise<Message> {
    const original = await this.ownMessage(target);
    const id = randomId();
    const stanza = correctionMessage(original.conversation, original.kind, id, original.originId ?? original.msgId ?? '', body);
    const edited: Message = { ...original, body, tokens: tokenize(body), editedAt: this.now() };
    await this.enqueueEdit(edited, stanza);
    return edited;
  }

  /** XEP-0424: retracts an own message. */
  async retract(target: MessageKey): Promise<void> {
    const original = await this.ownMessage(target);
    const stanza = retractionMessage(original.conversation, original.kind, randomId(), original.originId ?? original.msgId ?? '');
    await this.enqueueEdit({ ...original, body: '', tokens: [], retractedAt: this.now(), attachment: undefined }, stanza);
  }

  /**
   * Sends a displayed marker (XEP-0333) for `stanzaId`, unless the read position is already
   * there. The server moves the read position and updates every device's inbox.
   */
  async markRead(conversation: string, stanzaId: string): Promise<void> {
    const jid = bareOf(conversation);
    const row = await this.db.messages.where('[conversation+stanzaId]').equals([jid, stanzaId]).first();
    const current = await this.db.conversations.get(jid);
    const kind = row?.kind ?? current?.kind ?? 'chat';
    const ref = kind === 'groupchat' ? stanzaId : (row?.msgId ?? row?.originId ?? stanzaId);
    const stanza = markerMessage(jid, kind, randomId(), 'displayed', ref);

    const moved = await this.db.transaction('rw', this.db.conversations, this.db.outbox, async () => {
      const latest = await this.db.conversations.get(jid);
      // A position at or past this message was already reported, from here or another device.
      if (latest?.readStanzaId !== undefined && latest.readStanzaId >= stanzaId) return false;
      await this.outbox.add({ conversation: jid, xml: stanza.toString(), createdAt: this.now() });
      if (!latest) return true;
      // Until the server's push brings the exact count, reading the last message means nothing is unread.
      const unread = latest.lastStanzaId !== undefined && stanzaId >= latest.lastStanzaId ? 0 : latest.unread;
      await this.db.conversations.put({ ...latest, readStanzaId: stanzaId, unread });
      return true;
    });
    if (!moved) return;
    this.feed.emit({ type: 'conversation', jid });
    this.kickOutbox();
  }

  /** Pins or unpins, mutes (seconds, 0 unmutes) through the inbox; the server's result updates the row. */
  async setConversationFlags(jid: string, changes: { pinned?: boolean; muteSeconds?: number | 'forever' }): Promise<void> {
    const bare = bareOf(jid);
    const reply = await this.client.iq(inboxProperties(bare, changes));
    const query = reply.getChild('query', NS.INBOX_CONVERSATION);
    if (!query) return;
    await this.db.conversations.update(bare, readProperties(query));
    this.feed.emit({ type: 'conversation', jid: bare });
  }

  /** Queries who has read an own room message (`urn:parley:group-receipts:0`) and caches the result. */
  async groupReceipts(room: string, stanzaId: string): Promise<ReceiptRecord> {
    const jid = bareOf(room);
    const reply = await this.client.iq(groupReceiptsQuery(jid, stanzaId));
    const record = readGroupReceipts(reply, jid, stanzaId, this.now());
    await this.db.transaction('rw', this.db.receipts, this.db.messages, async () => {
      await this.db.receipts.put(record);
      const row = await this.db.messages.where('[conversation+stanzaId]').equals([jid, stanzaId]).first();
      if (!row) return;
      const patch: Partial<Message> = { readCount: record.read.length, unreadCount: record.unread.length };
      if (record.unread.length === 0 && record.read.length > 0 && row.state !== 'sending') patch.state = 'read';
      await this.db.messages.update(row.key, patch);
    });
    this.feed.emit({ type: 'receipts', room: jid, stanzaId });
    return record;
  }

  /** Local search (newest first, paged) merged with the server's full-text archive search while online. */
  search(text: string, options: SearchOptions = {}): Promise<SearchResult> {
    const server = options.server === true && this.client.status === 'online';
    return searchAll(this.db, this.mam, text, { ...options, server });
  }

  /** XEP-0085 typing notices; not stored. */
  sendChatState(conversation: string, kind: ConversationKind, state: ChatState): void {
    this.client.send(chatStateMessage(bareOf(conversation), kind, state));
  }

  /** Records the nick the account uses in a room, so its own messages are recognised. */
  async setRoomNick(room: string, nick: string): Promise<void> {
    const jid = bareOf(room);
    const row = await this.db.rooms.get(jid);
    await this.db.rooms.put({ ...row, jid, nick });
  }

  /** Stores a group's name for the room and its conversation, so the lists show it offline. */
  async setRoomName(room: string, name: string): Promise<void> {
    const jid = bareOf(room);
    const changed = await this.db.transaction('rw', this.db.rooms, this.db.conversations, async () => {
      const row = await this.db.rooms.get(jid);
      const conversation = await this.db.conversations.get(jid);
      if (row?.name === name && (!conversation || conversation.name === name)) return false;
      await this.db.rooms.put({ ...row, jid, name });
      if (conversation) await this.db.conversations.update(jid, { name });
      return true;
    });
    if (changed) this.feed.emit({ type: 'conversation', jid });
  }

  syncRoster(): Promise<void> {
    return syncRoster(this.db, this.client).then(() => this.feed.emit({ type: 'contacts' }));
  }

  outboxSize(): Promise<number> {
    return this.outbox.size();
  }

  private async runSync(): Promise<void> {
    this.feed.emit({ type: 'sync', phase: 'started' });
    try {
      void this.outbox.flush();
      const entries = await this.inbox.all();
      await applyInboxEntries(this.db, entries);
      this.feed.emit({ type: 'conversation', jid: '*' });
      for (const [jid, kind] of this.open) await this.catchUp(jid, kind);
      this.feed.emit({ type: 'sync', phase: 'done' });
    } catch (err) {
      this.feed.emit({ type: 'sync', phase: 'failed', error: (err as Error).message });
      throw err;
    }
  }

  private async catchUp(jid: string, kind: ConversationKind): Promise<void> {
    this.synced.delete(jid);
    this.feed.emit({ type: 'sync', phase: 'started', conversation: jid });
    try {
      await this.archive.catchUp(jid, kind);
      if (this.open.has(jid)) this.synced.add(jid);
      this.feed.emit({ type: 'sync', phase: 'done', conversation: jid });
    } catch (err) {
      this.feed.emit({ type: 'sync', phase: 'failed', conversation: jid, error: (err as Error).message });
      throw err;
    }
  }

  private activate(): void {
    if (this.closed) return;
    this.active = true;
    this.detach.push(this.client.on('online', ({ resumed }) => this.onOnline(resumed)));
    this.detach.push(this.client.handleIq('query', NS.ROSTER, (request) => this.onRosterPush(request)));
    void this.outbox.flush();
    // A tab that takes over from a closed one catches up on what that tab no longer handled.
    if (this.client.status === 'online') this.startupSync().catch((err: unknown) => console.warn('start-up sync failed', err));
  }

  /** Sends the outbox from the active tab: here, or by waking the active tab. */
  private kickOutbox(): void {
    if (this.active) void this.outbox.flush();
    else this.tabs.outboxChanged();
  }

  private onOnline(resumed: boolean): void {
    // A resumed session kept its pushes and its unacknowledged stanzas; a new one starts over.
    if (resumed) return;
    this.synced.clear();
    this.startupSync().catch((err: unknown) => console.warn('start-up sync failed', err));
  }

  private onStanza(stanza: XElement): void {
    if (stanza.name !== 'message') return;
    if (this.mam.handle(stanza) || this.inbox.handle(stanza) || !this.active) return;
    if (stanza.getChild('result', NS.INBOX)) {
      const push = readInboxPush(stanza, this.client.bareJid);
      if (push) void this.serial(() => this.onInboxPush(push));
      return;
    }
    void this.serial(() => this.receiver.live(stanza, (jid) => this.synced.has(jid)));
  }

  private async onInboxPush(entry: InboxEntry): Promise<void> {
    await applyInboxEntries(this.db, [entry]);
    this.feed.emit({ type: 'conversation', jid: entry.jid });
  }

  private async onRosterPush(request: XElement): Promise<undefined> {
    if (!isFromOwnAccount(request, this.client.bareJid)) throw new Error('roster push from a stranger');
    await applyRosterPush(this.db, request);
    this.feed.emit({ type: 'contacts' });
    return undefined;
  }

  /** Runs stanza handling one at a time, in arrival order. */
  private serial(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(() => (this.closed ? undefined : task()));
    this.queue = run.catch((err: unknown) => console.error('handling a stanza failed', err));
    return run;
  }

  private async storedMessage(conversation: string, target: { key: string; stanzaId?: string }): Promise<Message | undefined> {
    const row = await this.db.messages.get(target.key);
    if (row?.conversation === conversation) return row;
    if (target.stanzaId === undefined) return undefined;
    return this.db.messages.where('[conversation+stanzaId]').equals([conversation, target.stanzaId]).first();
  }

  private async ownMessage(target: MessageKey): Promise<Message> {
    const row = await this.db.messages.get(target.key);
    if (!row || row.direction !== 'out') throw new Error('only own messages can be changed');
    if (row.retractedAt !== undefined) throw new Error('the message was retracted');
    return row;
  }

  private async enqueueEdit(edited: Message, stanza: XElement): Promise<void> {
    await this.db.transaction('rw', this.db.messages, this.db.conversations, this.db.outbox, async () => {
      await this.db.messages.put(edited);
      await this.messages.refreshPreview(edited);
      await this.outbox.add({ conversation: edited.conversation, xml: stanza.toString(), createdAt: this.now() });
    });
    this.emitSent(edited.conversation, edited.key);
    this.kickOutbox();
  }

  private emitSent(conversation: string, key: string): void {
    this.feed.emit({ type: 'messages', conversation, keys: [key] });
    this.feed.emit({ type: 'conversation', jid: conversation });
    void this.outbox.size().then((size) => this.feed.emit({ type: 'outbox', size }));
  }

  private ownBare(): string {
    return bareOf(this.client.bareJid);
  }
}

/** True for an archived row older than the conversation's fetched range: stored by a jump, maybe with gaps around it. */
function belowRange(row: Message, range: Conversation | undefined): boolean {
  if (!range || range.reachedBeginning || range.oldestFetched === undefined || row.stanzaId === undefined) return false;
  return row.stanzaId < range.oldestFetched;
}

/** Reads the flags of an inbox property result, whose `<query/>` has no unread count. */
function readProperties(query: XElement): Partial<Conversation> {
  const entry = readInboxEntry(x('result', NS.INBOX, { unread: 0 }, ...query.elements().map((child) => child.clone())));
  if (!entry) return {};
  return { pinned: entry.pinned ? 1 : 0, mutedUntil: entry.mutedUntil, archived: entry.archived };
}
