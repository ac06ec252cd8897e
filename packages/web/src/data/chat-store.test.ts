import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { x, type XElement } from '../xmpp/index.js';
import { ChatStore } from './chat-store.js';
import { NS } from './ns.js';
import { openAccountDb, type ParleyDb } from './schema.js';
import { TestConnection } from './test-connection.js';
import type { DataChange, Message } from './types.js';

const ME = 'alice@example.test';
const BOB = 'bob@example.test';
const ROOM = 'team@conference.example.test';

const dbs: ParleyDb[] = [];
const stores: ChatStore[] = [];

function setup(clock = { t: 1_000_000 }): { db: ParleyDb; conn: TestConnection; store: ChatStore; changes: DataChange[] } {
  const db = openAccountDb(ME);
  const conn = new TestConnection(ME);
  const store = new ChatStore(db, conn, { now: () => clock.t++ });
  const changes: DataChange[] = [];
  store.subscribe((change) => changes.push(change));
  dbs.push(db);
  stores.push(store);
  return { db, conn, store, changes };
}

afterEach(async () => {
  for (const store of stores.splice(0)) store.close();
  for (const db of dbs.splice(0)) {
    db.close();
    await db.delete();
  }
});

function chat(from: string, body: string | undefined, extra: { id?: string; stanzaId?: string; originId?: string; stamp?: string; children?: XElement[] } = {}): XElement {
  const message = x('message', NS.CLIENT, { from, to: `${ME}/web`, type: 'chat', id: extra.id ?? extra.originId });
  if (body !== undefined) message.append(x('body', NS.CLIENT, {}, body));
  if (extra.originId) message.append(x('origin-id', NS.SID, { id: extra.originId }));
  if (extra.stanzaId) message.append(x('stanza-id', NS.SID, { by: ME, id: extra.stanzaId }));
  if (extra.stamp) message.append(x('delay', NS.DELAY, { stamp: extra.stamp }));
  message.append(...(extra.children ?? []));
  return message;
}

/** Waits until the store has handled everything delivered so far. */
async function settle(store: ChatStore): Promise<void> {
  await (store as unknown as { queue: Promise<void> }).queue;
  await new Promise((resolve) => setTimeout(resolve, 5));
}

function bodies(messages: Message[]): string[] {
  return messages.map((message) => message.body);
}

