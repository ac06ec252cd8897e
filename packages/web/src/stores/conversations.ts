import { defineStore } from 'pinia';
import type { Conversation } from '../data/index.js';
import { services } from './services.js';

/** Conversations the list shows at first; scrolling to the end grows the window by as many. */
export const LIST_PAGE = 50;
/** The maximum number of rows the list keeps in memory. */
export const MAX_LIST_WINDOW = 1_000;

export function isMuted(conversation: Conversation, now = Date.now()): boolean {
  return conversation.mutedUntil > now;
}

/**
 * Orders the list window: pinned first, then by last activity, newest first. The data layer
 * already reads in this order; sorting again keeps the window right between two reads.
 */
export function sortConversations(list: Conversation[]): Conversation[] {
  return [...list].sort((a, b) => b.pinned - a.pinned || b.lastActivity - a.lastActivity || a.jid.localeCompare(b.jid));
}

let refreshTimer: ReturnType<typeof setTimeout> | undefined;

export const useConversations = defineStore('conversations', {
  state: () => ({
    items: [] as Conversation[],
    limit: LIST_PAGE,
    loaded: false,
    /** The conversation shown in the chat view, or '' for none. */
    openJid: '',
  }),
  getters: {
    /** Unread messages of conversations that are not muted, for the tab title and the nav badge. */
    totalUnread: (state) => state.items.reduce((sum, item) => sum + (isMuted(item) ? 0 : item.unread), 0),
    open: (state): Conversation | undefined => state.items.find((item) => item.jid === state.openJid),
    hasMore: (state) => state.items.length >= state.limit && state.limit < MAX_LIST_WINDOW,
  },
  actions: {
    /** Starts following the data layer's changes; returns the stop function. */
    attach(): () => void {
      const stop = services().chat.subscribe((change) => {
        if (change.type === 'conversation' || (change.type === 'sync' && change.phase === 'done')) this.scheduleRefresh();
      });
      void this.refresh();
      return () => {
        stop();
        clearTimeout(refreshTimer);
      };
    },

    /** Coalesces a burst of changes (a sync writes many rows) into one read. */
    scheduleRefresh(): void {
      clearTimeout(refreshTimer);
      refreshTimer = setTimeout(() => void this.refresh(), 30);
    },

    async refresh(): Promise<void> {
      this.items = sortConversations(await services().chat.conversations(this.limit));
      this.loaded = true;
    },

    async showMore(): Promise<void> {
      this.limit = Math.min(this.limit + LIST_PAGE, MAX_LIST_WINDOW);
      await this.refresh();
    },

    select(jid: string): void {
      this.openJid = jid;
    },

    async setPinned(jid: string, pinned: boolean): Promise<void> {
      await services().chat.setConversationFlags(jid, { pinned });
    },

    async setMuted(jid: string, muted: boolean): Promise<void> {
      await services().chat.setConversationFlags(jid, { muteSeconds: muted ? 'forever' : 0 });
    },
  },
});
