import type { XElement } from '../xmpp/index.js';
import { envelope } from './envelope.js';
import { bareOf } from './jid.js';
import { DEFAULT_SEARCH_LIMIT } from './limits.js';
import type { MamQueries } from './mam.js';
import { messageKey } from './message-store.js';
import { forwardedMessage, parseMessage } from './parse.js';
import type { ParleyDb } from './schema.js';
import { searchLocal } from './search.js';
import { tokenize } from './tokens.js';
import type { ConversationKind, Message } from './types.js';

export interface SearchOptions {
  /** Only this conversation; without it, every stored conversation, and the account's own archive on the server. */
  conversation?: string;
  kind?: ConversationKind;
  limit?: number;
  /** The previous page's `nextBefore` (local paging). */
  beforeKey?: string;
  /** Ask the server's archive too (XEP-0431); `serverBefore` pages it. */
  server?: boolean;
  serverBefore?: string;
}

export interface SearchResult {
  /** Local and server hits, one per message, newest first. */
  messages: Message[];
  nextBefore?: string;
  /** The oldest server hit's stanza id, for the next server page; absent when the server has no more. */
  serverBefore?: string;
}

/**
 * Searches IndexedDB and, when asked, the server's full-text archive search. Server hits are
 * not stored: they would sit alone in a conversation's history and hide the gap around them.
 */
export async function searchAll(db: ParleyDb, mam: MamQueries, text: string, options: SearchOptions = {}): Promise<SearchResult> {
  const conversation = options.conversation === undefined ? undefined : bareOf(options.conversation);
  const limit = options.limit ?? DEFAULT_SEARCH_LIMIT;
  const local = await searchLocal(db, text, { conversation, beforeKey: options.beforeKey, limit });
  const result: SearchResult = { messages: local.messages };
  if (local.nextBefore !== undefined) result.nextBefore = local.nextBefore;
  if (!options.server || tokenize(text).length === 0) return result;

  const kind = options.kind ?? (conversation ? ((await db.conversations.get(conversation))?.kind ?? 'chat') : 'chat');
  // TODO: a search across all conversations asks only the account's archive, not each room's.
  const scope = kind === 'groupchat' && conversation ? { archive: conversation } : conversation ? { with: conversation } : {};
  const page = await mam.query({ ...scope, fulltext: text, before: options.serverBefore ?? '', max: limit });
  const own = bareOf(mam.ownJid);
  const hits = page.results.map((hit) => serverHit(hit, own)).filter((hit) => hit !== undefined);
  const unstored = [];
  for (const hit of hits) if (!(await storedCopy(db, hit))) unstored.push(hit);
  result.messages = mergeHits(local.messages, unstored);
  if (!page.complete && page.first !== undefined) result.serverBefore = page.first;
  return result;
}

/**
 * Merges the hits of `added` that are not in `kept` into it, newest first. Two hits are the same
 * message when they share the conversation's stanza id, or, for own messages, the origin-id,
 * because a local copy of an own message often has no stanza id and its timestamp differs.
 */
export function mergeHits(kept: Message[], added: Message[]): Message[] {
  const seen = new Set(kept.flatMap(identities));
  const merged = [...kept];
  for (const message of added) {
    const ids = identities(message);
    if (ids.some((id) => seen.has(id))) continue;
    for (const id of ids) seen.add(id);
    merged.push(message);
  }
  return merged.sort((a, b) => b.timestamp - a.timestamp || (a.key < b.key ? 1 : -1));
}

/** Returns whether a server hit is stored locally; the local search covers it, including a retraction. */
async function storedCopy(db: ParleyDb, hit: Message): Promise<boolean> {
  if (hit.stanzaId !== undefined && (await db.messages.where('[conversation+stanzaId]').equals([hit.conversation, hit.stanzaId]).count()) > 0) return true;
  if (hit.direction !== 'out' || hit.originId === undefined) return false;
  return (await db.messages.where('[conversation+originId]').equals([hit.conversation, hit.originId]).count()) > 0;
}

function identities(message: Message): string[] {
  const ids = [`key ${message.key}`];
  if (message.stanzaId !== undefined) ids.push(`sid ${message.conversation} ${message.stanzaId}`);
  if (message.direction === 'out' && message.originId !== undefined) ids.push(`oid ${message.conversation} ${message.originId}`);
  return ids;
}

function serverHit(result: XElement, own: string): Message | undefined {
  const forwarded = forwardedMessage(result);
  const stanzaId = result.attr('id');
  if (!forwarded || !stanzaId) return undefined;
  const parsed = parseMessage(forwarded.message);
  const placed = envelope(parsed, 'archive', { own, now: Date.now(), archiveId: stanzaId, delay: forwarded.delay });
  if (!placed || parsed.body === undefined || parsed.retracts || parsed.replaces) return undefined;
  const message: Message = {
    key: messageKey(placed.timestamp, stanzaId),
    conversation: placed.conversation,
    kind: placed.kind,
    direction: placed.direction,
    from: placed.from,
    body: parsed.body,
    timestamp: placed.timestamp,
    stanzaId,
    state: placed.direction === 'out' ? 'sent' : 'received',
    tokens: [],
  };
  if (parsed.originId !== undefined) message.originId = parsed.originId;
  return message;
}
