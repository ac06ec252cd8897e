import { type Kysely, type RawBuilder, sql } from 'kysely';

import type { Database } from './schema.js';

/** The FTS5 tables that index the archives' search tokens on SQLite. */
export type FtsTable = 'archive_fts' | 'muc_archive_fts';

/**
 * Full-text search of an archive (XEP-0431) on SQLite: a contentless FTS5 table that indexes
 * each message's search tokens (modules/mam/tokenize.ts) under the message's key.
 *
 * Each token becomes one term, prefixed with the archive's scope (the owner's or the room's
 * bare JID), so a search reads only that archive's postings. A term is the hex form of
 * `scope` and the token joined by a newline, which neither contains. FTS5's ascii tokenizer
 * therefore keeps every term whole, whatever the token's script. Migration 0020 builds the
 * same terms from the earlier token rows with SQL's hex().
 *
 * FTS5 gathers the terms of a transaction in memory and writes them as one segment at
 * commit. A table of (scope, token, key) rows, which PostgreSQL keeps, updates a b-tree
 * page per token instead, and on SQLite that made up half the cost of archiving a message.
 * Rows leave the table through a trigger on the archive's messages (migration 0020).
 */
export class FtsIndex {
  constructor(readonly table: FtsTable) {}

  /** SQL that indexes one message, bound to its key and the `ftsTerms` of its tokens. */
  get insertSql(): string {
    return `insert into ${this.table} (rowid, terms) values (?, ?)`;
  }

  /** Indexes `tokens` of message `key` in the archive `scope`. */
  async add(db: Kysely<Database>, scope: string, key: number, tokens: readonly string[]): Promise<void> {
    if (tokens.length === 0) return;
    await sql`insert into ${sql.table(this.table)} (rowid, terms) values (${key}, ${ftsTerms(scope, tokens)})`.execute(db);
  }

  /** Drops the terms of message `key`. */
  async remove(db: Kysely<Database>, key: number): Promise<void> {
    await sql`delete from ${sql.table(this.table)} where rowid = ${key}`.execute(db);
  }

  /** Returns a subquery of the keys of the messages in `scope` that contain all of `tokens` (not empty). */
  matching(scope: string, tokens: readonly string[]): RawBuilder<number> {
    const table = sql.table(this.table);
    return sql<number>`select rowid from ${table} where ${table} match ${ftsQuery(scope, tokens)}`;
  }
}

/** Returns the scope of an account's archive, its bare JID. */
export function accountScope(host: string, username: string): string {
  return `${username}@${host}`;
}

/** Returns the scope of a room's archive, its bare JID. */
export function roomScope(service: string, room: string): string {
  return `${room}@${service}`;
}

/** Returns the text to index for a message: one term per distinct token, separated by spaces. */
export function ftsTerms(scope: string, tokens: readonly string[]): string {
  return [...new Set(tokens)].map((token) => term(scope, token)).join(' ');
}

/** Returns an FTS5 query for the messages that contain all of `tokens`. */
export function ftsQuery(scope: string, tokens: readonly string[]): string {
  return [...new Set(tokens)].map((token) => `"${term(scope, token)}"`).join(' AND ');
}

function term(scope: string, token: string): string {
  return Buffer.from(`${scope}\n${token}`).toString('hex');
}
