/**
 * PRECIS (RFC 8264): the IdentifierClass and FreeformClass string classes, and the
 * two profiles XMPP addresses need (RFC 8265): UsernameCaseMapped for localparts and
 * OpaqueString for resourceparts.
 *
 * Code point properties come from the runtime's Unicode data through regular
 * expression property escapes and String.prototype.normalize, so the classes follow
 * the Unicode version of the Node.js build. Two properties have no property escape:
 * Joining_Type (a table below) and Bidi_Class (derived from blocks and categories,
 * see bidiClass).
 */

/** The derived property values of RFC 8264 section 8. */
export type DerivedProperty = 'PVALID' | 'CONTEXTJ' | 'CONTEXTO' | 'DISALLOWED' | 'UNASSIGNED';

/** A string that does not conform to a PRECIS string class or profile. */
export class PrecisError extends Error {
  readonly codePoint: number | undefined;

  constructor(reason: string, codePoint?: number) {
    super(reason);
    this.name = 'PrecisError';
    this.codePoint = codePoint;
  }
}

/** Formats a code point as the Unicode Standard writes it: U+0041, U+1F40E. */
export function formatCodePoint(cp: number): string {
  return 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
}

/** Splits a string into code points (a lone surrogate stays one code point). */
export function codePoints(s: string): number[] {
  const result: number[] = [];
  for (const ch of s) result.push(ch.codePointAt(0) ?? 0);
  return result;
}

// Internal codes of the derived property. FREE_PVAL is RFC 8264's "ID_DIS or
// FREE_PVAL": disallowed in the IdentifierClass and valid in the FreeformClass.
const PVALID = 1;
const CONTEXTJ = 2;
const CONTEXTO = 3;
const DISALLOWED = 4;
const UNASSIGNED = 5;
const FREE_PVAL = 6;

const PROPERTY_NAMES: Record<number, DerivedProperty> = {
  [PVALID]: 'PVALID',
  [CONTEXTJ]: 'CONTEXTJ',
  [CONTEXTO]: 'CONTEXTO',
  [DISALLOWED]: 'DISALLOWED',
  [UNASSIGNED]: 'UNASSIGNED',
};

/** The Exceptions category (F) of RFC 5892 section 2.6. */
const EXCEPTIONS = new Map<number, number>([
  [0x00df, PVALID],
  [0x03c2, PVALID],
  [0x06fd, PVALID],
  [0x06fe, PVALID],
  [0x0f0b, PVALID],
  [0x3007, PVALID],
  [0x00b7, CONTEXTO],
  [0x0375, CONTEXTO],
  [0x05f3, CONTEXTO],
  [0x05f4, CONTEXTO],
  [0x30fb, CONTEXTO],
  [0x0640, DISALLOWED],
  [0x07fa, DISALLOWED],
  [0x302e, DISALLOWED],
  [0x302f, DISALLOWED],
  [0x3031, DISALLOWED],
  [0x3032, DISALLOWED],
  [0x3033, DISALLOWED],
  [0x3034, DISALLOWED],
  [0x3035, DISALLOWED],
  [0x303b, DISALLOWED],
]);
for (let cp = 0x0660; cp <= 0x0669; cp++) EXCEPTIONS.set(cp, CONTEXTO);
for (let cp = 0x06f0; cp <= 0x06f9; cp++) EXCEPTIONS.set(cp, CONTEXTO);

const RE_CN = /\p{Cn}/u;
const RE_NONCHARACTER = /\p{Noncharacter_Code_Point}/u;
const RE_JOIN_CONTROL = /\p{Join_Control}/u;
const RE_PRECIS_IGNORABLE = /[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]/u;
const RE_CONTROL = /\p{Cc}/u;
const RE_LETTER_DIGITS = /[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]/u;
const RE_FREEFORM_ONLY = /[\p{Lt}\p{Nl}\p{No}\p{Me}\p{Zs}\p{S}\p{P}]/u;

/** Tells whether a code point is in the OldHangulJamo category (I): Hangul_Syllable_Type L, V or T. */
function isOldHangulJamo(cp: number): boolean {
  return (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97c) || (cp >= 0xd7b0 && cp <= 0xd7fb);
}

