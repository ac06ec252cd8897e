import 'fake-indexeddb/auto';
import { Dexie } from 'dexie';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_V1, SCHEMA_VERSION, accountDbName, deleteAccountDb, openAccountDb, type ParleyDb } from './schema.js';
import type { Message } from './types.js';

const opened: ParleyDb[] = [];

function open(jid: string): ParleyDb {
  const db = openAccountDb(jid);
  opened.push(db);
  return db;
}

afterEach(async () => {
  for (const db of opened.splice(0)) {
    db.close();
    await db.delete();
  }
});

function message(conversation: string, key: string, body: string): Message {
  return { key, conversation, kind: 'chat', direction: 'in', from: conversation, body, timestamp: 1, state: 'received', tokens: [] };
}

describe('the account database', () => {
  it('is named after the bare JID, case-insensitively', () => {
    expect(accountDbName('Alice@Example.Test/phone')).toBe('parley:alice@example.test');
    expect(() => accountDbName('example.test')).toThrow();
  });

  it('keeps one account\'s rows invisible to another on the same browser', async () => {
    const alice = open('alice@example.test');
    const bob = open('bob@example.test');
    await alice.messages.put(message('carol@example.test', 'k1', 'secret'));
    await alice.conversations.put({ jid: 'carol@example.test', kind: 'chat', preview: 'secret', lastActivity: 1, unread: 1, pinned: 0, mutedUntil: 0, archived: false, reachedBeginning: false });

    expect(await alice.messages.count()).toBe(1);
    expect(await bob.messages.count()).toBe(0);
    expect(await bob.conversations.count()).toBe(0);
    expect(alice.name).not.toBe(bob.name);
  });

  it('deletes an account\'s database on sign-out and leaves the others', async () => {
    const alice = open('alice@example.test');
    const bob = open('bob@example.test');
    await alice.messages.put(message('carol@example.test', 'k1', 'hello'));
    await bob.messages.put(message('carol@example.test', 'k1', 'hello'));
    alice.close();

    await deleteAccountDb('alice@example.test');
    expect(await Dexie.exists(accountDbName('alice@example.test'))).toBe(false);
    expect(await bob.messages.count()).toBe(1);
  });

  it('upgrades a version 1 database and fills the search index', async () => {
    const name = accountDbName('dave@example.test');
    const v1 = new Dexie(name);
    v1.version(1).stores(SCHEMA_V1);
    await v1.table('messages').put({ ...message('erin@example.test', 'k1', '今天的会议改到三点'), tokens: undefined });
    v1.close();

    const db = open('dave@example.test');
    await db.open();
    expect(db.verno).toBe(SCHEMA_VERSION);
    const hits = await db.messages.where('tokens').equals('会议').toArray();
    expect(hits.map((hit) => hit.key)).toEqual(['k1']);
  });

  it('rejects a second message with the same stanza id in one conversation', async () => {
    const db = open('alice@example.test');
    await db.messages.put({ ...message('carol@example.test', 'k1', 'one'), stanzaId: 's1' });
    await expect(db.messages.put({ ...message('carol@example.test', 'k2', 'two'), stanzaId: 's1' })).rejects.toThrow();
    await db.messages.put({ ...message('dave@example.test', 'k3', 'three'), stanzaId: 's1' });
    expect(await db.messages.count()).toBe(2);
  });
});
