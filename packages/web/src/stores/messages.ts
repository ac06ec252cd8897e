import { defineStore } from 'pinia';
import type { ConversationKind, DataChange, Message, ReceiptRecord } from '../data/index.js';
import { maybeServices, services } from './services.js';
import { useRooms } from './rooms.js';

type OwnChatState = 'composing' | 'paused' | 'active';

/** Messages per page read from IndexedDB (and from the archive when it runs out). */
export const PAGE_SIZE = 50;
/** Messages the open conversation keeps in memory; older pages past this push the newest out. */
export const MAX_WINDOW = 600;
/** Age after which a typing notice without a newer one is dropped (XEP-0085 leaves the time to clients). */
const TYPING_EXPIRY_MS = 30_000;
/** Own group messages whose receipts are fetched when a group opens. */
const RECEIPTS_ON_OPEN = 5;
/** Silence after which composing turns into paused (XEP-0085 section 5.2). */
const PAUSE_AFTER_MS = 5_000;

export interface TypingNotice {
  from: string;
  state: 'composing' | 'paused';
  at: number;
}

function byKey(a: Message, b: Message): number {
  if (a.key === b.key) return 0;
  return a.key < b.key ? -1 : 1;
}

/** Merges changed rows into a sorted window; rows outside the window's range stay out. */
export function mergeWindow(window: Message[], changed: Message[], openEnded: { older: boolean; newer: boolean }): Message[] {
  const byId = new Map(window.map((message) => [message.key, message]));
  const first = window[0]?.key;
  const last = window[window.length - 1]?.key;
  for (const message of changed) {
    const inside = byId.has(message.key);
    const olderThanWindow = first !== undefined && message.key < first && !openEnded.older;
    const newerThanWindow = last !== undefined && message.key > last && !openEnded.newer;
    if (inside || (!olderThanWindow && !newerThanWindow)) byId.set(message.key, message);
  }
  return [...byId.values()].sort(byKey);
}

/**
 * Returns the newest own message of a window when it may still be corrected: XEP-0308 corrects
 * the last message only, and a file message's body is its URL, not text to edit.
 */
export function correctable(window: Message[]): Message | undefined {
  const newest = [...window].reverse().find((message) => message.direction === 'out' && !message.retractedAt);
  return newest?.attachment ? undefined : newest;
}

let typingTimer: ReturnType<typeof setTimeout> | undefined;
let ownTyping: OwnChatState = 'active';
/** A search hit to open at when its conversation's view mounts; outside the state, so closing the previous view keeps it. */
let pendingJump: Message | undefined;