/** Follows the algorithm of RFC 8264 section 8, in its order. */
function computeProperty(cp: number): number {
  const exception = EXCEPTIONS.get(cp);
  if (exception !== undefined) return exception;
  // The BackwardCompatible category (G) is empty (RFC 8264 section 9.7).
  const ch = String.fromCodePoint(cp);
  if (RE_CN.test(ch) && !RE_NONCHARACTER.test(ch)) return UNASSIGNED;
  if (cp >= 0x21 && cp <= 0x7e) return PVALID;
  if (RE_JOIN_CONTROL.test(ch)) return CONTEXTJ;
  if (isOldHangulJamo(cp)) return DISALLOWED;
  if (RE_PRECIS_IGNORABLE.test(ch)) return DISALLOWED;
  if (RE_CONTROL.test(ch)) return DISALLOWED;
  if (ch.normalize('NFKC') !== ch) return FREE_PVAL;
  if (RE_LETTER_DIGITS.test(ch)) return PVALID;
  if (RE_FREEFORM_ONLY.test(ch)) return FREE_PVAL;
  return DISALLOWED;
}

// One byte per code point, filled on first use: 1.1 MB at most, whatever the input.
const propertyCache = new Uint8Array(0x110000);

function baseProperty(cp: number): number {
  let value = propertyCache[cp] ?? 0;
  if (value === 0) {
    value = computeProperty(cp);
    propertyCache[cp] = value;
  }
  return value;
}

/** A PRECIS string class (RFC 8264 section 4). */
export class StringClass {
  static readonly IDENTIFIER = new StringClass('IdentifierClass', false);
  static readonly FREEFORM = new StringClass('FreeformClass', true);

  readonly name: string;
  private readonly freeform: boolean;

  private constructor(name: string, freeform: boolean) {
    this.name = name;
    this.freeform = freeform;
  }

  /** Returns the derived property of a code point in this class (RFC 8264 section 8). */
  derivedProperty(cp: number): DerivedProperty {
    const value = baseProperty(cp);
    if (value === FREE_PVAL) return this.freeform ? 'PVALID' : 'DISALLOWED';
    return PROPERTY_NAMES[value] ?? 'DISALLOWED';
  }

  /** Throws PrecisError unless every code point is PVALID or passes its contextual rule. */
  enforce(s: string): void {
    const cps = codePoints(s);
    for (let i = 0; i < cps.length; i++) {
      const cp = cps[i] ?? 0;
      const property = this.derivedProperty(cp);
      if (property === 'PVALID') continue;
      if (property === 'CONTEXTJ' || property === 'CONTEXTO') {
        if (contextRuleHolds(cps, i)) continue;
        const reason = `${formatCodePoint(cp)} is ${property} and fails its context rule (RFC 5892 appendix A)`;
        throw new PrecisError(reason, cp);
      }
      throw new PrecisError(`${formatCodePoint(cp)} is ${property} in the ${this.name}`, cp);
    }
  }
}

const RE_GREEK = /\p{Script=Greek}/u;
const RE_HEBREW = /\p{Script=Hebrew}/u;
const RE_HIRAGANA_KATAKANA_HAN = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;

function hasScript(cp: number | undefined, re: RegExp): boolean {
  return cp !== undefined && re.test(String.fromCodePoint(cp));
}

/** Applies the contextual rule of RFC 5892 appendix A to the code point at `i`. */
function contextRuleHolds(cps: number[], i: number): boolean {
  const cp = cps[i] ?? 0;
  const before = cps[i - 1];
  const after = cps[i + 1];
  if (cp === 0x200c) return (before !== undefined && isVirama(before)) || zwnjBetweenJoiningLetters(cps, i);
  if (cp === 0x200d) return before !== undefined && isVirama(before);
  if (cp === 0x00b7) return before === 0x6c && after === 0x6c;
  if (cp === 0x0375) return hasScript(after, RE_GREEK);
  if (cp === 0x05f3 || cp === 0x05f4) return hasScript(before, RE_HEBREW);
  if (cp === 0x30fb) return cps.some((other) => hasScript(other, RE_HIRAGANA_KATAKANA_HAN));
  if (cp >= 0x0660 && cp <= 0x0669) return !cps.some((other) => other >= 0x06f0 && other <= 0x06f9);
  if (cp >= 0x06f0 && cp <= 0x06f9) return !cps.some((other) => other >= 0x0660 && other <= 0x0669);
  // A CONTEXTJ or CONTEXTO code point without a rule makes the string invalid (RFC 8264 section 8).
  return false;
}

// Reference marks for reading a combining class through canonical reordering:
// U+3099 has Canonical_Combining_Class 8 and U+05B0 has 10.
const CCC_8 = '\u3099';
const CCC_10 = '\u05b0';

/**
 * Tells whether a code point has Canonical_Combining_Class Virama (9). JavaScript
 * has no property escape for it, so this uses the normalizer instead. NFD moves a
 * mark before a neighbour with a higher class, and a mark moves before the class 10
 * mark and after the class 8 mark only when its own class is 9.
 */
