/**
 * Search tokens: lowercased words, and for runs of CJK characters (which have no spaces) the
 * bigrams of each run, so that 会议 finds 今天的会议改到三点. A lone CJK character is its own token.
 */

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const RUNS = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+|[\p{L}\p{N}_]+/gu;
/** Longer words add nothing a prefix search does not find, and would bloat the index. */
const MAX_TOKEN_LENGTH = 32;
/** Tokens of one message; the rest of a very long text is not searchable. */
const MAX_TOKENS = 400;

/** Returns the distinct tokens of `text`, in the order they first appear. */
export function tokenize(text: string): string[] {
  const tokens = new Set<string>();
  for (const match of text.normalize('NFKC').toLowerCase().matchAll(RUNS)) {
    const run = match[0];
    if (CJK.test(run)) addBigrams(run, tokens);
    else tokens.add(run.slice(0, MAX_TOKEN_LENGTH));
    if (tokens.size >= MAX_TOKENS) break;
  }
  return [...tokens].slice(0, MAX_TOKENS);
}

function addBigrams(run: string, tokens: Set<string>): void {
  const chars = [...run];
  if (chars.length === 1) tokens.add(chars[0]!);
  for (let i = 0; i + 1 < chars.length; i++) tokens.add(chars[i]! + chars[i + 1]!);
}

/** True when every query token is a prefix of some token of the message (words typed in part still match). */
export function matchesAll(messageTokens: readonly string[], queryTokens: readonly string[]): boolean {
  return queryTokens.every((query) => messageTokens.some((token) => token.startsWith(query)));
}

/** Returns the query token to look up in the index: the longest, which is likely the rarest. */
export function leadToken(queryTokens: readonly string[]): string | undefined {
  let lead: string | undefined;
  for (const token of queryTokens) if (lead === undefined || token.length > lead.length) lead = token;
  return lead;
}
