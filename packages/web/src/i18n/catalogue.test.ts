import { describe, expect, it } from 'vitest';
import { catalogues, createAppI18n, pickLocale, dayLabel, formatListTime } from './index.js';

type Tree = { [key: string]: string | Tree };

function leaves(tree: Tree, prefix = ''): Map<string, string> {
  const found = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === 'string') found.set(path, value);
    else for (const [inner, text] of leaves(value, path)) found.set(inner, text);
  }
  return found;
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!).sort();
}

describe('message catalogues', () => {
  const en = leaves(catalogues.en);
  const zh = leaves(catalogues['zh-CN']);

  it('have the same keys in both languages', () => {
    expect([...zh.keys()].sort()).toEqual([...en.keys()].sort());
  });

  it('have no empty strings', () => {
    for (const [locale, entries] of [['en', en], ['zh-CN', zh]] as const) {
      for (const [key, text] of entries) expect(text.trim(), `${locale} ${key}`).not.toBe('');
    }
  });

  it('use the same placeholders in both languages', () => {
    for (const [key, text] of en) {
      expect(new Set(placeholders(zh.get(key) ?? '')), key).toEqual(new Set(placeholders(text)));
    }
  });

  it('compile every message in both languages', () => {
    const i18n = createAppI18n('en');
    for (const locale of ['en', 'zh-CN'] as const) {
      i18n.global.locale.value = locale;
      for (const key of en.keys()) {
        const text = i18n.global.t(key, { n: 2, name: 'X', message: 'm', min: 8, jid: 'a@b', from: 'a', room: 'r', read: 1, unread: 2 });
        expect(text, `${locale} ${key}`).not.toBe(key);
        expect(text, `${locale} ${key}`).not.toMatch(/\{\w+\}/);
      }
    }
  });
});

describe('plural rules', () => {
  it('pick the English form by count', () => {
    const { t } = createAppI18n('en').global;
    expect(t('conversations.unread', 0)).toBe('no unread messages');
    expect(t('conversations.unread', 1)).toBe('1 unread message');
    expect(t('conversations.unread', 5)).toBe('5 unread messages');
  });

  it('use the one Chinese form for every count', () => {
    const { t } = createAppI18n('zh-CN').global;
    expect(t('conversations.unread', 1)).toBe('1 条未读消息');
    expect(t('conversations.unread', 5)).toBe('5 条未读消息');
  });
});

describe('pickLocale', () => {
  it('maps any Chinese tag to zh-CN', () => {
    expect(pickLocale(['zh-TW', 'en'])).toBe('zh-CN');
    expect(pickLocale(['zh'])).toBe('zh-CN');
  });

  it('follows the browser order', () => {
    expect(pickLocale(['en-GB', 'zh-CN'])).toBe('en');
    expect(pickLocale(['fr', 'de', 'zh-Hans-CN'])).toBe('zh-CN');
  });

  it('falls back to English', () => {
    expect(pickLocale(['fr'])).toBe('en');
    expect(pickLocale([])).toBe('en');
  });
});

describe('date formats', () => {
  const now = new Date(2026, 4, 20, 15, 0).getTime();

  it('labels today and yesterday', () => {
    expect(dayLabel('en', new Date(2026, 4, 20, 1, 0).getTime(), now)).toEqual({ kind: 'today' });
    expect(dayLabel('en', new Date(2026, 4, 19, 23, 0).getTime(), now)).toEqual({ kind: 'yesterday' });
  });

  it('writes older days in the locale', () => {
    const label = dayLabel('zh-CN', new Date(2026, 0, 3, 9, 0).getTime(), now);
    expect(label).toEqual({ kind: 'date', text: expect.stringContaining('1月3日') });
    expect(dayLabel('en', new Date(2026, 0, 3).getTime(), now)).toEqual({ kind: 'date', text: expect.stringContaining('January 3') });
  });

  it('shows the clock for today in the list', () => {
    expect(formatListTime('en', new Date(2026, 4, 20, 9, 5).getTime(), now)).toMatch(/09:05/);
    expect(formatListTime('zh-CN', new Date(2025, 4, 20).getTime(), now)).toBe('2025/5/20');
  });
});