function isVirama(cp: number): boolean {
  const mark = String.fromCodePoint(cp);
  if (mark.normalize('NFD') !== mark) return false;
  const above8 = (mark + CCC_8).normalize('NFD') !== mark + CCC_8;
  const below10 = (CCC_10 + mark).normalize('NFD') !== CCC_10 + mark;
  return above8 && below10;
}

/**
 * Joining_Type D, R, L and C ranges from ArabicShaping.txt of Unicode 14.0.
 * TODO: joining letters added after Unicode 14.0 count as non-joining here.
 */
const JOINING_RANGES = {
  D:
    '620 626 628 62A-62E 633-63F 641-647 649-64A 66E-66F 678-687 69A-6BF 6C1-6C2 6CC 6CE 6D0-6D1 6FA-6FC ' +
    '6FF 712-714 71A-71D 71F-727 729 72B 72D-72E 74E-758 75C-76A 76D-770 772 775-777 77A-77F 7CA-7EA ' +
    '841-845 848 84A-853 855 860 862-865 868 886 889-88D 8A0-8A9 8AF-8B0 8B3-8B8 8BA-8C8 1807 1820-1878 ' +
    '1887-18A8 18AA A840-A871 10AC0-10AC4 10AD3-10AD6 10AD8-10ADC 10ADE-10AE0 10AEB-10AEE 10B80 10B82 ' +
    '10B86-10B88 10B8A-10B8B 10B8D 10B90 10BAD-10BAE 10D01-10D21 10D23 10F30-10F32 10F34-10F44 ' +
    '10F51-10F53 10F70-10F73 10F76-10F81 10FB0 10FB2-10FB3 10FB8 10FBB-10FBC 10FBE-10FBF 10FC1 10FC4 ' +
    '10FCA 1E900-1E943',
  R:
    '622-625 627 629 62F-632 648 671-673 675-677 688-699 6C0 6C3-6CB 6CD 6CF 6D2-6D3 6D5 6EE-6EF 710 ' +
    '715-719 71E 728 72A 72C 72F 74D 759-75B 76B-76C 771 773-774 778-779 840 846-847 849 854 856-858 ' +
    '867 869-86A 870-882 88E 8AA-8AC 8AE 8B1-8B2 8B9 10AC5 10AC7 10AC9-10ACA 10ACE-10AD2 10ADD 10AE1 ' +
    '10AE4 10AEF 10B81 10B83-10B85 10B89 10B8C 10B8E-10B8F 10B91 10BA9-10BAC 10D22 10F33 10F54 ' +
    '10F74-10F75 10FB4-10FB6 10FB9-10FBA 10FBD 10FC2-10FC3 10FC9',
  L: 'A872 10ACD 10AD7 10D00 10FCB',
  C: '640 7FA 883-885 180A 200D',
};

type JoiningType = 'D' | 'R' | 'L' | 'C' | 'T' | 'U';

const joiningTable = buildJoiningTable();

function buildJoiningTable(): [number, number, JoiningType][] {
  const table: [number, number, JoiningType][] = [];
  for (const [type, list] of Object.entries(JOINING_RANGES)) {
    for (const range of list.split(' ')) {
      const [start, end] = range.split('-').map((hex) => parseInt(hex, 16));
      if (start !== undefined) table.push([start, end ?? start, type as JoiningType]);
    }
  }
  return table.sort((a, b) => a[0] - b[0]);
}

// Mn, Me and Cf are Joining_Type T unless ArabicShaping.txt lists them otherwise.
const RE_TRANSPARENT = /[\p{Mn}\p{Me}\p{Cf}]/u;
const NON_TRANSPARENT_FORMAT = /[\u0600-\u0605\u06dd\u0890\u0891\u08e2\u180e\u200c\u2066-\u2069\u{110bd}\u{110cd}]/u;

function joiningType(cp: number): JoiningType {
  let low = 0;
  let high = joiningTable.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const [start, end, type] = joiningTable[mid] ?? [0, 0, 'U'];
    if (cp < start) high = mid - 1;
    else if (cp > end) low = mid + 1;
    else return type;
  }
  if (cp === 0x1e94b) return 'T';
  const ch = String.fromCodePoint(cp);
  return RE_TRANSPARENT.test(ch) && !NON_TRANSPARENT_FORMAT.test(ch) ? 'T' : 'U';
}

