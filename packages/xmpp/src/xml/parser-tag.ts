import { XmlParseError, notWellFormed } from './parser-error.js';
import { NAME_CLASS, VALUE_HAS_AMP, VALUE_HAS_LT, VALUE_HAS_WHITESPACE, checkName, decodeAttributeValue } from './parser-text.js';

/** A start tag as written: qualified names and decoded attribute values, before namespace processing. */
export interface StartTag {
  name: string;
  attrNames: string[];
  attrValues: string[];
  selfClosing: boolean;
  /** Index after the closing '>'. */
  end: number;
}

const DOUBLE_QUOTE = 8;
const SINGLE_QUOTE = 16;
/** VALUE_HAS_* flag of each ASCII character that needs attention in attribute values, or its quote bit. */
const VALUE_CLASS = new Uint8Array(128);
VALUE_CLASS[0x3c] = VALUE_HAS_LT;
VALUE_CLASS[0x26] = VALUE_HAS_AMP;
VALUE_CLASS[0x09] = VALUE_HAS_WHITESPACE;
VALUE_CLASS[0x0a] = VALUE_HAS_WHITESPACE;
VALUE_CLASS[0x0d] = VALUE_HAS_WHITESPACE;
VALUE_CLASS[0x22] = DOUBLE_QUOTE;
VALUE_CLASS[0x27] = SINGLE_QUOTE;

/** Flags that the last scanValue() call collected. */
let scannedValueFlags = 0;

/**
 * Reads the start tag whose '<' is at s[start] when all of it is in `s`: the fast path.
 * Returns null when `s` ends first, and StartTagReader then reads the tag as it arrives.
 * Throws XmlParseError when the tag is malformed or has more than `maxAttributes`.
 */
export function readStartTag(s: string, start: number, maxAttributes: number): StartTag | null {
  const len = s.length;
  let i = scanName(s, start + 1);
  if (i >= len) return null;
  checkName(s, start + 1, i);
  const name = s.slice(start + 1, i);

  const attrNames: string[] = [];
  const attrValues: string[] = [];
  while (true) {
    const afterPrevious = i;
    i = skipWhitespace(s, i);
    if (i >= len) return null;
    const code = s.charCodeAt(i);
    if (code === 0x3e) return { name, attrNames, attrValues, selfClosing: false, end: i + 1 };
    if (code === 0x2f) {
      if (i + 1 >= len) return null;
      checkSlash(s, i + 1, name);
      return { name, attrNames, attrValues, selfClosing: true, end: i + 2 };
    }
    if (i === afterPrevious) throw unexpectedChar(s, i, name);

    const nameEnd = scanName(s, i);
    if (nameEnd >= len) return null;
    checkName(s, i, nameEnd);
    const attrName = s.slice(i, nameEnd);
    i = skipWhitespace(s, nameEnd);
    if (i >= len) return null;
    checkEquals(s, i, attrName, name);
    i = skipWhitespace(s, i + 1);
    if (i >= len) return null;
    const quoteClass = openValue(s.charCodeAt(i), attrName, name, attrNames.length, maxAttributes);

    const valueEnd = scanValue(s, i + 1, quoteClass, 0);
    if (valueEnd >= len) return null;
    attrNames.push(attrName);
    attrValues.push(decodeAttributeValue(s.slice(i + 1, valueEnd), scannedValueFlags));
    i = valueEnd + 1;
  }
}

// Steps of StartTagReader, in the order of the grammar:
// '<' Name (S Name S? '=' S? quoted-value)* S? ('>' | '/>').
const TAG_NAME = 0;
const BETWEEN_ATTRIBUTES = 1;
const ATTRIBUTE_NAME = 2;
const BEFORE_EQUALS = 3;
const BEFORE_VALUE = 4;
const VALUE = 5;
const AFTER_SLASH = 6;

/**
 * Reads a start tag that arrives in pieces. When the input ends inside the tag, read()
 * returns null and keeps its place in the grammar, so the next call continues where this
 * one stopped. Each character is read once, and a malformed tag fails at the same
 * character as in readStartTag(), however the input is split.
 */
export class StartTagReader {
  private step = TAG_NAME;
  /** Index of the next character to read. */
  private pos = 0;
  /** Start of the name or value being read. */
  private partStart = 0;
  /** Index after the tag name or the last value: an attribute must not start there. */
  private afterPrevious = 0;
  private name = '';
  private attrName = '';
  private quoteClass = 0;
  private valueFlags = 0;
  private attrNames: string[] = [];
  private attrValues: string[] = [];

  /** Starts reading the tag whose '<' is at s[start]. */
  begin(start: number): void {
    this.step = TAG_NAME;
    this.pos = start + 1;
    this.partStart = start + 1;
    this.attrNames = [];
    this.attrValues = [];
  }

  /** Moves the positions after the input lost its first `offset` characters. */
  rebase(offset: number): void {
    this.pos -= offset;
    this.partStart -= offset;
    this.afterPrevious -= offset;
  }

  /**
   * Continues reading in `s`. Returns the tag, or null when `s` ends first. Throws
   * XmlParseError when the tag is malformed or has more than `maxAttributes`.
   */
  read(s: string, maxAttributes: number): StartTag | null {
    // Each step either ends at a new step or reads up to the end of `s`.
    while (this.pos < s.length) {
      const tag = this.advance(s, maxAttributes);
      if (tag !== null) return tag;
    }
    return null;
  }

