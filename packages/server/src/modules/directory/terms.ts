/**
 * Search terms of the organisation directory. A text is cut into units: each Han
 * character is one unit, each run of other letters and digits is another. The index
 * stores, from every unit on, the rest of the text as written, in full pinyin and in
 * pinyin initials, so that a prefix search finds 张三 by 张, 三, zhangsan, zhang san
 * (two prefixes), san and zs. Every reading pinyin-pro knows for a character is indexed,
 * within a bound on the combinations.
 */
import { polyphonic } from 'pinyin-pro';

/** Units of one text that get terms; later units still match as part of longer terms. */
const MAX_UNITS = 16;
/** Reading combinations of one text; beyond it, further characters keep their first reading. */
const MAX_COMBINATIONS = 32;
/** Longest term stored, in characters; a longer query is cut to this length, so it still matches. */
export const MAX_TERM_CHARS = 64;

const HAN = /\p{Script=Han}/u;
const UNIT_PATTERN = /\p{Script=Han}|[\p{L}\p{N}\p{M}]+/gu;

/** One unit: as written (lower case), and its readings (the text itself for non-Han units). */
interface Unit {
  text: string;
  readings: string[];
}

/** Folds case and compatibility forms, so that full-width letters match their ASCII forms. */
export function normalizeText(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** Returns the search terms of a name, title or department name. */
export function nameTerms(text: string): Set<string> {
  const terms = new Set<string>();
  const units = splitUnits(normalizeText(text)).slice(0, MAX_UNITS);
  if (units.length === 0) return terms;

  for (const combination of readingCombinations(units)) {
    for (let start = 0; start < units.length; start++) {
      addTerm(terms, units.slice(start).map((unit) => unit.text).join(''));
      const readings = combination.slice(start);
      addTerm(terms, readings.join(''));
      addTerm(terms, readings.map((reading) => reading[0]).join(''));
    }
  }
  return terms;
}

/** Returns the search terms of an address such as a username or email: the whole address and its name terms. */
export function addressTerms(address: string): Set<string> {
  const normalized = normalizeText(address);
  const terms = nameTerms(normalized);
  addTerm(terms, normalized);
  const local = normalized.split('@')[0];
  if (local !== undefined) addTerm(terms, local);
  return terms;
}

/** Cuts a query into prefixes at whitespace; every prefix must match. */
export function queryPrefixes(query: string): string[] {
  const prefixes = normalizeText(query)
    .split(/\s+/u)
    .filter((part) => part !== '')
    .map((part) => [...part].slice(0, MAX_TERM_CHARS).join(''));
  return [...new Set(prefixes)];
}

function splitUnits(text: string): Unit[] {
  const units: Unit[] = [];
  for (const match of text.matchAll(UNIT_PATTERN)) {
    const unit = match[0];
    units.push({ text: unit, readings: HAN.test(unit) ? hanReadings(unit) : [unit] });
  }
  return units;
}

/** Returns every reading of one Han character without tones; ü is indexed both as v (as IMEs type it) and as u. */
function hanReadings(char: string): string[] {
  const [readings] = polyphonic(char, { toneType: 'none', type: 'array', v: true }) as string[][];
  const result = new Set<string>();
  for (const reading of readings ?? []) {
    if (!/^[a-z]+$/.test(reading)) continue;
    result.add(reading);
    result.add(reading.replace(/v/g, 'u'));
  }
  return result.size > 0 ? [...result] : [char];
}

/** Returns combinations of one reading per unit, at most MAX_COMBINATIONS; the first reading of each unit comes first. */
function readingCombinations(units: Unit[]): string[][] {
  let combinations: string[][] = [[]];
  for (const unit of units) {
    const readings = combinations.length * unit.readings.length <= MAX_COMBINATIONS ? unit.readings : unit.readings.slice(0, 1);
    combinations = combinations.flatMap((combination) => readings.map((reading) => [...combination, reading]));
  }
  return combinations;
}

function addTerm(terms: Set<string>, term: string): void {
  if (term !== '') terms.add([...term].slice(0, MAX_TERM_CHARS).join(''));
}
