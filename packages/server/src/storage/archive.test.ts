import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import type { ArchiveFilter, NewArchiveEntry, Storage } from './index.js';

const HOST = 'example.test';
const ALICE = 'alice';
const BOB_JID = 'bob@example.test';
const CAROL_JID = 'carol@example.test';

let dir: string;
let storage: Storage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-archive-'));
  storage = await openTestStorage(join(dir, 'parley.db'));
  await storage.accounts.create(HOST, ALICE, []);
  await storage.accounts.create(HOST, 'bob', []);
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

function entry(index: number, overrides: Partial<NewArchiveEntry> = {}): NewArchiveEntry {
  return {
    host: HOST,
    username: ALICE,
    stanzaId: `id-${String(index).padStart(3, '0')}`,
    createdAt: 1000 + index,
    withBare: BOB_JID,
    withResource: 'phone',
    sender: BOB_JID,
    messageId: `m${index}`,
    stanza: `<message xmlns="jabber:client"><body>${index}</body></message>`,
    tokens: [],
    ...overrides,
  };
}

async function append(...entries: NewArchiveEntry[]): Promise<number[]> {
  return storage.batch.write(async (trx) => {
    const keys: number[] = [];
    for (const item of entries) keys.push(await storage.archive.append(trx, item));
    return keys;
  });
}

async function appendMany(count: number): Promise<void> {
  await append(...Array.from({ length: count }, (_, i) => entry(i)));
}

async function pageIds(filter: ArchiveFilter, request: Parameters<Storage['archive']['page']>[3]): Promise<string[]> {
  const page = await storage.archive.page(HOST, ALICE, filter, request);
  return page.messages.map((message) => message.stanzaId);
}

describe('ArchiveRepository.page', () => {
  it('returns the first page in order', async () => {
    await appendMany(5);
    expect(await pageIds({}, { max: 2 })).toEqual(['id-000', 'id-001']);
  });

  it('counts every match', async () => {
    await appendMany(5);
    const page = await storage.archive.page(HOST, ALICE, {}, { max: 2 });
    expect(page.count).toBe(5);
  });

  it('marks a limited page incomplete', async () => {
    await appendMany(5);
    const page = await storage.archive.page(HOST, ALICE, {}, { max: 2 });
    expect(page.complete).toBe(false);
  });

  it('pages after a key', async () => {
    const keys = await append(entry(0), entry(1), entry(2));
    expect(await pageIds({}, { max: 5, after: keys[0]! })).toEqual(['id-001', 'id-002']);
  });

  it('returns the last page oldest first', async () => {
    await appendMany(5);
    expect(await pageIds({}, { max: 2, before: 'end' })).toEqual(['id-003', 'id-004']);
  });

  it('gives the index of a last page', async () => {
    await appendMany(5);
    const page = await storage.archive.page(HOST, ALICE, {}, { max: 2, before: 'end' });
    expect(page.firstIndex).toBe(3);
  });

  it('pages before a key', async () => {
    const keys = await append(entry(0), entry(1), entry(2), entry(3));
    expect(await pageIds({}, { max: 2, before: keys[3]! })).toEqual(['id-001', 'id-002']);
  });

  it('starts at an index', async () => {
    await appendMany(5);
    expect(await pageIds({}, { max: 2, index: 2 })).toEqual(['id-002', 'id-003']);
  });

  it('filters by bare JID', async () => {
    await append(entry(0), entry(1, { withBare: CAROL_JID }), entry(2));
    expect(await pageIds({ with: { bare: BOB_JID } }, { max: 10 })).toEqual(['id-000', 'id-002']);
  });

  it('filters by full JID', async () => {
    await append(entry(0), entry(1, { withResource: 'laptop' }));
    expect(await pageIds({ with: { bare: BOB_JID, resource: 'laptop' } }, { max: 10 })).toEqual(['id-001']);
  });

  it('filters by time', async () => {
    await appendMany(5);
    expect(await pageIds({ start: 1001, end: 1003 }, { max: 10 })).toEqual(['id-001', 'id-002', 'id-003']);
  });

  it('requires every token', async () => {
    await append(entry(0, { tokens: ['red', 'fox'] }), entry(1, { tokens: ['red'] }), entry(2, { tokens: ['fox'] }));
    expect(await pageIds({ tokens: ['red', 'fox'] }, { max: 10 })).toEqual(['id-000']);
  });

  it('keeps other archives out of a search', async () => {
    await append(entry(0, { username: 'bob', withBare: 'alice@example.test', tokens: ['red'] }), entry(1, { tokens: ['red', '会议'] }));
    expect(await pageIds({ tokens: ['red'] }, { max: 10 })).toEqual(['id-001']);
    expect(await pageIds({ tokens: ['会议'] }, { max: 10 })).toEqual(['id-001']);
  });

  it('matches nothing for no tokens', async () => {
    await append(entry(0, { tokens: ['red'] }));
    expect(await pageIds({ tokens: [] }, { max: 10 })).toEqual([]);
  });

  it('keeps other archives out', async () => {
    await append(entry(0, { username: 'bob', withBare: 'alice@example.test' }), entry(1));
    expect(await pageIds({}, { max: 10 })).toEqual(['id-001']);
  });
});