describe('receiving', () => {
  it('stores a message once, whatever path it takes', async () => {
    const { conn, store, db } = setup();
    conn.receive(chat(`${BOB}/phone`, 'hi', { originId: 'o1', stanzaId: 's1' }));
    conn.receive(chat(`${BOB}/phone`, 'hi', { originId: 'o1', stanzaId: 's1' }));
    conn.receive(x('message', NS.CLIENT, { from: ME, to: `${ME}/web` }, x('received', NS.CARBONS, {}, x('forwarded', NS.FORWARD, {}, chat(`${BOB}/phone`, 'hi', { originId: 'o1', stanzaId: 's1' })))));
    await settle(store);

    expect(await db.messages.count()).toBe(1);
    const conversation = await store.conversation(BOB);
    expect(conversation?.preview).toBe('hi');
  });

  it('ignores carbons that do not come from the account', async () => {
    const { conn, store, db } = setup();
    const forged = x('message', NS.CLIENT, { from: BOB, to: `${ME}/web` }, x('sent', NS.CARBONS, {}, x('forwarded', NS.FORWARD, {}, chat(`${ME}/phone`, 'forged', { originId: 'f1' }).setAttr('to', 'carol@example.test'))));
    conn.receive(forged);
    await settle(store);
    expect(await db.messages.count()).toBe(0);
  });

  it('answers a receipt request and reports typing', async () => {
    const { conn, store, changes } = setup();
    conn.receive(chat(`${BOB}/phone`, 'ping', { id: 'm1', children: [x('request', NS.RECEIPTS)] }));
    conn.receive(chat(`${BOB}/phone`, undefined, { children: [x('composing', NS.CHAT_STATES)] }));
    await settle(store);

    const receipt = conn.sent.find((stanza) => stanza.getChild('received', NS.RECEIPTS));
    expect(receipt?.attr('to')).toBe(`${BOB}/phone`);
    expect(receipt?.getChild('received', NS.RECEIPTS)?.attr('id')).toBe('m1');
    expect(changes).toContainEqual({ type: 'typing', conversation: BOB, from: BOB, state: 'composing' });
  });

  it('applies edits from the sender only', async () => {
    const { conn, store } = setup();
    conn.receive(chat(`${BOB}/phone`, 'meeting at noon', { originId: 'o1', stanzaId: 's1' }));
    conn.receive(x('message', NS.CLIENT, { from: 'mallory@example.test/x', type: 'chat' }, x('body', NS.CLIENT, {}, 'hacked'), x('replace', NS.CORRECT, { id: 'o1' })));
    conn.receive(chat(`${BOB}/phone`, '会议改到三点', { originId: 'o2', children: [x('replace', NS.CORRECT, { id: 'o1' })] }));
    await settle(store);

    const [corrected] = await store.newestPage(BOB, 10);
    expect(corrected?.body).toBe('会议改到三点');
    expect(corrected?.editedAt).toBeDefined();
    expect((await store.search('会议')).messages.map((m) => m.key)).toEqual([corrected?.key]);
    expect((await store.search('noon')).messages).toEqual([]);

    conn.receive(chat(`${BOB}/phone`, 'fallback', { originId: 'o3', children: [x('retract', NS.RETRACT, { id: 'o1' })] }));
    await settle(store);
    const [retracted] = await store.newestPage(BOB, 10);
    expect(retracted?.retractedAt).toBeDefined();
    expect(retracted?.body).toBe('');
    expect((await store.search('会议')).messages).toEqual([]);
  });

  it('searches the server archive only while online', async () => {
    const { conn, store } = setup();
    conn.receive(chat(`${BOB}/phone`, 'quarterly report', { originId: 'o1', stanzaId: 's1' }));
    await settle(store);
    let fulltextQueries = 0;
    conn.iqHandler = (request) => {
      const form = request.getChild('query', NS.MAM)?.toString() ?? '';
      if (form.includes('fulltext')) fulltextQueries++;
      return x('iq', NS.CLIENT, { type: 'result' }, x('fin', NS.MAM, { complete: 'true' }));
    };

    await conn.stop();
    const offline = await store.search('quarterly', { server: true });
    expect(offline.messages.map((m) => m.body)).toEqual(['quarterly report']);
    expect(fulltextQueries).toBe(0);

    await conn.start();
    await store.search('quarterly', { server: true });
    expect(fulltextQueries).toBe(1);
  });

  it('applies a moderation only when the room itself announces it', async () => {
    const { conn, store } = setup();
    const groupchat = (from: string, ...children: XElement[]): XElement => x('message', NS.CLIENT, { from, type: 'groupchat' }, ...children);
    conn.receive(groupchat(`${ROOM}/bob`, x('body', NS.CLIENT, {}, 'rude'), x('stanza-id', NS.SID, { by: ROOM, id: 'r1' })));
    const retract = (): XElement => x('retract', NS.RETRACT, { id: 'r1' }, x('moderated', NS.MODERATE, { by: `${ROOM}/mod` }));
    conn.receive(groupchat(`${ROOM}/carol`, retract()));
    await settle(store);
    expect((await store.newestPage(ROOM, 1))[0]?.retractedAt).toBeUndefined();

    conn.receive(groupchat(ROOM, retract()));
    await settle(store);
    const [row] = await store.newestPage(ROOM, 1);
    expect(row?.retractedAt).toBeDefined();
    expect(row?.moderatedBy).toBe(`${ROOM}/mod`);
  });
});

