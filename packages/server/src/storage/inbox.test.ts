import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import type { InboxConversation, InboxFilter, InboxMessage, InboxOwner, Storage } from './index.js';
import { InboxRepository, inboxCursor, parseInboxCursor } from './inbox.js';

const HOST = 'example.test';
const SERVICE = 'conference.example.test';
const BOB: InboxOwner = { host: HOST, username: 'bob' };
const ALICE_CHAT: InboxConversation = { jid: 'alice@example.test', kind: 'chat' };
const ALL: InboxFilter = { box: 'all', hiddenRead: false, order: 'desc' };

let dir: string;
let storage: Storage;
/** The repository whose writes a test runs: the storage's own (prepared statements on SQLite) unless a test picks the Kysely one. */
let writer: InboxRepository;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-inbox-'));
  storage = await openTestStorage(join(dir, 'parley.db'));
  for (const username of ['alice', 'bob', 'carol']) await storage.accounts.create(HOST, username, []);
  writer = storage.inbox;
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

function message(stanzaId: string, overrides: Partial<InboxMessage> = {}): InboxMessage {
  return { stanzaId, at: 1000, sender: 'alice@example.test', messageId: `m-${stanzaId}`, stanza: `<message id='m-${stanzaId}'/>`, ...overrides };
}

function add(conversation: InboxConversation, msg: InboxMessage, unread = true, owner = BOB): Promise<void> {
  return storage.db.transaction().execute((trx) => writer.addMessage(trx, owner, conversation, msg, unread));
}

function moveRead(conversation: InboxConversation, stanzaId: string, owner = BOB): Promise<number | undefined> {
  return storage.db.transaction().execute((trx) => writer.moveRead(trx, owner, conversation, stanzaId));
}

async function unread(conversation = ALICE_CHAT, owner = BOB): Promise<number | undefined> {
  return (await storage.inbox.get(owner, conversation.jid))?.unread;
}

describe.each(['prepared statements', 'Kysely'])('InboxRepository counting with %s', (path) => {
  beforeEach(() => {
    if (path === 'Kysely') writer = new InboxRepository(storage.db);
  });

  it('counts each message once', async () => {
    await add(ALICE_CHAT, message('a1'));
    await add(ALICE_CHAT, message('a1'));
    await add(ALICE_CHAT, message('a2'));
    expect(await unread()).toBe(2);
  });

  it('does not count messages marked as not unread', async () => {
    await add(ALICE_CHAT, message('a1'), false);
    expect(await unread()).toBe(0);
    expect((await storage.inbox.get(BOB, ALICE_CHAT.jid))?.lastStanzaId).toBe('a1');
  });

  it('never counts at or below the read position', async () => {
    await moveRead(ALICE_CHAT, 'a5');
    await add(ALICE_CHAT, message('a3'));
    await add(ALICE_CHAT, message('a5'));
    expect(await unread()).toBe(0);
    await add(ALICE_CHAT, message('a6'));
    expect(await unread()).toBe(1);
  });

  it('moves the read position forward only', async () => {
    for (const id of ['a1', 'a2', 'a3']) await add(ALICE_CHAT, message(id));
    expect(await moveRead(ALICE_CHAT, 'a2')).toBe(2);
    expect(await unread()).toBe(1);
    expect(await moveRead(ALICE_CHAT, 'a2')).toBeUndefined();
    expect(await moveRead(ALICE_CHAT, 'a1')).toBeUndefined();
    expect((await storage.inbox.get(BOB, ALICE_CHAT.jid))?.readId).toBe('a2');
    expect(await unread()).toBe(1);
  });

  it('keeps the newest message as the last one', async () => {
    await add(ALICE_CHAT, message('a2', { at: 2000 }));
    await add(ALICE_CHAT, message('a1', { at: 1000 }));
    const entry = await storage.inbox.get(BOB, ALICE_CHAT.jid);
    expect(entry?.lastStanzaId).toBe('a2');
    expect(entry?.lastAt).toBe(2000);
  });

  it('removes an unread message only for its sender', async () => {
    await add(ALICE_CHAT, message('a1', { originId: 'o1' }));
    await add(ALICE_CHAT, message('a2'));
    const removeBy = (sender: string, ref: string) =>
      storage.db.transaction().execute((trx) => storage.inbox.removeUnread(trx, BOB, ALICE_CHAT.jid, sender, ref));
    expect(await removeBy('mallory@example.test', 'o1')).toBe(0);
    expect(await removeBy('alice@example.test', 'o1')).toBe(1);
    expect(await removeBy('alice@example.test', 'o1')).toBe(0);
    expect(await unread()).toBe(1);
  });

  it('moves an archived entry back to the inbox on an unread message', async () => {
    await add(ALICE_CHAT, message('a1'));
    await storage.inbox.setFlags(BOB, ALICE_CHAT.jid, { archived: true });
    await add(ALICE_CHAT, message('a2'), false);
    expect((await storage.inbox.get(BOB, ALICE_CHAT.jid))?.archived).toBe(true);
    await add(ALICE_CHAT, message('a3'));
    expect((await storage.inbox.get(BOB, ALICE_CHAT.jid))?.archived).toBe(false);
  });
});

