import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Kysely, Migrator, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openSqlite } from './db.js';
import { ftsQuery, ftsTerms } from './fts.js';
import { openStorage, type Storage } from './index.js';
import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';

const HOST = 'example.test';
const SERVICE = 'conference.example.test';

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-fts-'));
  path = join(dir, 'parley.db');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FTS terms', () => {
  it('writes one scoped hex term per token', () => {
    const terms = ftsTerms('alice@example.test', ['hi', '会议', 'hi']).split(' ');
    expect(terms).toHaveLength(2);
    expect(terms.every((term) => /^[0-9a-f]+$/.test(term))).toBe(true);
    expect(Buffer.from(terms[1]!, 'hex').toString()).toBe('alice@example.test\n会议');
  });

  it('asks for every token', () => {
    expect(ftsQuery('a@b', ['x', 'y'])).toBe(`"${ftsTerms('a@b', ['x'])}" AND "${ftsTerms('a@b', ['y'])}"`);
  });
});

describe('migration 0020_archive_fts', () => {
  /** Creates a database migrated up to 0019 with token rows for two archived messages and one room message. */
  async function databaseWithTokenRows(): Promise<{ archive: number[]; room: number }> {
    const { db } = openSqlite(path);
    const all = migrations('sqlite');
    const earlier = Object.fromEntries(Object.entries(all).filter(([name]) => name < '0020'));
    const { error } = await new Migrator({ db, provider: { getMigrations: () => Promise.resolve(earlier) } }).migrateToLatest();
    expect(error).toBeUndefined();

    await db.insertInto('accounts').values({ host: HOST, username: 'alice', created_at: 0, disabled: 0, legacy_hash: null }).execute();
    const message = { host: HOST, username: 'alice', created_at: 1, with_bare: 'bob@example.test', with_resource: '', sender: 'bob@example.test', stanza: '<message/>' };
    const keys: number[] = [];
    for (const stanzaId of ['s1', 's2']) {
      const row = await db.insertInto('archive_messages').values({ ...message, stanza_id: stanzaId }).returning('id').executeTakeFirstOrThrow();
      keys.push(Number(row.id));
    }
    for (const token of ['red', '会议']) await db.insertInto('archive_tokens').values({ host: HOST, username: 'alice', token, message_id: keys[0]! }).execute();
    await db.insertInto('archive_tokens').values({ host: HOST, username: 'alice', token: 'red', message_id: keys[1]! }).execute();

    await sql`insert into muc_rooms (service, name, persistent, public, config, created_by, created_at) values (${SERVICE}, 'team', 1, 1, '{}', 'bob@example.test', 0)`.execute(db);
    const room = await db
      .insertInto('muc_archive_messages')
      .values({ service: SERVICE, room: 'team', stanza_id: 'r1', created_at: 1, kind: 'message', nick: 'bob', sender: 'bob@example.test', stanza: '<message/>' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db.insertInto('muc_archive_tokens').values({ service: SERVICE, room: 'team', token: 'blue', message_id: Number(room.id) }).execute();
    await db.destroy();
    return { archive: keys, room: Number(room.id) };
  }

  async function tableNames(db: Kysely<Database>): Promise<string[]> {
    const result = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name like '%archive_tokens'`.execute(db);
    return result.rows.map((row) => row.name);
  }

  it('moves token rows into FTS tables', async () => {
    const keys = await databaseWithTokenRows();
    const storage: Storage = await openStorage({ driver: 'sqlite', path });
    try {
      const found = async (tokens: string[]) => (await storage.archive.page(HOST, 'alice', { tokens }, { max: 10 })).messages.map((m) => m.key);
      expect(await found(['red'])).toEqual(keys.archive);
      expect(await found(['red', '会议'])).toEqual([keys.archive[0]]);
      expect(await found(['green'])).toEqual([]);
      const room = { service: SERVICE, room: 'team' };
      expect((await storage.mucArchive.page(room, { tokens: ['blue'] }, { max: 10 })).messages.map((m) => m.key)).toEqual([keys.room]);
      expect(await tableNames(storage.db)).toEqual([]);
    } finally {
      await storage.close();
    }
  });
});
