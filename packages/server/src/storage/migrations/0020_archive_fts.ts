import { type Kysely, type Migration, sql } from 'kysely';

import type { DialectName } from '../db.js';
import { createTokens as createArchiveTokens } from './0007_archive.js';
import { createTokens as createMucArchiveTokens } from './0010_muc_archive.js';

/** One archive's search index: the FTS5 table, the token rows it replaces, and its messages. */
interface ArchiveSearch {
  fts: string;
  tokens: string;
  messages: string;
  /** SQL for the archive's scope in a token row, as `FtsIndex` prefixes its terms. */
  scope: string;
  createTokens: (db: Kysely<unknown>) => Promise<void>;
}

const ARCHIVES: ArchiveSearch[] = [
  { fts: 'archive_fts', tokens: 'archive_tokens', messages: 'archive_messages', scope: `username || '@' || host`, createTokens: createArchiveTokens },
  { fts: 'muc_archive_fts', tokens: 'muc_archive_tokens', messages: 'muc_archive_messages', scope: `room || '@' || service`, createTokens: createMucArchiveTokens },
];

/**
 * On SQLite, moves the archives' search tokens (XEP-0431) from rows of `archive_tokens` and
 * `muc_archive_tokens` into contentless FTS5 tables (see storage/fts.ts), and adds triggers
 * that drop a message's terms with its row. PostgreSQL keeps the token rows.
 */
export function archiveFtsMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      if (dialect !== 'sqlite') return;
      // One transaction: a crash midway leaves the token rows where they were.
      await db.transaction().execute(async (trx) => {
        for (const archive of ARCHIVES) await moveToFts(trx, archive);
      });
    },

    // The terms cannot be read back from a contentless table, so earlier messages are no longer found by search.
    async down(db: Kysely<unknown>): Promise<void> {
      if (dialect !== 'sqlite') return;
      for (const archive of ARCHIVES) {
        await sql.raw(`drop trigger if exists ${archive.fts}_delete`).execute(db);
        await sql.raw(`drop table if exists ${archive.fts}`).execute(db);
        await archive.createTokens(db);
      }
    },
  };
}

async function moveToFts(db: Kysely<unknown>, archive: ArchiveSearch): Promise<void> {
  const { fts, tokens, messages, scope } = archive;
  await sql.raw(`create virtual table if not exists ${fts} using fts5(terms, content='', contentless_delete=1, tokenize='ascii', detail='none')`).execute(db);

  if (await tableExists(db, tokens)) {
    await sql
      .raw(`insert into ${fts} (rowid, terms) select message_id, group_concat(lower(hex(${scope} || char(10) || token)), ' ') from ${tokens} group by message_id`)
      .execute(db);
    await sql.raw(`drop table ${tokens}`).execute(db);
  }

  await sql.raw(`create trigger if not exists ${fts}_delete after delete on ${messages} begin delete from ${fts} where rowid = old.id; end`).execute(db);
}

async function tableExists(db: Kysely<unknown>, name: string): Promise<boolean> {
  const result = await sql<{ n: number }>`select count(*) as n from sqlite_master where type = 'table' and name = ${name}`.execute(db);
  return (result.rows[0]?.n ?? 0) > 0;
}
