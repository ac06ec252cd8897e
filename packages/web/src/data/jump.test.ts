import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { x, type XElement } from '../xmpp/index.js';
import { ChatStore } from './chat-store.js';
import { messageKey } from './message-store.js';
import { NS } from './ns.js';
import { openAccountDb, type ParleyDb } from './schema.js';
import { TestConnection } from './test-connection.js';
import { tokenize } from './tokens.js';
import type { Message } from './types.js';

const ME = 'alice@example.test';
const BOB = 'bob@example.test';
const COUNT = 120;
const T0 = Date.UTC(2024, 0, 1);

const dbs: ParleyDb[] = [];
const stores: ChatStore[] = [];

afterEach(async () => {
  for (const store of stores.splice(0)) store.close();
  for (const db of dbs.splice(0)) {
    db.close();
    await db.delete();
  }
});

function stanzaId(n: number): string {
  return `s${String(n).padStart(4, '0')}`;
}

function setup(): { db: ParleyDb; conn: TestConnection; store: ChatStore } {
  const db = openAccountDb(ME);
  const conn = new TestConnection(ME);
  const store = new ChatStore(db, conn, { locks: null, shareChanges: false });
  dbs.push(db);
  stores.push(store);
  return { db, conn, store };
}

function row(n: number): Message {
  const body = `message ${n}`;
  return { key: messageKey(T0 + n * 1000, stanzaId(n)), conversation: BOB, kind: 'chat', direction: 'in', from: BOB, body, timestamp: T0 + n * 1000, stanzaId: stanzaId(n), state: 'received', tokens: tokenize(body) };
}

function field(form: XElement | undefined, name: string): string | undefined {
  return form?.getChildren('field', NS.DATA).find((child) => child.attr('var') === name)?.getChildText('value', NS.DATA);
}

/** Answers MAM queries over bob's `COUNT` messages, as the server does (before-id, after-id, RSM max and before). */
function serveArchive(conn: TestConnection, queries: string[]): void {
  conn.iqHandler = (request) => {
    const query = request.getChild('query', NS.MAM);
    const form = query?.getChild('x', NS.DATA);
    const set = query?.getChild('set', NS.RSM);
    const max = Number(set?.getChildText('max', NS.RSM) ?? '50');
    const after = field(form, 'after-id');
    const before = field(form, 'before-id');
    queries.push(`after=${after ?? ''} before=${before ?? ''}`);
    let ids = Array.from({ length: COUNT }, (_, n) => n).filter((n) => (after === undefined || stanzaId(n) > after) && (before === undefined || stanzaId(n) < before));
    const complete = ids.length <= max;
    ids = set?.getChild('before', NS.RSM) ? ids.slice(-max) : ids.slice(0, max);
    for (const n of ids) conn.receive(archived(query?.attr('queryid') ?? '', n));
    const rsm = x('set', NS.RSM, {});
    if (ids.length) rsm.append(x('first', NS.RSM, {}, stanzaId(ids[0] ?? 0)), x('last', NS.RSM, {}, stanzaId(ids[ids.length - 1] ?? 0)));
    return x('iq', NS.CLIENT, { type: 'result', id: request.attr('id') }, x('fin', NS.MAM, { complete: String(complete) }, rsm));
  };
}

function archived(queryid: string, n: number): XElement {
  const message = x('message', NS.CLIENT, { from: `${BOB}/phone`, to: ME, type: 'chat', id: `m${n}` }, x('body', NS.CLIENT, {}, `message ${n}`));
  const forwarded = x('forwarded', NS.FORWARD, {}, x('delay', NS.DELAY, { stamp: new Date(T0 + n * 1000).toISOString() }), message);
  return x('message', NS.CLIENT, { to: ME }, x('result', NS.MAM, { queryid, id: stanzaId(n) }, forwarded));
}

function numbers(messages: Message[]): number[] {
  return messages.map((message) => Number(message.body.split(' ')[1]));
}