  /** Takes one step of the grammar. Returns the tag when the step ends it, else null. */
  private advance(s: string, maxAttributes: number): StartTag | null {
    const len = s.length;
    let i = this.pos;
    switch (this.step) {
      case TAG_NAME:
      case ATTRIBUTE_NAME:
        i = scanName(s, i);
        if (i < len) this.endName(s, i);
        break;
      case BETWEEN_ATTRIBUTES:
        i = skipWhitespace(s, i);
        if (i < len) return this.betweenAttributes(s, i);
        break;
      case BEFORE_EQUALS:
        i = skipWhitespace(s, i);
        if (i < len) {
          checkEquals(s, i, this.attrName, this.name);
          i++;
          this.step = BEFORE_VALUE;
        }
        break;
      case BEFORE_VALUE:
        i = skipWhitespace(s, i);
        if (i < len) {
          this.quoteClass = openValue(s.charCodeAt(i), this.attrName, this.name, this.attrNames.length, maxAttributes);
          i++;
          this.partStart = i;
          this.valueFlags = 0;
          this.step = VALUE;
        }
        break;
      case VALUE:
        i = scanValue(s, i, this.quoteClass, this.valueFlags);
        this.valueFlags = scannedValueFlags;
        if (i < len) {
          this.attrNames.push(this.attrName);
          this.attrValues.push(decodeAttributeValue(s.slice(this.partStart, i), this.valueFlags));
          i++;
          this.afterPrevious = i;
          this.step = BETWEEN_ATTRIBUTES;
        }
        break;
      default:
        checkSlash(s, i, this.name);
        return this.finish(true, i + 1);
    }
    this.pos = i;
    return null;
  }

  private endName(s: string, end: number): void {
    checkName(s, this.partStart, end);
    const name = s.slice(this.partStart, end);
    if (this.step === TAG_NAME) {
      this.name = name;
      this.afterPrevious = end;
      this.step = BETWEEN_ATTRIBUTES;
    } else {
      this.attrName = name;
      this.step = BEFORE_EQUALS;
    }
  }

  private betweenAttributes(s: string, i: number): StartTag | null {
    const code = s.charCodeAt(i);
    if (code === 0x3e) return this.finish(false, i + 1);
    if (code === 0x2f) {
      this.step = AFTER_SLASH;
    } else {
      if (i === this.afterPrevious) throw unexpectedChar(s, i, this.name);
      this.partStart = i;
      this.step = ATTRIBUTE_NAME;
    }
    this.pos = code === 0x2f ? i + 1 : i;
    return null;
  }

  private finish(selfClosing: boolean, end: number): StartTag {
    return { name: this.name, attrNames: this.attrNames, attrValues: this.attrValues, selfClosing, end };
  }
}

/** Returns the index after the name characters at s[start..], which checkName() then validates. */
function scanName(s: string, start: number): number {
  const len = s.length;
  let i = start;
  while (i < len) {
    const code = s.charCodeAt(i);
    if (code < 0x80 && NAME_CLASS[code] === 0) break;
    i++;
  }
  return i;
}

function skipWhitespace(s: string, start: number): number {
  const len = s.length;
  let i = start;
  while (i < len) {
    const code = s.charCodeAt(i);
    if (code !== 0x20 && code !== 0x0a && code !== 0x09 && code !== 0x0d) break;
    i++;
  }
  return i;
}

/**
 * Returns the index of the quote of class `quoteClass` that ends the attribute value at
 * s[start..], or s.length. Stores `flags` plus the VALUE_HAS_* flags of the characters
 * before that index in scannedValueFlags.
 */
function scanValue(s: string, start: number, quoteClass: number, flags: number): number {
  const len = s.length;
  let collected = flags;
  let i = start;
  for (; i < len; i++) {
    const code = s.charCodeAt(i);
    if (code >= 0x80) continue;
    const valueClass = VALUE_CLASS[code] ?? 0;
    if (valueClass === quoteClass) break;
    collected |= valueClass;
  }
  scannedValueFlags = collected;
  return i;
}

/** Checks the quote that opens a value and the attribute count. Returns the quote's class. */
function openValue(quote: number, attrName: string, tagName: string, count: number, maxAttributes: number): number {
  if (quote !== 0x22 && quote !== 0x27) {
    throw notWellFormed(`Value of attribute '${attrName}' in tag '${tagName}' is not quoted`);
  }
  if (count >= maxAttributes) {
    throw new XmlParseError('policy-violation', `Tag '${tagName}' has more than ${maxAttributes} attributes`);
  }
  return quote === 0x22 ? DOUBLE_QUOTE : SINGLE_QUOTE;
}

function checkEquals(s: string, i: number, attrName: string, tagName: string): void {
  if (s.charCodeAt(i) !== 0x3d) throw notWellFormed(`Attribute '${attrName}' in tag '${tagName}' has no value`);
}

function checkSlash(s: string, afterSlash: number, tagName: string): void {
  if (s.charCodeAt(afterSlash) !== 0x3e) throw notWellFormed(`Expected '>' after '/' in tag '${tagName}'`);
}

function unexpectedChar(s: string, i: number, tagName: string): XmlParseError {
  return notWellFormed(`Unexpected character '${s.charAt(i)}' in tag '${tagName}'`);
}
