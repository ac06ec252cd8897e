import { describe, expect, it } from 'vitest';

import {
  PrecisError,
  StringClass,
  checkBidiRule,
  codePoints,
  formatCodePoint,
  opaqueString,
  usernameCaseMapped,
} from './precis.js';
import type { DerivedProperty } from './precis.js';

function errorOf(action: () => unknown): PrecisError | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    if (error instanceof PrecisError) return error;
    throw error;
  }
}

describe('derived property', () => {
  // [name, code point, IdentifierClass, FreeformClass]
  const table: [string, number, DerivedProperty, DerivedProperty][] = [
    ['ASCII letter', 0x0061, 'PVALID', 'PVALID'],
    ['ASCII punctuation', 0x0040, 'PVALID', 'PVALID'],
    ['SPACE', 0x0020, 'DISALLOWED', 'PVALID'],
    ['NO-BREAK SPACE (HasCompat)', 0x00a0, 'DISALLOWED', 'PVALID'],
    ['LINE FEED', 0x000a, 'DISALLOWED', 'DISALLOWED'],
    ['C1 control U+009F', 0x009f, 'DISALLOWED', 'DISALLOWED'],
    ['SOFT HYPHEN (ignorable)', 0x00ad, 'DISALLOWED', 'DISALLOWED'],
    ['SHARP S (exception)', 0x00df, 'PVALID', 'PVALID'],
    ['uppercase letter', 0x00c4, 'PVALID', 'PVALID'],
    ['CJK ideograph', 0x65e5, 'PVALID', 'PVALID'],
    ['combining acute', 0x0301, 'PVALID', 'PVALID'],
    ['fullwidth A (HasCompat)', 0xff21, 'DISALLOWED', 'PVALID'],
    ['ROMAN NUMERAL FOUR', 0x2163, 'DISALLOWED', 'PVALID'],
    ['BLACK CHESS KING', 0x265a, 'DISALLOWED', 'PVALID'],
    ['horse emoji', 0x1f40e, 'DISALLOWED', 'PVALID'],
    ['titlecase Dz', 0x01c5, 'DISALLOWED', 'PVALID'],
    ['ZERO WIDTH JOINER', 0x200d, 'CONTEXTJ', 'CONTEXTJ'],
    ['ZERO WIDTH NON-JOINER', 0x200c, 'CONTEXTJ', 'CONTEXTJ'],
    ['MIDDLE DOT', 0x00b7, 'CONTEXTO', 'CONTEXTO'],
    ['Arabic-Indic digit zero', 0x0660, 'CONTEXTO', 'CONTEXTO'],
    ['ARABIC TATWEEL (exception)', 0x0640, 'DISALLOWED', 'DISALLOWED'],
    ['old Hangul jamo', 0x1100, 'DISALLOWED', 'DISALLOWED'],
    ['Hangul syllable', 0xac00, 'PVALID', 'PVALID'],
    ['variation selector 16', 0xfe0f, 'DISALLOWED', 'DISALLOWED'],
    ['private use', 0xe000, 'DISALLOWED', 'DISALLOWED'],
    ['noncharacter', 0xfffe, 'DISALLOWED', 'DISALLOWED'],
    ['lone surrogate', 0xd800, 'DISALLOWED', 'DISALLOWED'],
    ['LINE SEPARATOR', 0x2028, 'DISALLOWED', 'DISALLOWED'],
    ['unassigned U+0378', 0x0378, 'UNASSIGNED', 'UNASSIGNED'],
  ];

  it.each(table)('IdentifierClass: %s', (_name, cp, identifier) => {
    expect(StringClass.IDENTIFIER.derivedProperty(cp)).toBe(identifier);
  });

  it.each(table)('FreeformClass: %s', (_name, cp, _identifier, freeform) => {
    expect(StringClass.FREEFORM.derivedProperty(cp)).toBe(freeform);
  });
});

describe('contextual rules', () => {
  const cases: [string, string, boolean][] = [
    ['ZWJ after Devanagari virama', '\u0915\u094d\u200d\u0937', true],
    ['ZWJ after a letter', 'a\u200db', false],
    ['ZWJ at the start', '\u200dab', false],
    ['ZWNJ after Devanagari virama', '\u0915\u094d\u200c\u0937', true],
    ['ZWNJ between Persian letters', '\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645', true],
    ['ZWNJ after right-joining waw', '\u0648\u200c\u0628', false],
    ['ZWNJ between Latin letters', 'a\u200cb', false],
    ['middle dot between l and l', 'l\u00b7l', true],
    ['middle dot after a', 'a\u00b7l', false],
    ['keraia before Greek', '\u0375\u03b1', true],
    ['keraia before Latin', '\u0375a', false],
    ['geresh after Hebrew', '\u05d0\u05f3', true],
    ['geresh after Latin', 'a\u05f3', false],
    ['katakana middle dot with katakana', '\u30a2\u30fb\u30a4', true],
    ['katakana middle dot alone', '\u30fb', false],
    ['Arabic-Indic digits', '\u0661\u0662', true],
    ['Arabic-Indic digit with extended digit', '\u0661\u06f2', false],
    ['extended Arabic-Indic digits', '\u06f1\u06f2', true],
  ];

  it.each(cases)('%s', (_name, input, allowed) => {
    expect(errorOf(() => StringClass.FREEFORM.enforce(input)) === undefined).toBe(allowed);
  });
});