export const useMessages = defineStore('messages', {
  state: () => ({
    conversation: '',
    kind: 'chat' as ConversationKind,
    /** The window, oldest first. */
    items: [] as Message[],
    reachedBeginning: false,
    /** Newer messages were dropped from the window; the view offers to jump back to the latest. */
    detached: false,
    loadingOlder: false,
    loadingNewer: false,
    /** The message a jump opened the window at; the list scrolls to it, highlights it and clears this. */
    focusKey: '',
    typing: [] as TypingNotice[],
    editingKey: '',
    receipts: {} as Record<string, ReceiptRecord>,
  }),
  getters: {
    /** The newest own message that may still be corrected (see correctable). */
    lastOwn: (state): Message | undefined => correctable(state.items),
    activeTyping: (state) => state.typing.filter((notice) => Date.now() - notice.at < TYPING_EXPIRY_MS),
  },
  actions: {
    attach(): () => void {
      return services().chat.subscribe((change) => void this.onChange(change));
    },

    /** Opens a conversation with its newest page. */
    async open(conversation: string, kind: ConversationKind): Promise<void> {
      this.$reset();
      this.conversation = conversation;
      this.kind = kind;
      void services().chat.openConversation(conversation, kind).catch((err: unknown) => console.error('catching up failed', conversation, err));
      const page = await services().chat.newestPage(conversation, PAGE_SIZE);
      if (this.conversation !== conversation) return;
      this.items = [...page].sort(byKey);
      this.reachedBeginning = page.length < PAGE_SIZE;
      await this.markNewestRead();
      void this.loadRecentReceipts();
    },

    /** Opens a conversation at a message (a search hit), with a page on each side; the newest page when the message is gone. */
    async openAt(conversation: string, kind: ConversationKind, target: Message): Promise<void> {
      if (this.conversation !== conversation) {
        this.$reset();
        this.conversation = conversation;
        this.kind = kind;
        void services().chat.openConversation(conversation, kind).catch((err: unknown) => console.error('catching up failed', conversation, err));
      }
      const around = await services().chat.pageAround(conversation, target, PAGE_SIZE);
      if (this.conversation !== conversation) return;
      if (around.key === undefined) return this.open(conversation, kind);

      const newest = await services().chat.newestPage(conversation, 1);
      if (this.conversation !== conversation) return;
      this.items = around.messages;
      this.reachedBeginning = false;
      this.detached = around.messages[around.messages.length - 1]?.key !== newest[0]?.key;
      this.focusKey = around.key;
    },

    /** Opens a search hit: now when its conversation is open, else when its view mounts (see takeJump). */
    async jumpTo(hit: Message): Promise<boolean> {
      if (this.conversation === hit.conversation) {
        await this.openAt(hit.conversation, this.kind, hit);
        return true;
      }
      pendingJump = hit;
      return false;
    },

    /** Takes the search hit waiting for `conversation`'s view, if any. */
    takeJump(conversation: string): Message | undefined {
      const jump = pendingJump?.conversation === conversation ? pendingJump : undefined;
      pendingJump = undefined;
      return jump;
    },

    close(): void {
      this.setOwnTyping('active');
      if (this.conversation) maybeServices()?.chat.closeConversation(this.conversation);
      this.$reset();
    },

    /** Loads the page before the oldest message in the window (local first, then the archive). */
    async loadOlder(): Promise<number> {
      const oldest = this.items[0];
      if (this.loadingOlder || this.reachedBeginning || !oldest) return 0;
      const conversation = this.conversation;
      this.loadingOlder = true;
      try {
        const page = await services().chat.olderPage(conversation, { key: oldest.key }, PAGE_SIZE);
        if (this.conversation !== conversation) return 0;
        if (page.length === 0) this.reachedBeginning = true;
        let merged = mergeWindow(this.items, page, { older: true, newer: false });
        if (merged.length > MAX_WINDOW) {
          merged = merged.slice(0, MAX_WINDOW);
          this.detached = true;
        }
        this.items = merged;
        return page.length;
      } finally {
        this.loadingOlder = false;
      }
    },

    /** Loads the page after the newest message in the window, while the window is detached from the latest. */
    async loadNewer(): Promise<number> {
      const newest = this.items[this.items.length - 1];
      if (this.loadingNewer || !this.detached || !newest) return 0;
      const conversation = this.conversation;
      this.loadingNewer = true;
      try {
        const page = await services().chat.newerPage(conversation, { key: newest.key }, PAGE_SIZE);
        if (this.conversation !== conversation) return 0;
        let merged = mergeWindow(this.items, page, { older: false, newer: true });
        if (merged.length > MAX_WINDOW) {
          merged = merged.slice(merged.length - MAX_WINDOW);
          this.reachedBeginning = false;
        }
        this.items = merged;
        // TODO: a live message stored between this read and now shows only after the next change.
        if (page.length < PAGE_SIZE) {
          this.detached = false;
          await this.markNewestRead();
        }
        return page.length;
      } finally {
        this.loadingNewer = false;
      }
    },

    async jumpToLatest(): Promise<void> {
      await this.open(this.conversation, this.kind);
    },

    async send(body: string): Promise<void> {
      const text = body.trim();
      if (!text || !this.conversation) return;
      this.setOwnTyping('active');
      if (this.detached) await this.jumpToLatest();
      const message = await services().chat.send(this.conversation, text, this.kind);
      this.items = mergeWindow(this.items, [message], { older: false, newer: true });
    },

    async edit(key: string, body: string): Promise<void> {
      const text = body.trim();
      this.editingKey = '';
      if (text) await services().chat.correct({ key }, text);
    },

    async retract(key: string): Promise<void> {
      await services().chat.retract({ key });
    },

    /** Tells the server (and the sender) that the newest received message was read. */
    async markNewestRead(): Promise<void> {
      const newest = [...this.items].reverse().find((message) => message.direction === 'in' && message.stanzaId);
      if (newest?.stanzaId) await services().chat.markRead(this.conversation, newest.stanzaId).catch((err: unknown) => console.error('marking read failed', err));
    },

    async loadReceipts(message: Message): Promise<ReceiptRecord | undefined> {
      if (this.kind !== 'groupchat' || !message.stanzaId) return undefined;
      const receipts = await services().chat.groupReceipts(this.conversation, message.stanzaId);
      this.receipts[message.key] = receipts;
      return receipts;
    },

    /** Sends composing, then paused after a silence, and active when the text is sent or cleared. */
    typed(text: string): void {
      clearTimeout(typingTimer);
      if (!text) return this.setOwnTyping('active');
      this.setOwnTyping('composing');
      typingTimer = setTimeout(() => this.setOwnTyping('paused'), PAUSE_AFTER_MS);
    },

    setOwnTyping(state: OwnChatState): void {
      if (state === ownTyping || !this.conversation) return;
      ownTyping = state;
      maybeServices()?.chat.sendChatState(this.conversation, this.kind, state);
    },

    async onChange(change: DataChange): Promise<void> {
      if (change.type === 'typing' && change.conversation === this.conversation) return this.onTyping(change.from, change.state);
      if (change.type === 'receipts' && change.room === this.conversation) return this.onReceipts(change.stanzaId);
      if (change.type !== 'messages' || change.conversation !== this.conversation) return;

      const rows = (await services().db.messages.bulkGet(change.keys)).filter((row): row is Message => row !== undefined);
      if (change.conversation !== this.conversation) return;
      const incoming = rows.some((row) => row.direction === 'in');
      this.items = mergeWindow(this.items, rows, { older: this.items.length === 0, newer: !this.detached });
      this.typing = this.typing.filter((notice) => !rows.some((row) => row.from === notice.from));
      if (incoming && typeof document !== 'undefined' && document.visibilityState === 'visible') await this.markNewestRead();
    },

    /** Re-reads the message whose group receipts were fetched, for its read and unread counts. */
    async onReceipts(stanzaId: string): Promise<void> {
      const conversation = this.conversation;
      const row = await services().db.messages.where('[conversation+stanzaId]').equals([conversation, stanzaId]).first();
      if (row && this.conversation === conversation) this.items = mergeWindow(this.items, [row], { older: false, newer: false });
    },

    /** Fetches the group receipts of the newest own messages in the window, so their counts show. */
    async loadRecentReceipts(): Promise<void> {
      if (this.kind !== 'groupchat') return;
      const recent = this.items.filter((message) => message.direction === 'out' && message.stanzaId && !message.retractedAt).slice(-RECEIPTS_ON_OPEN);
      for (const message of recent) await this.loadReceipts(message).catch(() => undefined);
    },

    onTyping(from: string, state: string): void {
      // A room reflects the account's own notices back under its nick.
      const own = this.kind === 'groupchat' ? useRooms().rooms[this.conversation]?.nick : maybeServices()?.client.bareJid;
      if (from === own) return;
      const others = this.typing.filter((notice) => notice.from !== from);
      this.typing = state === 'composing' || state === 'paused' ? [...others, { from, state, at: Date.now() }] : others;
      setTimeout(() => (this.typing = this.typing.filter((notice) => Date.now() - notice.at < TYPING_EXPIRY_MS)), TYPING_EXPIRY_MS + 100);
    },
  },
});