/** Checks the second ZERO WIDTH NON-JOINER rule of RFC 5892 appendix A.1: (L|D) T* ZWNJ T* (R|D). */
function zwnjBetweenJoiningLetters(cps: number[], i: number): boolean {
  let j = i - 1;
  while (j >= 0 && joiningType(cps[j] ?? 0) === 'T') j--;
  const left = j >= 0 ? joiningType(cps[j] ?? 0) : 'U';
  if (left !== 'L' && left !== 'D') return false;

  let k = i + 1;
  while (k < cps.length && joiningType(cps[k] ?? 0) === 'T') k++;
  const right = k < cps.length ? joiningType(cps[k] ?? 0) : 'U';
  return right === 'R' || right === 'D';
}

type BidiClass = 'L' | 'R' | 'AL' | 'EN' | 'ES' | 'CS' | 'ET' | 'AN' | 'ON' | 'BN' | 'NSM' | 'OTHER';

// Blocks whose letters have Bidi_Class R or AL: the default ranges that
// DerivedBidiClass.txt gives for unassigned code points.
const RE_AL_BLOCK =
  /[\u0600-\u07bf\u0860-\u08ff\ufb50-\ufdcf\ufdf0-\ufdff\ufe70-\ufeff\u{10d00}-\u{10d3f}\u{10ec0}-\u{10eff}\u{10f30}-\u{10f6f}\u{1ec70}-\u{1ecbf}\u{1ed00}-\u{1ed4f}\u{1ee00}-\u{1eeff}]/u;
const RE_R_BLOCK =
  /[\u0590-\u05ff\u07c0-\u085f\ufb1d-\ufb4f\u{10800}-\u{10cff}\u{10d40}-\u{10ebf}\u{10f00}-\u{10f2f}\u{10f70}-\u{10fff}\u{1e800}-\u{1ec6f}\u{1ecc0}-\u{1ecff}\u{1ed50}-\u{1edff}\u{1ef00}-\u{1efff}]/u;
const RE_ARABIC_NUMBER = /[\u0600-\u0605\u0660-\u0669\u066b\u066c\u06dd\u0890\u0891\u08e2\u{10d30}-\u{10d39}\u{10e60}-\u{10e7e}]/u;
const RE_NSM = /[\p{Mn}\p{Me}]/u;
const RE_LETTER_OR_DIGIT = /[\p{L}\p{Mc}\p{Nd}]/u;
// Marks and exceptions whose Bidi_Class is L, and modifier letters whose class is ON.
const STRONG_LEFT = new Set([0x0cbf, 0x0cc6, 0x0f0b, 0x3007, 0x11a07, 0x11a08, 0x11c3f]);
const RE_NEUTRAL_MODIFIER = /[\u02b9\u02ba\u02c2-\u02cf\u02d2-\u02df\u02e5-\u02ed\u02ef-\u02ff\u2e2f\ua67f\ua717-\ua71f\ua788]/u;
const ASCII_BIDI: Record<string, BidiClass> = {
  '+': 'ES',
  '-': 'ES',
  '#': 'ET',
  $: 'ET',
  '%': 'ET',
  ',': 'CS',
  '.': 'CS',
  '/': 'CS',
  ':': 'CS',
};

/**
 * Approximates Bidi_Class, which has no property escape. It matched the Unicode 14.0
 * data for every code point the IdentifierClass allows when it was written. For
 * other code points it can differ, but that only changes the reason a string is
 * rejected, because the IdentifierClass check rejects those code points anyway.
 */
function bidiClass(cp: number): BidiClass {
  const ch = String.fromCodePoint(cp);
  if (cp < 0x80) return asciiBidiClass(ch, cp);
  if (RE_ARABIC_NUMBER.test(ch)) return 'AN';
  if (cp >= 0x06f0 && cp <= 0x06f9) return 'EN';
  if (STRONG_LEFT.has(cp)) return 'L';
  if (RE_NSM.test(ch)) return 'NSM';
  if (RE_PRECIS_IGNORABLE.test(ch)) return 'BN';
  if (RE_AL_BLOCK.test(ch)) return 'AL';
  if (RE_R_BLOCK.test(ch)) return 'R';
  if (RE_NEUTRAL_MODIFIER.test(ch)) return 'ON';
  if (RE_LETTER_OR_DIGIT.test(ch)) return 'L';
  return 'ON';
}

function asciiBidiClass(ch: string, cp: number): BidiClass {
  if ((cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)) return 'L';
  if (cp >= 0x30 && cp <= 0x39) return 'EN';
  if (cp > 0x20 && cp < 0x7f) return ASCII_BIDI[ch] ?? 'ON';
  return 'OTHER';
}