describe('paging', () => {
  it('reads the newest page and older pages from IndexedDB without the archive', async () => {
    const { conn, store, db } = setup();
    const rows: Message[] = [];
    for (let i = 0; i < 120; i++) {
      rows.push({ key: `${String(1000 + i).padStart(15, '0')}~s${i}`, conversation: BOB, kind: 'chat', direction: 'in', from: BOB, body: `m${i}`, timestamp: 1000 + i, stanzaId: `s${String(i).padStart(4, '0')}`, state: 'received', tokens: [] });
    }
    await db.messages.bulkPut(rows);
    await db.conversations.put({ jid: BOB, kind: 'chat', preview: '', lastActivity: 1119, unread: 0, pinned: 0, mutedUntil: 0, archived: false, reachedBeginning: true, oldestFetched: 's0000', newestFetched: 's0119' });

    const newest = await store.newestPage(BOB, 50);
    expect(bodies(newest)).toEqual(rows.slice(70).map((row) => row.body));
    const older = await store.olderPage(BOB, newest[0]!, 50);
    expect(bodies(older)).toEqual(rows.slice(20, 70).map((row) => row.body));
    const oldest = await store.olderPage(BOB, older[0]!, 50);
    expect(bodies(oldest)).toEqual(rows.slice(0, 20).map((row) => row.body));
    expect(conn.sent).toEqual([]);
  });

  it('lists pinned conversations first, then by last activity', async () => {
    const { store, db } = setup();
    const base = { kind: 'chat' as const, preview: '', unread: 0, mutedUntil: 0, archived: false, reachedBeginning: false };
    await db.conversations.bulkPut([
      { ...base, jid: 'a@example.test', lastActivity: 10, pinned: 0 },
      { ...base, jid: 'b@example.test', lastActivity: 30, pinned: 0 },
      { ...base, jid: 'c@example.test', lastActivity: 5, pinned: 1 },
    ]);
    expect((await store.conversations(10)).map((c) => c.jid)).toEqual(['c@example.test', 'b@example.test', 'a@example.test']);
    expect((await store.conversations(2)).map((c) => c.jid)).toEqual(['c@example.test', 'b@example.test']);
  });
});

describe('own messages', () => {
  it('moves sending -> sent -> delivered -> read', async () => {
    const { conn, store } = setup();
    const first = await store.send(BOB, 'one', 'chat');
    const second = await store.send(BOB, 'two', 'chat');
    expect(first.state).toBe('sending');
    await settle(store);
    expect(conn.acked).toHaveLength(2);

    conn.ackAll();
    await settle(store);
    expect((await store.newestPage(BOB, 10)).map((m) => m.state)).toEqual(['sent', 'sent']);

    conn.receive(x('message', NS.CLIENT, { from: `${BOB}/phone`, to: `${ME}/web` }, x('received', NS.RECEIPTS, { id: first.msgId })));
    await settle(store);
    expect((await store.newestPage(BOB, 10)).map((m) => m.state)).toEqual(['delivered', 'sent']);

    conn.receive(x('message', NS.CLIENT, { from: `${BOB}/phone`, type: 'chat' }, x('displayed', NS.MARKERS, { id: second.msgId })));
    await settle(store);
    expect((await store.newestPage(BOB, 10)).map((m) => m.state)).toEqual(['read', 'read']);
  });

  it('sends a correction with a reference to the origin-id', async () => {
    const { conn, store } = setup();
    const message = await store.send(BOB, 'helo', 'chat');
    await store.correct(message, 'hello');
    await settle(store);
    const correction = conn.sent.at(-1)!;
    expect(correction.getChild('replace', NS.CORRECT)?.attr('id')).toBe(message.originId);
    expect((await store.newestPage(BOB, 1))[0]?.body).toBe('hello');
  });
});

