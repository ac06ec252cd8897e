import { defineStore } from 'pinia';
import { mergeHits, type Message } from '../data/index.js';
import { services } from './services.js';

/** Search hits shown at most; the data layer pages its own reads. */
export const MAX_HITS = 200;

export const useSearch = defineStore('search', {
  state: () => ({
    query: '',
    conversation: '',
    /** Ask the server's full-text archive search too (XEP-0431). */
    server: true,
    hits: [] as Message[],
    nextBefore: undefined as string | undefined,
    serverBefore: undefined as string | undefined,
    searching: false,
    searched: false,
  }),
  actions: {
    /** Searches stored messages (and the server archive, in the data layer) of one conversation or all. */
    async run(query: string, conversation = ''): Promise<void> {
      this.query = query;
      this.conversation = conversation;
      const text = query.trim();
      if (!text) {
        this.hits = [];
        this.searched = false;
        return;
      }
      this.searching = true;
      try {
        const result = await services().chat.search(text, { conversation: conversation || undefined, server: this.server });
        if (this.query === query && this.conversation === conversation) {
          this.hits = result.messages.slice(0, MAX_HITS);
          this.nextBefore = result.nextBefore;
          this.serverBefore = result.serverBefore;
          this.searched = true;
        }
      } finally {
        this.searching = false;
      }
    },
    /** Appends the next page of hits (local and server), up to MAX_HITS. */
    async more(): Promise<void> {
      if (this.searching || this.hits.length >= MAX_HITS || (!this.nextBefore && !this.serverBefore)) return;
      const query = this.query;
      this.searching = true;
      try {
        const result = await services().chat.search(query.trim(), {
          conversation: this.conversation || undefined,
          beforeKey: this.nextBefore,
          server: this.server && this.serverBefore !== undefined,
          serverBefore: this.serverBefore,
        });
        if (this.query !== query) return;
        this.hits = mergeHits(this.hits, result.messages).slice(0, MAX_HITS);
        this.nextBefore = result.nextBefore;
        this.serverBefore = result.serverBefore;
      } finally {
        this.searching = false;
      }
    },

    clear(): void {
      this.$reset();
    },
  },
});
