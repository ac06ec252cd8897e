import { Dexie } from 'dexie';
import type { ParleyDb } from './schema.js';
import { leadToken, matchesAll, tokenize } from './tokens.js';
import { DEFAULT_SEARCH_LIMIT, MAX_PAGE_SIZE, MAX_SEARCH_SCAN } from './limits.js';
import type { Message } from './types.js';

export interface LocalSearchOptions {
  conversation?: string;
  /** Only hits with a key below this one (the previous page's `nextBefore`). */
  beforeKey?: string;
  limit?: number;
}

export interface LocalSearchPage {
  /** Newest first. */
  messages: Message[];
  /** Pass as `beforeKey` for the next page; absent on the last page. */
  nextBefore?: string;
}

/**
 * Searches the local index: the keys of messages with a token that starts with the query's
 * longest token, newest first (message keys sort by time), then the rows, checked for the
 * other tokens. Reads at most MAX_SEARCH_SCAN index entries.
 */
export async function searchLocal(db: ParleyDb, text: string, options: LocalSearchOptions = {}): Promise<LocalSearchPage> {
  const queryTokens = tokenize(text);
  const lead = leadToken(queryTokens);
  if (lead === undefined) return { messages: [] };
  const limit = Math.max(1, Math.min(MAX_PAGE_SIZE, options.limit ?? DEFAULT_SEARCH_LIMIT));

  let keys = await candidateKeys(db, lead, options.beforeKey);
  if (options.conversation !== undefined) keys = await withinConversation(db, options.conversation, options.beforeKey, keys);
  const messages: Message[] = [];
  let index = 0;
  while (index < keys.length && messages.length < limit) {
    const chunk = keys.slice(index, index + limit * 2);
    index += chunk.length;
    for (const row of await db.messages.bulkGet(chunk)) {
      if (!row || row.retractedAt !== undefined) continue;
      if (options.conversation !== undefined && row.conversation !== options.conversation) continue;
      if (!matchesAll(row.tokens, queryTokens)) continue;
      messages.push(row);
      if (messages.length === limit) break;
    }
  }
  const last = messages[messages.length - 1];
  return messages.length === limit && last ? { messages, nextBefore: last.key } : { messages };
}

/** Narrows keys to one conversation by intersecting with its key index, so no other conversation's row is read. */
async function withinConversation(db: ParleyDb, conversation: string, beforeKey: string | undefined, keys: string[]): Promise<string[]> {
  const upper = beforeKey ?? Dexie.maxKey;
  const own = (await db.messages
    .where('[conversation+key]')
    .between([conversation, Dexie.minKey], [conversation, upper], true, false)
    .reverse()
    .limit(MAX_SEARCH_SCAN)
    .primaryKeys()) as string[];
  const inConversation = new Set(own);
  return keys.filter((key) => inConversation.has(key));
}

/** Keys of messages with a token starting with `lead`, below `beforeKey`, newest first. */
async function candidateKeys(db: ParleyDb, lead: string, beforeKey: string | undefined): Promise<string[]> {
  // Backwards: within one token, the newest messages come first.
  // NOTE: past MAX_SEARCH_SCAN entries older hits are not found locally; the server search covers them.
  const keys = (await db.messages.where('tokens').startsWith(lead).reverse().limit(MAX_SEARCH_SCAN).primaryKeys()) as string[];
  const unique = [...new Set(keys)].filter((key) => beforeKey === undefined || key < beforeKey);
  return unique.sort().reverse();
}
