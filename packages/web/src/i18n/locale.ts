/** The languages the client has catalogues for, and how one is picked. */

export const SUPPORTED_LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof SUPPORTED_LOCALES)[number];

/** 'auto' follows the browser's languages. */
export type LocalePreference = Locale | 'auto';

export const FALLBACK_LOCALE: Locale = 'en';

/** The names each language has in its own catalogue's tongue, for the language picker. */
export const LOCALE_NAMES: Record<Locale, string> = { 'zh-CN': '简体中文', en: 'English' };

/**
 * Picks the first supported locale in the browser's preference order: any Chinese tag maps
 * to zh-CN (the only Chinese catalogue), any English tag to en.
 */
export function pickLocale(languages: readonly string[]): Locale {
  for (const tag of languages) {
    const primary = tag.toLowerCase().split(/[-_]/)[0];
    if (primary === 'zh') return 'zh-CN';
    if (primary === 'en') return 'en';
  }
  return FALLBACK_LOCALE;
}

export function resolveLocale(preference: LocalePreference, languages: readonly string[]): Locale {
  return preference === 'auto' ? pickLocale(languages) : preference;
}

export function isLocalePreference(value: unknown): value is LocalePreference {
  return value === 'auto' || (SUPPORTED_LOCALES as readonly unknown[]).includes(value);
}