describe('checkBidiRule', () => {
  const cases: [string, string, boolean][] = [
    ['LTR only, digit first', '1abc', true],
    ['Hebrew', '\u05e0\u05d7\u05de\u05df', true],
    ['Hebrew then digit', '\u05d0\u05d1\u0031', true],
    ['digit then Hebrew', '\u0031\u05d0', false],
    ['Latin then Hebrew', 'a\u05d0', false],
    ['Hebrew with point at the end', '\u05d0\u05b0', true],
    ['Arabic ending with Arabic-Indic digits', '\u0634\u0661\u0662', true],
    ['European and Arabic-Indic digits', '\u0634\u0031\u0661', false],
    ['only Arabic-Indic digits', '\u0660\u0661', false],
    ['Hebrew ending with punctuation', '\u05d0!', false],
  ];

  it.each(cases)('%s', (_name, input, valid) => {
    expect(errorOf(() => checkBidiRule(input)) === undefined).toBe(valid);
  });

  it('names the offending code point', () => {
    expect(errorOf(() => checkBidiRule('a\u05d0'))?.message).toContain('U+05D0');
  });
});

describe('usernameCaseMapped', () => {
  const mapped: [string, string, string][] = [
    ['ASCII', 'juliet', 'juliet'],
    ['ASCII uppercase', 'Juliet', 'juliet'],
    ['at sign kept', 'juliet@example.com', 'juliet@example.com'],
    ['sharp s kept', 'fu\u00dfball', 'fu\u00dfball'],
    ['capital sigma', '\u03a3', '\u03c3'],
    ['final sigma in context', '\u03a3\u0391\u03a3', '\u03c3\u03b1\u03c2'],
    ['fullwidth letters', '\uff21\uff22\uff23', 'abc'],
    ['halfwidth katakana', '\uff8a\uff9f', '\u30d1'],
    ['NFD to NFC', 'u\u0308ber', '\u00fcber'],
    ['KELVIN SIGN', '\u212a', 'k'],
    ['Han', '\u65e5\u672c\u8a9e', '\u65e5\u672c\u8a9e'],
  ];

  it.each(mapped)('maps %s', (_name, input, expected) => {
    expect(usernameCaseMapped(input)).toBe(expected);
  });

  const rejected: [string, string, string][] = [
    ['space', 'foo bar', 'U+0020'],
    ['empty string', '', 'empty'],
    ['ROMAN NUMERAL FOUR', 'henry\u2163', 'U+2173'],
    ['chess king', '\u265a', 'U+265A'],
    ['mixed directions', 'a\u05d0', 'U+05D0'],
    ['control character', 'a\u0007', 'U+0007'],
  ];

  it.each(rejected)('rejects %s', (_name, input, reason) => {
    expect(errorOf(() => usernameCaseMapped(input))?.message).toContain(reason);
  });

  it('reports the code point on the error', () => {
    expect(errorOf(() => usernameCaseMapped('\u265a'))?.codePoint).toBe(0x265a);
  });
});

describe('opaqueString', () => {
  const mapped: [string, string, string][] = [
    ['spaces kept', 'correct horse battery staple', 'correct horse battery staple'],
    ['case kept', 'Correct Horse', 'Correct Horse'],
    ['non-ASCII letters', '\u03c0\u00df\u00e5', '\u03c0\u00df\u00e5'],
    ['symbols', 'Jack of \u2666s', 'Jack of \u2666s'],
    ['OGHAM SPACE MARK', 'foo\u1680bar', 'foo bar'],
    ['NO-BREAK SPACE', 'foo\u00a0bar', 'foo bar'],
    ['fullwidth kept', '\uff21', '\uff21'],
    ['NFD to NFC', 'U\u0308', '\u00dc'],
    ['right-to-left without bidi rule', 'name \u05d7\u05d9\u05d1\u05d4', 'name \u05d7\u05d9\u05d1\u05d4'],
  ];

  it.each(mapped)('maps %s', (_name, input, expected) => {
    expect(opaqueString(input)).toBe(expected);
  });

  const rejected: [string, string, string][] = [
    ['empty string', '', 'empty'],
    ['TAB', 'my cat is a \tby', 'U+0009'],
    ['C1 control', 'a\u009f', 'U+009F'],
    ['emoji with zero width joiners', '\u{1f468}\u200d\u{1f469}\u200d\u{1f467}', 'U+200D'],
    ['variation selector', '\u2764\ufe0f', 'U+FE0F'],
    ['unassigned', 'a\u0378', 'U+0378'],
  ];

  it.each(rejected)('rejects %s', (_name, input, reason) => {
    expect(errorOf(() => opaqueString(input))?.message).toContain(reason);
  });
});

describe('helpers', () => {
  it('formats a BMP code point with four digits', () => {
    expect(formatCodePoint(0x41)).toBe('U+0041');
  });

  it('formats a supplementary code point', () => {
    expect(formatCodePoint(0x1f40e)).toBe('U+1F40E');
  });

  it('splits surrogate pairs into one code point', () => {
    expect(codePoints('a\u{1f40e}')).toEqual([0x61, 0x1f40e]);
  });
});