const RTL_ALLOWED = new Set<BidiClass>(['R', 'AL', 'AN', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM']);
const LTR_ALLOWED = new Set<BidiClass>(['L', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM']);

/**
 * Applies the Bidi Rule of RFC 5893 section 2 to a string that contains a
 * right-to-left code point (R, AL or AN). Other strings pass unchecked, as RFC 8265
 * section 3.3.1 requires.
 */
export function checkBidiRule(s: string): void {
  const cps = codePoints(s);
  const classes = cps.map(bidiClass);
  if (!classes.some((c) => c === 'R' || c === 'AL' || c === 'AN')) return;

  const fail = (rule: number, index: number): never => {
    const cp = cps[index] ?? 0;
    throw new PrecisError(`${formatCodePoint(cp)} breaks condition ${rule} of the Bidi Rule (RFC 5893)`, cp);
  };
  const first = classes[0];
  if (first !== 'L' && first !== 'R' && first !== 'AL') fail(1, 0);
  const rtl = first !== 'L';

  const allowed = rtl ? RTL_ALLOWED : LTR_ALLOWED;
  const outside = classes.findIndex((c) => !allowed.has(c));
  if (outside !== -1) fail(rtl ? 2 : 5, outside);

  let end = classes.length - 1;
  while (end > 0 && classes[end] === 'NSM') end--;
  const last = classes[end] ?? 'OTHER';
  const endsWell = rtl ? ['R', 'AL', 'EN', 'AN'].includes(last) : last === 'L' || last === 'EN';
  if (!endsWell) fail(rtl ? 3 : 6, end);

  if (rtl && classes.includes('EN') && classes.includes('AN')) fail(4, classes.indexOf('AN'));
}

/**
 * RFC 8264 section 7: mappings are not always idempotent, so they are applied until
 * the output is stable, at most four times, and an unstable string is rejected.
 */
function stabilize(input: string, map: (s: string) => string): string {
  let current = input;
  for (let pass = 0; pass < 4; pass++) {
    const next = map(current);
    if (next === current) return current;
    current = next;
  }
  throw new PrecisError('the string does not become stable under the profile mappings (RFC 8264 section 7)');
}

const RE_WIDE_OR_NARROW = /[\u3000\uff00-\uffef]/g;

/**
 * Maps fullwidth and halfwidth code points (Decomposition_Type Wide or Narrow: U+3000
 * and the U+FF00..U+FFEF block) to their decompositions.
 * NOTE: this uses NFKD in place of the one-step decomposition mapping. For U+FFE3
 * and the halfwidth Hangul letters NFKD goes one step further (to U+0020 U+0304 and
 * to conjoining jamo). The IdentifierClass disallows both results, so the outcome
 * is the same.
 */
function mapWidth(s: string): string {
  return s.replace(RE_WIDE_OR_NARROW, (ch) => ch.normalize('NFKD'));
}

const RE_PRINTABLE_ASCII_WORD = /^[\x21-\x7e]+$/;
const RE_PRINTABLE_ASCII = /^[\x20-\x7e]+$/;
const RE_NON_ASCII_SPACE = /(?! )\p{Zs}/gu;

/**
 * Enforces the UsernameCaseMapped profile (RFC 8265 section 3.3): width mapping,
 * toLowerCase, NFC, the Bidi Rule, then the IdentifierClass check. Returns the
 * prepared string or throws PrecisError.
 * NOTE: RFC 8265 case-maps with Unicode toLowerCase(), not case folding, and
 * String.prototype.toLowerCase is that operation (locale-independent, with the
 * Final_Sigma context), so no approximation is involved.
 */
export function usernameCaseMapped(input: string): string {
  // Printable ASCII is PVALID, NFC leaves it alone and it has no RTL code point.
  if (RE_PRINTABLE_ASCII_WORD.test(input)) return input.toLowerCase();

  const output = stabilize(input, (s) => mapWidth(s).toLowerCase().normalize('NFC'));
  checkBidiRule(output);
  StringClass.IDENTIFIER.enforce(output);
  if (output.length === 0) throw new PrecisError('the string is empty');
  return output;
}

/**
 * Enforces the OpaqueString profile (RFC 8265 section 4.2): non-ASCII spaces become
 * U+0020, NFC, then the FreeformClass check; no case mapping and no directionality
 * rule. Returns the prepared string or throws PrecisError.
 */
export function opaqueString(input: string): string {
  if (RE_PRINTABLE_ASCII.test(input)) return input;

  const output = stabilize(input, (s) => s.replace(RE_NON_ASCII_SPACE, ' ').normalize('NFC'));
  StringClass.FREEFORM.enforce(output);
  if (output.length === 0) throw new PrecisError('the string is empty');
  return output;
}
