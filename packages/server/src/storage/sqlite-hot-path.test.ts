import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ArchiveRepository } from './archive.js';
import { accountScope, FtsIndex, ftsQuery } from './fts.js';
import { InboxRepository } from './inbox.js';
import { openStorage } from './index.js';
import type { InboxConversation, InboxMessage, InboxOwner, NewArchiveEntry, Storage } from './index.js';

const HOST = 'example.test';
const BOB: InboxOwner = { host: HOST, username: 'bob' };
const ALICE_CHAT: InboxConversation = { jid: 'alice@example.test', kind: 'chat' };
const CAROL_CHAT: InboxConversation = { jid: 'carol@example.test', kind: 'chat' };

/** Two databases with the same accounts: writes on `hot` take the prepared statements, writes on `kysely` the builder. */
let dir: string;
let hot: Storage;
let kysely: Storage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-hot-path-'));
  hot = await openStorage({ driver: 'sqlite', path: join(dir, 'hot.db') });
  kysely = await openStorage({ driver: 'sqlite', path: join(dir, 'kysely.db') });
  for (const storage of [hot, kysely]) {
    for (const username of ['alice', 'bob', 'carol']) await storage.accounts.create(HOST, username, []);
  }
});

afterEach(async () => {
  await hot.close();
  await kysely.close();
  await rm(dir, { recursive: true, force: true });
});

function archiveEntry(index: number, tokens: string[]): NewArchiveEntry {
  return {
    host: HOST,
    username: 'alice',
    stanzaId: `s${index}`,
    createdAt: 1000 + index,
    withBare: 'bob@example.test',
    withResource: index % 2 === 0 ? '' : 'phone',
    sender: 'bob@example.test',
    messageId: index % 3 === 0 ? undefined : `m${index}`,
    originId: index % 2 === 0 ? `o${index}` : undefined,
    stanza: `<message><body>${index}</body></message>`,
    tokens,
  };
}

/** Keys of alice's archived messages whose search terms contain `token`. */
async function keysWith(storage: Storage, token: string): Promise<number[]> {
  const query = ftsQuery(accountScope(HOST, 'alice'), [token]);
  const result = await sql<{ key: number }>`select rowid as key from archive_fts where archive_fts match ${query} order by rowid`.execute(storage.db);
  return result.rows.map((row) => row.key);
}

async function rows(storage: Storage, table: string, order: string): Promise<unknown[]> {
  const result = await sql`select * from ${sql.table(table)} order by ${sql.raw(order)}`.execute(storage.db);
  return result.rows;
}

