import { defineStore } from 'pinia';
import { isLocalePreference, resolveLocale, type Locale, type LocalePreference } from '../i18n/locale.js';

export type Theme = 'system' | 'light' | 'dark';

export interface SettingsState {
  locale: LocalePreference;
  theme: Theme;
  notifications: boolean;
  /** Show the message text in notifications. When off, they name only the sender (privacy). */
  notificationPreview: boolean;
  /** In groups, notify only for messages that mention the account's nick. */
  groupMentionsOnly: boolean;
  /** Let group mentions notify while the account's presence is do-not-disturb. */
  mentionsInDnd: boolean;
  sound: boolean;
  sendOnEnter: boolean;
  /** Delete the account's local database on sign-out (shared computers). */
  forgetOnSignOut: boolean;
  /** Store the SCRAM keys (never the password) so that a reload or a new tab signs in by itself. */
  keepSignedIn: boolean;
  /** The last account and server, to fill the sign-in form (never the password). */
  lastJid: string;
  lastServer: string;
}

const STORAGE_KEY = 'parley:settings';

export function defaultSettings(): SettingsState {
  return { locale: 'auto', theme: 'system', notifications: true, notificationPreview: true, groupMentionsOnly: false, mentionsInDnd: false, sound: false, sendOnEnter: true, forgetOnSignOut: false, keepSignedIn: true, lastJid: '', lastServer: '' };
}

/** Reads saved settings, keeping defaults for anything missing or of the wrong type. */
export function loadSettings(storage: Pick<Storage, 'getItem'> | undefined): SettingsState {
  const settings = defaultSettings();
  let saved: Record<string, unknown> = {};
  try {
    saved = JSON.parse(storage?.getItem(STORAGE_KEY) ?? '{}') as Record<string, unknown>;
  } catch {
    return settings;
  }
  if (isLocalePreference(saved.locale)) settings.locale = saved.locale;
  if (saved.theme === 'light' || saved.theme === 'dark' || saved.theme === 'system') settings.theme = saved.theme;
  for (const flag of ['notifications', 'notificationPreview', 'groupMentionsOnly', 'mentionsInDnd', 'sound', 'sendOnEnter', 'forgetOnSignOut', 'keepSignedIn'] as const) {
    if (typeof saved[flag] === 'boolean') settings[flag] = saved[flag];
  }
  if (typeof saved.lastJid === 'string') settings.lastJid = saved.lastJid;
  if (typeof saved.lastServer === 'string') settings.lastServer = saved.lastServer;
  return settings;
}

function browserStorage(): Storage | undefined {
  try {
    return typeof localStorage === 'undefined' ? undefined : localStorage;
  } catch {
    return undefined;
  }
}

function browserLanguages(): readonly string[] {
  return typeof navigator === 'undefined' ? [] : (navigator.languages ?? [navigator.language]);
}

/** Preferences of this browser (not of the account), kept in localStorage. */
export const useSettings = defineStore('settings', {
  state: (): SettingsState => loadSettings(browserStorage()),
  getters: {
    effectiveLocale: (state): Locale => resolveLocale(state.locale, browserLanguages()),
  },
  actions: {
    update(patch: Partial<SettingsState>): void {
      this.$patch(patch);
      this.persist();
    },
    persist(): void {
      try {
        browserStorage()?.setItem(STORAGE_KEY, JSON.stringify(this.$state));
      } catch {
        // TODO: tell the user when the browser refuses storage (private mode with a full quota).
      }
    },
  },
});
