import { defineStore } from 'pinia';
import { discoverDirectory, fetchSearchForm, searchDirectory, type DirectoryEntry, type DirectoryForm } from './protocol/directory.js';
import { services } from './services.js';

/** The organisation directory (XEP-0055): found once per session, searched as the user types. */
export const useDirectory = defineStore('directory', {
  state: () => ({
    form: undefined as DirectoryForm | undefined,
    available: undefined as boolean | undefined,
    query: '',
    results: [] as DirectoryEntry[],
    searching: false,
  }),
  actions: {
    async discover(): Promise<boolean> {
      if (this.available !== undefined) return this.available;
      const { client } = services();
      const service = await discoverDirectory(client);
      this.form = service ? await fetchSearchForm(client, service).catch(() => undefined) : undefined;
      this.available = this.form !== undefined;
      return this.available;
    },

    /** Searches for `query`. A result for an older query than the latest typed one is dropped. */
    async search(query: string): Promise<void> {
      this.query = query;
      const text = query.trim();
      if (!text || !(await this.discover()) || !this.form) {
        this.results = [];
        return;
      }
      this.searching = true;
      try {
        const results = await searchDirectory(services().client, this.form, text);
        if (this.query === query) this.results = results;
      } finally {
        if (this.query === query) this.searching = false;
      }
    },
  },
});
