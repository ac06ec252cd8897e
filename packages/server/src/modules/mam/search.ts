/** Full-text search over the archive (XEP-0431): what is indexed and how a search reads. */
import { type Element, NS, StanzaError } from '@parley/xmpp';
import { tokenize } from './tokenize.js';

/** The MAM form field that carries the search text. */
export const FULLTEXT_FIELD = `{${NS.FULLTEXT}}fulltext`;

/** Most tokens one search may hold; every token adds to the query's work. */
const MAX_QUERY_TOKENS = 32;

/** Returns the text of a message that search covers: its bodies, one per language. */
export function searchableText(message: Element): string {
  return message
    .getChildren('body', NS.CLIENT)
    .map((body) => body.text())
    .join('\n');
}

/** Returns the tokens to index for `message`. */
export function indexTokens(message: Element): string[] {
  return tokenize(searchableText(message), 'index');
}

/**
 * Returns the tokens a message must all contain to match `text`, or undefined when the
 * text is blank and so filters nothing. Text without any word yields [], which matches nothing.
 */
export function queryTokens(text: string): string[] | undefined {
  if (text.trim() === '') return undefined;
  const tokens = tokenize(text, 'query');
  if (tokens.length > MAX_QUERY_TOKENS) throw new StanzaError('bad-request', `The search text has more than ${MAX_QUERY_TOKENS} terms.`);
  return tokens;
}