describe('ArchiveRepository', () => {
  it('maps stanza ids to keys', async () => {
    const keys = await append(entry(0), entry(1));
    const found = await storage.archive.keysOf(HOST, ALICE, ['id-001', 'id-999']);
    expect([...found]).toEqual([['id-001', keys[1]]]);
  });

  it('finds an origin-id of the sender', async () => {
    await append(entry(0, { originId: 'o-1' }));
    expect(await storage.archive.hasOriginId(HOST, ALICE, BOB_JID, 'o-1')).toBe(true);
  });

  it('ignores an origin-id of another sender', async () => {
    await append(entry(0, { originId: 'o-1' }));
    expect(await storage.archive.hasOriginId(HOST, ALICE, CAROL_JID, 'o-1')).toBe(false);
  });

  it('rewrites the tokens of a message', async () => {
    const [key] = await append(entry(0, { tokens: ['old'] }));
    await storage.batch.write((trx) => storage.archive.rewrite(trx, HOST, ALICE, key!, { stanza: '<message xmlns="jabber:client"/>', tokens: ['new'], editedAt: 5 }));
    expect(await pageIds({ tokens: ['old'] }, { max: 10 })).toEqual([]);
  });

  it('keeps the id of a rewritten message', async () => {
    const [key] = await append(entry(0));
    await storage.batch.write((trx) => storage.archive.rewrite(trx, HOST, ALICE, key!, { stanza: '<message xmlns="jabber:client"/>', tokens: [], retractedAt: 5 }));
    const page = await storage.archive.page(HOST, ALICE, {}, { max: 10 });
    expect(page.messages.map((message) => [message.stanzaId, message.retractedAt])).toEqual([['id-000', 5]]);
  });

  it('reports first and last message', async () => {
    await appendMany(3);
    const bounds = await storage.archive.bounds(HOST, ALICE);
    expect([bounds?.first.stanzaId, bounds?.last.stanzaId]).toEqual(['id-000', 'id-002']);
  });

  it('stores preferences', async () => {
    const prefs = { default: 'roster' as const, always: [BOB_JID], never: [CAROL_JID] };
    await storage.archive.setPrefs(HOST, ALICE, prefs);
    expect(await storage.archive.getPrefs(HOST, ALICE)).toEqual(prefs);
  });

  it('replaces preferences', async () => {
    await storage.archive.setPrefs(HOST, ALICE, { default: 'roster', always: [BOB_JID], never: [] });
    await storage.archive.setPrefs(HOST, ALICE, { default: 'never', always: [], never: [] });
    expect((await storage.archive.getPrefs(HOST, ALICE))?.default).toBe('never');
  });

  it('is deleted with the account', async () => {
    await append(entry(0, { tokens: ['red'] }));
    await storage.accounts.delete(HOST, ALICE);
    expect(await storage.archive.count(HOST, ALICE, {})).toBe(0);
  });
});
