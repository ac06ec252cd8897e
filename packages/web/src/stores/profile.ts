import { defineStore } from 'pinia';
import { emptyProfile, fetchVCard, publishVCard, type Profile } from './protocol/vcard.js';
import { services } from './services.js';

export const useProfile = defineStore('profile', {
  state: () => ({ profile: emptyProfile(), loaded: false, saving: false }),
  actions: {
    async load(): Promise<void> {
      this.profile = await fetchVCard(services().client).catch(() => emptyProfile());
      this.loaded = true;
    },
    async save(profile: Profile): Promise<void> {
      this.saving = true;
      try {
        await publishVCard(services().client, profile);
        this.profile = { ...profile };
      } finally {
        this.saving = false;
      }
    },
  },
});