describe('SQLite hot path', () => {
  it('writes the same archive rows and tokens as the Kysely path', async () => {
    const many = Array.from({ length: 450 }, (_, i) => `t${i}`);
    const entries = [archiveEntry(1, ['hello', 'world', 'hello']), archiveEntry(2, []), archiveEntry(3, many)];
    const plain = new ArchiveRepository(kysely.db, { fts: new FtsIndex('archive_fts') });

    const appendAll = (storage: Storage, archive: ArchiveRepository) =>
      storage.batch.write(async (trx) => {
        const keys: number[] = [];
        for (const entry of entries) keys.push(await archive.append(trx, entry));
        return keys;
      });
    const hotKeys = await appendAll(hot, hot.archive);
    const kyselyKeys = await appendAll(kysely, plain);

    expect(hotKeys).toEqual(kyselyKeys);
    expect(await rows(hot, 'archive_messages', 'id')).toEqual(await rows(kysely, 'archive_messages', 'id'));
    for (const [token, keys] of [['hello', [hotKeys[0]]], ['world', [hotKeys[0]]], ['t0', [hotKeys[2]]], ['t449', [hotKeys[2]]], ['t450', []]] as const) {
      expect(await keysWith(hot, token), token).toEqual(keys);
      expect(await keysWith(kysely, token), token).toEqual(keys);
    }
  });

  it('writes the same inbox rows and results as the Kysely path', async () => {
    const plain = new InboxRepository(kysely.db);
    const message = (stanzaId: string, sender = 'alice@example.test'): InboxMessage => ({ stanzaId, at: 2000, sender, messageId: `m-${stanzaId}`, stanza: `<message id='${stanzaId}'/>` });
    const script: [string, (inbox: InboxRepository, storage: Storage) => Promise<unknown>][] = [
      ['add a1', (inbox, s) => s.batch.write((trx) => inbox.addMessage(trx, BOB, ALICE_CHAT, message('a1'), true))],
      ['add a3', (inbox, s) => s.batch.write((trx) => inbox.addMessage(trx, BOB, ALICE_CHAT, message('a3'), true))],
      ['add older a2', (inbox, s) => s.batch.write((trx) => inbox.addMessage(trx, BOB, ALICE_CHAT, message('a2'), true))],
      ['read a2', (inbox, s) => s.batch.write((trx) => inbox.moveRead(trx, BOB, ALICE_CHAT, 'a2'))],
      ['read a1 again', (inbox, s) => s.batch.write((trx) => inbox.moveRead(trx, BOB, ALICE_CHAT, 'a1'))],
      ['add read a2 again', (inbox, s) => s.batch.write((trx) => inbox.addMessage(trx, BOB, ALICE_CHAT, message('a2'), true))],
      ['archive', (_inbox, s) => s.inbox.setFlags(BOB, ALICE_CHAT.jid, { archived: true })],
      ['add a4 not unread', (inbox, s) => s.batch.write((trx) => inbox.addMessage(trx, BOB, ALICE_CHAT, message('a4'), false))],
      ['add a5', (inbox, s) => s.batch.write((trx) => inbox.addMessage(trx, BOB, ALICE_CHAT, message('a5'), true))],
      ['read new entry', (inbox, s) => s.batch.write((trx) => inbox.moveRead(trx, BOB, CAROL_CHAT, 'c1'))],
      ['add below read', (inbox, s) => s.batch.write((trx) => inbox.addMessage(trx, BOB, CAROL_CHAT, message('c0', 'carol@example.test'), true))],
      ['read a5', (inbox, s) => s.batch.write((trx) => inbox.moveRead(trx, BOB, ALICE_CHAT, 'a5'))],
      ['read a5 again', (inbox, s) => s.batch.write((trx) => inbox.moveRead(trx, BOB, ALICE_CHAT, 'a5'))],
    ];

    for (const [step, run] of script) {
      const hotResult = await run(hot.inbox, hot);
      const kyselyResult = await run(plain, kysely);
      expect(hotResult, step).toEqual(kyselyResult);
      expect(await rows(hot, 'inbox_entries', 'conversation'), step).toEqual(await rows(kysely, 'inbox_entries', 'conversation'));
      expect(await rows(hot, 'inbox_unread', 'conversation, stanza_id'), step).toEqual(await rows(kysely, 'inbox_unread', 'conversation, stanza_id'));
    }
    expect((await hot.inbox.get(BOB, ALICE_CHAT.jid))?.unread).toBe(0);
    expect((await hot.inbox.get(BOB, CAROL_CHAT.jid))?.lastStanzaId).toBe('c0');
  });

  it('rolls back the rows of a failing batch write alone', async () => {
    const failing = hot.batch.write(async (trx) => {
      await hot.archive.append(trx, archiveEntry(1, ['lost']));
      await hot.inbox.addMessage(trx, BOB, ALICE_CHAT, { stanzaId: 'x1', at: 1, sender: 'alice@example.test', stanza: '<message/>' }, true);
      throw new Error('boom');
    });
    const kept = hot.batch.write((trx) => hot.archive.append(trx, archiveEntry(2, ['kept'])));

    const results = await Promise.allSettled([failing, kept]);
    expect(results.map((result) => result.status)).toEqual(['rejected', 'fulfilled']);
    expect((await rows(hot, 'archive_messages', 'id')).map((row) => (row as { stanza_id: string }).stanza_id)).toEqual(['s2']);
    expect(await keysWith(hot, 'lost')).toEqual([]);
    expect(await keysWith(hot, 'kept')).toEqual([results[1].status === 'fulfilled' ? results[1].value : -1]);
    expect(await rows(hot, 'inbox_entries', 'conversation')).toEqual([]);
    expect(hot.batch.stats.failed).toBe(1);
  });
});