describe('the window around a message', () => {
  it('reads a page on each side of a stored message, oldest first', async () => {
    const { db, store } = setup();
    await db.messages.bulkPut(Array.from({ length: COUNT }, (_, n) => row(n)));

    const around = await store.pageAround(BOB, { key: row(30).key }, 10);
    expect(around.key).toBe(row(30).key);
    expect(numbers(around.messages)).toEqual(Array.from({ length: 21 }, (_, i) => 20 + i));

    const edge = await store.pageAround(BOB, { key: row(3).key }, 10);
    expect(numbers(edge.messages)).toEqual(Array.from({ length: 14 }, (_, i) => i));

    const newer = await store.newerPage(BOB, { key: row(110).key }, 50);
    expect(numbers(newer)).toEqual(Array.from({ length: 9 }, (_, i) => 111 + i));
  });

  it('finds a stored message by stanza id and leaves other conversations out', async () => {
    const { db, store } = setup();
    await db.messages.bulkPut([row(1), row(2), { ...row(3), conversation: 'carol@example.test' }]);

    const byId = await store.pageAround(BOB, { key: 'not-a-key', stanzaId: stanzaId(2) }, 10);
    expect(byId.key).toBe(row(2).key);
    expect(numbers(byId.messages)).toEqual([1, 2]);

    const elsewhere = await store.pageAround(BOB, { key: row(3).key }, 10);
    expect(elsewhere).toEqual({ messages: [] });
  });

  it('fetches an archive-only hit with its neighbours, then fills the gap up to the fetched range', async () => {
    const { db, conn, store } = setup();
    const queries: string[] = [];
    serveArchive(conn, queries);
    // The newest 20 were fetched earlier: the range starts at message 100.
    await db.messages.bulkPut(Array.from({ length: 20 }, (_, i) => row(100 + i)));
    await db.conversations.put({ jid: BOB, kind: 'chat', preview: '', lastActivity: T0, unread: 0, pinned: 0, mutedUntil: 0, archived: false, reachedBeginning: false, oldestFetched: stanzaId(100), newestFetched: stanzaId(119) });

    const around = await store.pageAround(BOB, { key: messageKey(T0 + 10_000, stanzaId(10)), stanzaId: stanzaId(10) }, 5);
    expect(around.key).toBe(row(10).key);
    expect(numbers(around.messages)).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(queries).toEqual([`after= before=${stanzaId(10)}`, `after=${stanzaId(9)} before=`]);

    // Paging down from the island asks the archive, so nothing between 15 and 100 is skipped.
    const seen: number[] = [];
    let last = row(15).key;
    for (let page = 0; page < 30; page++) {
      const next = await store.newerPage(BOB, { key: last }, 20);
      if (next.length === 0) break;
      seen.push(...numbers(next));
      last = next[next.length - 1]?.key ?? last;
    }
    expect(seen).toEqual(Array.from({ length: 104 }, (_, i) => 16 + i));

    // The range itself did not move: older paging from it fills the gap below 100 from the archive first.
    expect((await db.conversations.get(BOB))?.oldestFetched).toBe(stanzaId(100));
  });

  it('pages older from an island through the archive', async () => {
    const { db, conn, store } = setup();
    const queries: string[] = [];
    serveArchive(conn, queries);
    await db.messages.bulkPut([row(40), row(41), ...Array.from({ length: 20 }, (_, i) => row(100 + i))]);
    await db.conversations.put({ jid: BOB, kind: 'chat', preview: '', lastActivity: T0, unread: 0, pinned: 0, mutedUntil: 0, archived: false, reachedBeginning: false, oldestFetched: stanzaId(100), newestFetched: stanzaId(119) });

    const older = await store.olderPage(BOB, { key: row(40).key }, 10);
    expect(numbers(older)).toEqual([30, 31, 32, 33, 34, 35, 36, 37, 38, 39]);

    // From the range, the island below it is not taken as the next page: the archive fills 90..99 first.
    const fromRange = await store.olderPage(BOB, { key: row(100).key }, 10);
    expect(numbers(fromRange)).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
  });
});