describe('the conversation preview', () => {
  it('follows an own correction and shows the deleted marker after an own retraction', async () => {
    const { store, db } = setup();
    await store.send(BOB, 'first', 'chat');
    const last = await store.send(BOB, 'helo', 'chat');
    await store.correct(last, 'hello');
    expect(await db.conversations.get(BOB)).toMatchObject({ preview: 'hello' });

    await store.retract(last);
    expect(await db.conversations.get(BOB)).toMatchObject({ preview: '', previewRetracted: true });

    await store.send(BOB, 'again', 'chat');
    const row = await db.conversations.get(BOB);
    expect(row?.preview).toBe('again');
    expect(row?.previewRetracted).toBeUndefined();
  });

  it('shows the same marker on the receiving side, and in an archived tombstone', async () => {
    const { conn, store, db } = setup();
    conn.receive(chat(`${BOB}/phone`, 'secret', { originId: 'o1', stanzaId: 's1' }));
    conn.receive(chat(`${BOB}/phone`, 'fallback', { originId: 'o2', children: [x('retract', NS.RETRACT, { id: 'o1' })] }));
    await settle(store);
    expect(await db.conversations.get(BOB)).toMatchObject({ preview: '', previewRetracted: true });

    conn.receive(chat(`${BOB}/phone`, 'next', { originId: 'o3', stanzaId: 's3' }));
    await settle(store);
    expect((await db.conversations.get(BOB))?.previewRetracted).toBeUndefined();

    conn.receive(chat(`${BOB}/phone`, undefined, { stanzaId: 's4', children: [x('retracted', NS.RETRACT, { id: 'r4' })] }));
    await settle(store);
    expect(await db.conversations.get(BOB)).toMatchObject({ preview: '', previewRetracted: true });
  });
});

describe('group names', () => {
  it('are stored for the room and its conversation, so they show without the network', async () => {
    const { conn, store, db } = setup();
    await store.setRoomName(ROOM, 'Launch team');
    conn.receive(x('message', NS.CLIENT, { from: `${ROOM}/bob`, type: 'groupchat' }, x('body', NS.CLIENT, {}, 'hi all'), x('stanza-id', NS.SID, { by: ROOM, id: 'g1' })));
    await settle(store);
    expect(await db.conversations.get(ROOM)).toMatchObject({ name: 'Launch team', preview: 'hi all' });

    await store.setRoomName(ROOM, 'Launch crew');
    expect((await db.rooms.get(ROOM))?.name).toBe('Launch crew');
    expect((await db.conversations.get(ROOM))?.name).toBe('Launch crew');
  });
});

describe('the outbox', () => {
  it('survives a reload and goes out again with the same origin-id, once', async () => {
    const first = setup();
    const message = await first.store.send(BOB, 'written offline', 'chat');
    await settle(first.store);
    first.conn.loseSession();
    await settle(first.store);
    const originId = first.conn.sent[0]?.getChild('origin-id', NS.SID)?.attr('id');
    expect(originId).toBe(message.originId);
    first.store.close();
    first.db.close();
    stores.length = 0;
    dbs.length = 0;

    // A reload: a new database connection and a new store on the same account.
    const second = setup();
    expect(await second.store.outboxSize()).toBe(1);
    await settle(second.store);
    expect(second.conn.sent.map((s) => s.getChild('origin-id', NS.SID)?.attr('id'))).toEqual([originId]);
    expect((await second.store.newestPage(BOB, 1))[0]?.state).toBe('sending');

    second.conn.ackAll();
    await settle(second.store);
    expect(await second.store.outboxSize()).toBe(0);
    expect((await second.store.newestPage(BOB, 1))[0]?.state).toBe('sent');

    second.conn.goOnline(false);
    await settle(second.store);
    expect(second.conn.sent.filter((s) => s.getChild('body', NS.CLIENT))).toHaveLength(1);
  });

  it('re-sends in order after the session is lost', async () => {
    const { conn, store } = setup();
    for (const body of ['a', 'b', 'c']) await store.send(BOB, body, 'chat');
    await settle(store);
    conn.loseSession();
    await settle(store);
    conn.sent.length = 0;
    conn.goOnline(false);
    await settle(store);
    expect(conn.sent.filter((s) => s.name === 'message').map((s) => s.getChildText('body', NS.CLIENT))).toEqual(['a', 'b', 'c']);
  });
});

