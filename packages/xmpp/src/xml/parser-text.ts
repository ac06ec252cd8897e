import { Buffer } from 'node:buffer';

import { XmlParseError, notWellFormed } from './parser-error.js';

/**
 * Matches a UTF-16 unit outside the XML 1.0 Char production (section 2.2): controls other
 * than tab, LF and CR, U+FFFE and U+FFFF. Text from the UTF-8 decoder has no unpaired
 * surrogates, so this check without the slower 'u' flag is complete for it.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the purpose of this pattern.
const FORBIDDEN_CHAR = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const NAME_START_CHARS =
  'A-Z_a-z\\xC0-\\xD6\\xD8-\\xF6\\xF8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D' +
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHARS = NAME_START_CHARS + '\\-.0-9\\xB7\\u0300-\\u036F\\u203F-\\u2040';
const NC_NAME = `[${NAME_START_CHARS}][${NAME_CHARS}]*`;

// The classes list code point ranges of the XML productions, combining marks and ZWJ included on purpose.
/* eslint-disable no-misleading-character-class */
/** A QName of Namespaces in XML 1.0: an NCName, optionally prefixed by an NCName and a colon. */
const QNAME = new RegExp(`^${NC_NAME}(?::${NC_NAME})?$`, 'u');
const NCNAME = new RegExp(`^${NC_NAME}$`, 'u');
/* eslint-enable no-misleading-character-class */

const CHAR_REFERENCE = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/;
const LINE_BREAK = /\r\n?/g;
const ATTRIBUTE_WHITESPACE = /\r\n|[\t\n\r]/g;

/** Classes of ASCII characters in names: NAME_START may begin a name, NAME_PART may only follow. */
const NAME_START = 2;
const NAME_PART = 1;
const COLON = 3;
/** Class of each ASCII character in names, or 0 for characters that end a name. */
export const NAME_CLASS = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  const ch = String.fromCharCode(code);
  if (/[A-Za-z_]/.test(ch)) NAME_CLASS[code] = NAME_START;
  else if (/[0-9.-]/.test(ch)) NAME_CLASS[code] = NAME_PART;
}
NAME_CLASS[0x3a] = COLON;

/** Flags of an attribute value, telling decodeAttributeValue() what it has to handle. */
export const VALUE_HAS_LT = 1;
export const VALUE_HAS_AMP = 2;
export const VALUE_HAS_WHITESPACE = 4;

/** Returns the index of the first character of decoded text that XML 1.0 does not allow, or -1. */
export function findForbiddenChar(text: string): number {
  const match = FORBIDDEN_CHAR.exec(text);
  return match === null ? -1 : match.index;
}

/** Returns true when `text` has a surrogate outside a pair, which a JavaScript string can hold but UTF-8 cannot. */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** Creates the error for the forbidden character at text[index]. */
export function forbiddenCharError(text: string, index: number): XmlParseError {
  const code = text.codePointAt(index) ?? 0;
  return notWellFormed(`Character U+${code.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`);
}

/**
 * Throws 'not-well-formed' unless s[start..end) is a valid qualified name. The caller has
 * scanned the name with NAME_CLASS, so every ASCII character in it is a name character.
 */
export function checkName(s: string, start: number, end: number): void {
  const first = s.charCodeAt(start);
  if (end === start || (first < 0x80 && NAME_CLASS[first] !== NAME_START)) throw invalidName(s, start, end);
  let colon = -1;
  for (let i = start; i < end; i++) {
    const code = s.charCodeAt(i);
    if (code >= 0x80) {
      if (!QNAME.test(s.slice(start, end))) throw invalidName(s, start, end);
      return;
    }
    if (code === 0x3a) {
      if (colon !== -1) throw invalidName(s, start, end);
      colon = i;
    }
  }
  if (colon !== -1 && (colon === end - 1 || NAME_CLASS[s.charCodeAt(colon + 1)] !== NAME_START)) {
    throw invalidName(s, start, end);
  }
}

/**
 * Returns the UTF-8 byte length of s[start..end), which must not split a surrogate pair.
 * Long ranges go to Buffer.byteLength (native code), short ones are counted here.
 */