describe('InboxRepository pages', () => {
  async function fill(count: number): Promise<void> {
    for (let i = 1; i <= count; i++) {
      await add({ jid: `c${i}@example.test`, kind: 'chat' }, message(`id${i}`, { at: i * 1000, sender: `c${i}@example.test` }));
    }
  }

  it('lists newest activity first', async () => {
    await fill(5);
    const page = await storage.inbox.page(BOB, ALL, { max: 2 });
    expect(page.entries.map((entry) => entry.conversation)).toEqual(['c5@example.test', 'c4@example.test']);
    expect(page.count).toBe(5);
    expect(page.unreadCount).toBe(5);
    expect(page.activeCount).toBe(5);
    expect(page.firstIndex).toBe(0);
  });

  it('pages forward and back by uid', async () => {
    await fill(5);
    const first = await storage.inbox.page(BOB, ALL, { max: 2 });
    const second = await storage.inbox.page(BOB, ALL, { max: 2, after: first.uids.at(-1)! });
    expect(second.entries.map((entry) => entry.conversation)).toEqual(['c3@example.test', 'c2@example.test']);
    const back = await storage.inbox.page(BOB, ALL, { max: 2, before: second.uids[0]! });
    expect(back.entries.map((entry) => entry.conversation)).toEqual(['c5@example.test', 'c4@example.test']);
    const last = await storage.inbox.page(BOB, ALL, { max: 2, before: '' });
    expect(last.entries.map((entry) => entry.conversation)).toEqual(['c2@example.test', 'c1@example.test']);
  });

  it('filters by box, time and unread', async () => {
    await fill(3);
    await storage.inbox.setFlags(BOB, 'c2@example.test', { archived: true });
    await moveRead({ jid: 'c3@example.test', kind: 'chat' }, 'id3');
    const names = async (filter: Partial<InboxFilter>) =>
      (await storage.inbox.page(BOB, { ...ALL, ...filter }, { max: 10 })).entries.map((entry) => entry.conversation);
    expect(await names({ box: 'archive' })).toEqual(['c2@example.test']);
    expect(await names({ box: 'inbox' })).toEqual(['c3@example.test', 'c1@example.test']);
    expect(await names({ hiddenRead: true })).toEqual(['c2@example.test', 'c1@example.test']);
    expect(await names({ start: 2000, end: 3000, order: 'asc' })).toEqual(['c2@example.test', 'c3@example.test']);
  });

  it('leaves out entries without a message', async () => {
    await moveRead(ALICE_CHAT, 'a1');
    expect((await storage.inbox.page(BOB, ALL, { max: 10 })).count).toBe(0);
  });

  it('round-trips cursors', () => {
    const uid = inboxCursor({ lastAt: 42, conversation: 'room@conference.example.test' });
    expect(parseInboxCursor(uid)).toEqual({ at: 42, conversation: 'room@conference.example.test' });
    expect(parseInboxCursor('nonsense')).toBeUndefined();
    expect(parseInboxCursor(':x')).toBeUndefined();
  });
});

describe('InboxRepository lifetimes', () => {
  it('returns read positions of the owners asked for', async () => {
    const room: InboxConversation = { jid: `coven@${SERVICE}`, kind: 'chat' };
    await moveRead(room, 'r5', BOB);
    await moveRead(room, 'r2', { host: HOST, username: 'carol' });
    const positions = await storage.inbox.readPositions(HOST, room.jid, ['bob@example.test', 'carol@example.test', 'alice@example.test', 'bob@other.test']);
    expect([...positions.entries()].sort()).toEqual([
      ['bob@example.test', 'r5'],
      ['carol@example.test', 'r2'],
    ]);
  });

  it('goes with the account', async () => {
    await add(ALICE_CHAT, message('a1'));
    await storage.accounts.delete(HOST, 'bob');
    await storage.accounts.create(HOST, 'bob', []);
    expect(await storage.inbox.get(BOB, ALICE_CHAT.jid)).toBeUndefined();
    const rows = await storage.db.selectFrom('inbox_unread').selectAll().execute();
    expect(rows).toEqual([]);
  });

  it('goes with the room', async () => {
    await storage.mucRooms.save({
      service: SERVICE,
      name: 'coven',
      persistent: true,
      public: true,
      config: '{}',
      subject: null,
      subjectNick: null,
      subjectAt: null,
      createdBy: 'alice@example.test',
      createdAt: 1,
    });
    const room: InboxConversation = { jid: `coven@${SERVICE}`, kind: 'groupchat', room: { service: SERVICE, name: 'coven' } };
    await add(room, message('r1'));
    expect(await unread(room)).toBe(1);
    await storage.mucRooms.delete(SERVICE, 'coven');
    expect(await storage.inbox.get(BOB, room.jid)).toBeUndefined();
  });
});
