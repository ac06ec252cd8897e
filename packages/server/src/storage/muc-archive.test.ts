import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import { ftsQuery, roomScope } from './fts.js';
import { roomKeyString } from './index.js';
import type { MucArchiveFilter, NewMucArchiveEntry, RoomKey, Storage } from './index.js';

const SERVICE = 'conference.example.test';
const TEAM: RoomKey = { service: SERVICE, room: 'team' };
const LOBBY: RoomKey = { service: SERVICE, room: 'lobby' };

let dir: string;
let storage: Storage;

async function createRoom(room: RoomKey): Promise<void> {
  await storage.mucRooms.save({
    service: room.service,
    name: room.room,
    persistent: true,
    public: true,
    config: '{}',
    subject: null,
    subjectNick: null,
    createdBy: 'alice@example.test',
    createdAt: 1,
  });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-muc-archive-'));
  storage = await openTestStorage(join(dir, 'parley.db'));
  await createRoom(TEAM);
  await createRoom(LOBBY);
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

function entry(index: number, overrides: Partial<NewMucArchiveEntry> = {}): NewMucArchiveEntry {
  const nick = index % 2 === 0 ? 'alice' : 'bob';
  return {
    ...TEAM,
    stanzaId: `id-${String(index).padStart(3, '0')}`,
    createdAt: 1000 + index,
    kind: 'message',
    nick,
    sender: `${nick}@example.test`,
    messageId: `m${index}`,
    stanza: `<message xmlns="jabber:client" type="groupchat" from="team@${SERVICE}/${nick}"><body>${index}</body></message>`,
    tokens: [],
    ...overrides,
  };
}

async function append(...entries: NewMucArchiveEntry[]): Promise<number[]> {
  return storage.batch.write(async (trx) => {
    const keys: number[] = [];
    for (const item of entries) keys.push(await storage.mucArchive.append(trx, item));
    return keys;
  });
}

/** Messages of the team room indexed under the token 'hello': search terms on SQLite, token rows on PostgreSQL. */
async function indexedHello(storage: Storage): Promise<number> {
  if (storage.dialect === 'sqlite') {
    const query = ftsQuery(roomScope(SERVICE, 'team'), ['hello']);
    const result = await sql<{ n: number }>`select count(*) as n from muc_archive_fts where muc_archive_fts match ${query}`.execute(storage.db);
    return Number(result.rows[0]?.n);
  }
  const row = await storage.db.selectFrom('muc_archive_tokens').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function appendMany(count: number): Promise<void> {
  await append(...Array.from({ length: count }, (_, i) => entry(i)));
}

async function pageIds(filter: MucArchiveFilter, request: Parameters<Storage['mucArchive']['page']>[2]): Promise<string[]> {
  const page = await storage.mucArchive.page(TEAM, filter, request);
  return page.messages.map((message) => message.stanzaId);
}

describe('MucArchiveRepository.page', () => {
  it('returns the first page in order', async () => {
    await appendMany(5);
    expect(await pageIds({}, { max: 2 })).toEqual(['id-000', 'id-001']);
  });

  it('returns the last page', async () => {
    await appendMany(5);
    expect(await pageIds({}, { max: 2, before: 'end' })).toEqual(['id-003', 'id-004']);
  });

  it('pages after a key', async () => {
    await appendMany(5);
    const keys = await storage.mucArchive.keysOf(TEAM, ['id-001']);
    expect(await pageIds({}, { max: 10, after: keys.get('id-001')! })).toEqual(['id-002', 'id-003', 'id-004']);
  });

  it('reports the first index', async () => {
    await appendMany(5);
    const page = await storage.mucArchive.page(TEAM, {}, { max: 2, before: 'end' });
    expect(page.firstIndex).toBe(3);
  });

  it('filters by nick', async () => {
    await appendMany(5);
    expect(await pageIds({ nick: 'bob' }, { max: 10 })).toEqual(['id-001', 'id-003']);
  });

  it('filters by real sender', async () => {
    await appendMany(4);
    expect(await pageIds({ sender: 'alice@example.test' }, { max: 10 })).toEqual(['id-000', 'id-002']);
  });

  it('filters by time', async () => {
    await appendMany(5);
    expect(await pageIds({ start: 1001, end: 1003 }, { max: 10 })).toEqual(['id-001', 'id-002', 'id-003']);
  });

  it('searches tokens', async () => {
    await append(entry(0, { tokens: ['hello', 'world'] }), entry(1, { tokens: ['hello'] }));
    expect(await pageIds({ tokens: ['hello', 'world'] }, { max: 10 })).toEqual(['id-000']);
  });

  it('keeps rooms apart', async () => {
    await appendMany(3);
    await append(entry(9, { ...LOBBY }));
    const page = await storage.mucArchive.page(LOBBY, {}, { max: 10 });
    expect(page.messages.map((message) => message.stanzaId)).toEqual(['id-009']);
  });
});

describe('MucArchiveRepository writes', () => {
  it('rejects a message for a missing room', async () => {
    await expect(append(entry(0, { room: 'nowhere' }))).rejects.toThrow();
  });

  it('rejects a duplicate stanza id', async () => {
    await append(entry(0));
    await expect(append(entry(0))).rejects.toThrow();
  });

  it('rewrites a message in place', async () => {
    const [key] = await append(entry(0, { tokens: ['old'] }), entry(1));
    await storage.batch.write((trx) => storage.mucArchive.rewrite(trx, TEAM, key!, { stanza: '<x/>', tokens: ['new'], editedAt: 5 }));
    const page = await storage.mucArchive.page(TEAM, { tokens: ['new'] }, { max: 10 });
    expect(page.messages.map((message) => [message.stanzaId, message.stanza, message.editedAt])).toEqual([['id-000', '<x/>', 5]]);
  });

  it('finds a referenced message of the sender only', async () => {
    await append(entry(0), entry(1));
    const found = await storage.batch.write((trx) => storage.mucArchive.findReferenced(trx, TEAM, 'bob@example.test', 'm0', false));
    expect(found).toBeUndefined();
  });

  it('finds a referenced message by stanza id', async () => {
    await append(entry(0), entry(1));
    const found = await storage.batch.write((trx) => storage.mucArchive.findReferenced(trx, TEAM, 'bob@example.test', 'id-001', true));
    expect(found?.messageId).toBe('m1');
  });
});

describe('MucArchiveRepository reads', () => {
  it('returns the newest message per room', async () => {
    await appendMany(3);
    await append(entry(7, { ...LOBBY }));
    const latest = await storage.mucArchive.latestByRoom([TEAM, LOBBY, { service: SERVICE, room: 'empty' }]);
    const ids = [...latest.entries()].map(([room, message]) => [room, message.stanzaId]).sort();
    expect(ids).toEqual([
      [roomKeyString(LOBBY), 'id-007'],
      [roomKeyString(TEAM), 'id-002'],
    ]);
  });

  it('returns the bounds', async () => {
    await appendMany(3);
    const bounds = await storage.mucArchive.bounds(TEAM);
    expect([bounds?.first.stanzaId, bounds?.last.stanzaId]).toEqual(['id-000', 'id-002']);
  });

  it('returns the latest stanza id', async () => {
    await appendMany(3);
    expect(await storage.mucArchive.latestStanzaId()).toBe('id-002');
  });

  it('drops the archive with its room', async () => {
    await append(entry(0, { tokens: ['hello'] }));
    await storage.mucRooms.delete(SERVICE, 'team');
    expect(await storage.mucArchive.count(TEAM, {})).toBe(0);
  });

  it('drops the tokens with the room', async () => {
    await append(entry(0, { tokens: ['hello'] }));
    expect(await indexedHello(storage)).toBe(1);
    await storage.mucRooms.delete(SERVICE, 'team');
    expect(await indexedHello(storage)).toBe(0);
  });
});