export function utf8Length(s: string, start: number, end: number): number {
  if (end - start > 64) return Buffer.byteLength(s.slice(start, end), 'utf8');
  let bytes = end - start;
  for (let i = start; i < end; i++) {
    const code = s.charCodeAt(i);
    if (code < 0x80) continue;
    // Each half of a surrogate pair adds 1, so a pair (2 units) counts as 4 bytes.
    bytes += code < 0x800 || (code >= 0xd800 && code <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}

/** Returns true when s[start..end) holds only XML whitespace (space, tab, CR, LF). */
export function isWhitespace(s: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const code = s.charCodeAt(i);
    if (code !== 0x20 && code !== 0x0a && code !== 0x0d && code !== 0x09) return false;
  }
  return true;
}

/** Decodes character data: line breaks become LF (XML 1.0 section 2.11), then references are expanded. */
export function decodeText(raw: string): string {
  const text = raw.indexOf('\r') === -1 ? raw : raw.replace(LINE_BREAK, '\n');
  return text.indexOf('&') === -1 ? text : decodeReferences(text);
}

/**
 * Decodes an attribute value whose special characters the caller found (`flags`): literal
 * whitespace becomes a space (XML 1.0 section 3.3.3), then references are expanded.
 */
export function decodeAttributeValue(raw: string, flags: number): string {
  if ((flags & VALUE_HAS_LT) !== 0) throw notWellFormed(`Attribute value '${raw}' contains '<'`);
  const value = (flags & VALUE_HAS_WHITESPACE) === 0 ? raw : raw.replace(ATTRIBUTE_WHITESPACE, ' ');
  return (flags & VALUE_HAS_AMP) === 0 ? value : decodeReferences(value);
}

/** Returns true when `name` is an NCName (a name without a colon). */
export function isNCName(name: string): boolean {
  return NCNAME.test(name);
}

/** Expands the predefined entities and character references, and rejects any other entity as 'restricted-xml'. */
function decodeReferences(text: string): string {
  let result = '';
  let copied = 0;
  let amp = text.indexOf('&');
  while (amp !== -1) {
    const semicolon = text.indexOf(';', amp + 1);
    if (semicolon === -1) throw notWellFormed(`Unterminated reference in '${text}'`);
    result += text.slice(copied, amp) + decodeReference(text.slice(amp + 1, semicolon));
    copied = semicolon + 1;
    amp = text.indexOf('&', copied);
  }
  return result + text.slice(copied);
}

function decodeReference(name: string): string {
  switch (name) {
    case 'amp':
      return '&';
    case 'lt':
      return '<';
    case 'gt':
      return '>';
    case 'quot':
      return '"';
    case 'apos':
      return "'";
  }
  if (name.charCodeAt(0) === 0x23) return decodeCharReference(name);

  // RFC 6120 section 11.1 prohibits entity references other than the five predefined ones.
  if (isNCName(name)) throw new XmlParseError('restricted-xml', `Entity reference '&${name};' is not allowed in XMPP`);
  throw notWellFormed(`Invalid reference '&${name};'`);
}

function invalidName(s: string, start: number, end: number): XmlParseError {
  return notWellFormed(`Invalid XML name '${s.slice(start, end)}'`);
}

function decodeCharReference(name: string): string {
  const match = CHAR_REFERENCE.exec(name);
  if (match === null) throw notWellFormed(`Invalid character reference '&${name};'`);
  const code = match[1] !== undefined ? parseInt(match[1], 16) : parseInt(match[2] ?? '', 10);
  if (!isXmlChar(code)) throw notWellFormed(`Character reference '&${name};' names a character that XML does not allow`);
  return String.fromCodePoint(code);
}

function isXmlChar(code: number): boolean {
  if (code < 0x20) return code === 0x09 || code === 0x0a || code === 0x0d;
  if (code <= 0xd7ff) return true;
  if (code < 0xe000) return false;
  if (code <= 0xfffd) return true;
  return code >= 0x10000 && code <= 0x10ffff;
}
