/**
 * Search tokens for the archive's full-text search (XEP-0431), the same for indexing and
 * querying so that both sides agree. Text is normalised (NFKC, lower case). Alphabetic
 * scripts split into words. CJK scripts (Han, Hiragana, Katakana, Hangul) are not written
 * with spaces between words, so their runs become overlapping character bigrams, which
 * lets a query for a two-character word such as 会议 find it inside a longer run.
 */

/** Purpose of the tokens: 'index' adds single CJK characters too, so a one-character query matches. */
export type TokenMode = 'index' | 'query';

/** Maximum length of a word token, in code points. Longer words are cut. */
const MAX_WORD_LENGTH = 64;

const CJK_SCRIPT = /[\p{Script_Extensions=Han}\p{Script_Extensions=Hiragana}\p{Script_Extensions=Katakana}\p{Script_Extensions=Hangul}]/u;
// Letters, numbers and marks only: the CJK scripts' extensions also cover punctuation such as 。 and 、.
const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;

type CharClass = 'cjk' | 'word' | 'other';

function classify(char: string): CharClass {
  if (!WORD_CHAR.test(char)) return 'other';
  return CJK_SCRIPT.test(char) ? 'cjk' : 'word';
}

/** Splits normalised text into runs of one class, leaving out separators. */
function runs(text: string): { kind: 'cjk' | 'word'; chars: string[] }[] {
  const result: { kind: 'cjk' | 'word'; chars: string[] }[] = [];
  let current: { kind: 'cjk' | 'word'; chars: string[] } | undefined;
  for (const char of text) {
    const kind = classify(char);
    if (kind === 'other') {
      current = undefined;
      continue;
    }
    if (current?.kind !== kind) {
      current = { kind, chars: [] };
      result.push(current);
    }
    current.chars.push(char);
  }
  return result;
}

function cjkTokens(chars: string[], mode: TokenMode): string[] {
  if (chars.length === 1) return [chars[0]!];
  const tokens: string[] = [];
  for (let i = 0; i + 1 < chars.length; i++) tokens.push(chars[i]! + chars[i + 1]!);
  if (mode === 'index') tokens.push(...chars);
  return tokens;
}

/** Returns the distinct search tokens of `text`. */
export function tokenize(text: string, mode: TokenMode): string[] {
  const normalised = text.normalize('NFKC').toLowerCase();
  const tokens = new Set<string>();
  for (const run of runs(normalised)) {
    if (run.kind === 'word') tokens.add(run.chars.slice(0, MAX_WORD_LENGTH).join(''));
    else for (const token of cjkTokens(run.chars, mode)) tokens.add(token);
  }
  return [...tokens];
}