describe('inbox pushes', () => {
  it('take unread counts and read positions from the server', async () => {
    const { conn, store, changes } = setup();
    const push = x(
      'message',
      NS.CLIENT,
      { from: ME, to: `${ME}/web` },
      x(
        'result',
        NS.INBOX,
        { unread: 3 },
        x('forwarded', NS.FORWARD, {}, x('delay', NS.DELAY, { stamp: '2026-12-05T10:00:00.000Z' }), chat(`${BOB}/phone`, 'Lunch?')),
        x('archive', NS.INBOX, {}, 'false'),
        x('mute', NS.INBOX, {}, 'forever'),
        x('conversation', NS.PARLEY_INBOX, { jid: BOB, kind: 'chat', 'last-id': 's9', 'read-id': 's6', pinned: 'true' }),
      ),
    );
    conn.receive(push);
    conn.receive(x('message', NS.CLIENT, { from: 'mallory@example.test' }, push.getChild('result', NS.INBOX)!.clone()));
    await settle(store);

    const conversation = await store.conversation(BOB);
    expect(conversation).toMatchObject({ unread: 3, readStanzaId: 's6', lastStanzaId: 's9', pinned: 1, mutedUntil: Number.POSITIVE_INFINITY, preview: 'Lunch?' });
    expect(changes).toContainEqual({ type: 'conversation', jid: BOB });
    expect(await store.conversation('mallory@example.test')).toBeUndefined();
  });

  it('show a tombstone as the deleted marker', async () => {
    const { conn, store } = setup();
    const entry = (stamp: string, message: XElement, lastId: string): XElement =>
      x('message', NS.CLIENT, { from: ME, to: `${ME}/web` }, x('result', NS.INBOX, { unread: 0 }, x('forwarded', NS.FORWARD, {}, x('delay', NS.DELAY, { stamp }), message), x('conversation', NS.PARLEY_INBOX, { jid: BOB, kind: 'chat', 'last-id': lastId })));
    conn.receive(entry('2026-12-05T10:00:00.000Z', chat(`${BOB}/phone`, 'Lunch?'), 's1'));
    await settle(store);
    expect(await store.conversation(BOB)).toMatchObject({ preview: 'Lunch?' });

    conn.receive(entry('2026-12-05T10:00:00.000Z', chat(`${BOB}/phone`, undefined, { children: [x('retracted', NS.RETRACT, { id: 'r1' })] }), 's1'));
    await settle(store);
    expect(await store.conversation(BOB)).toMatchObject({ preview: '', previewRetracted: true });

    conn.receive(entry('2026-12-05T10:01:00.000Z', chat(`${BOB}/phone`, 'Never mind'), 's2'));
    await settle(store);
    const conversation = await store.conversation(BOB);
    expect(conversation?.preview).toBe('Never mind');
    expect(conversation?.previewRetracted).toBeUndefined();
  });

  it('ignore a push from offline storage', async () => {
    const { conn, store } = setup();
    const entry = (unread: number): XElement =>
      x('result', NS.INBOX, { unread }, x('conversation', NS.PARLEY_INBOX, { jid: BOB, kind: 'chat', 'last-id': 's9', pinned: 'false' }));
    conn.receive(x('message', NS.CLIENT, { from: ME }, entry(4)));
    conn.receive(x('message', NS.CLIENT, { from: ME }, entry(1), x('delay', NS.DELAY, { stamp: '2026-12-05T09:00:00.000Z', from: 'example.test' })));
    await settle(store);
    expect((await store.conversation(BOB))?.unread).toBe(4);
  });

  it('markRead sends a durable displayed marker with the message id', async () => {
    const { conn, store } = setup();
    conn.receive(chat(`${BOB}/phone`, 'read me', { id: 'm7', stanzaId: 's7' }));
    await settle(store);
    await store.markRead(BOB, 's7');
    await settle(store);
    const marker = conn.sent.find((stanza) => stanza.getChild('displayed', NS.MARKERS));
    expect(marker?.getChild('displayed', NS.MARKERS)?.attr('id')).toBe('m7');
    expect(await store.outboxSize()).toBe(1);
    expect((await store.conversation(BOB))?.readStanzaId).toBe('s7');

    await store.markRead(BOB, 's7');
    expect(await store.outboxSize()).toBe(1);
  });
});
