import { createI18n } from 'vue-i18n';
import en from './messages/en.js';
import zhCN from './messages/zh-CN.js';
import { FALLBACK_LOCALE, type Locale } from './locale.js';

export * from './locale.js';
export * from './format.js';
export type { Catalogue } from './messages/en.js';

export const catalogues = { en, 'zh-CN': zhCN } as const;

/** Creates the app's i18n instance (Composition API mode) in `locale`. */
export function createAppI18n(locale: Locale) {
  return createI18n({
    legacy: false,
    locale,
    fallbackLocale: FALLBACK_LOCALE,
    messages: catalogues,
    missingWarn: false,
    fallbackWarn: false,
  });
}

export type AppI18n = ReturnType<typeof createAppI18n>;

/** Switches the language of the app and of the document (screen readers read `lang`). */
export function applyLocale(i18n: AppI18n, locale: Locale): void {
  i18n.global.locale.value = locale;
  if (typeof document !== 'undefined') document.documentElement.lang = locale;
}
