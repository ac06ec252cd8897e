import 'fake-indexeddb/auto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { messageKey } from './message-store.js';
import { openAccountDb, type ParleyDb } from './schema.js';
import { searchLocal } from './search.js';
import { tokenize } from './tokens.js';
import type { Message } from './types.js';

let db: ParleyDb;

function row(conversation: string, i: number, body: string): Message {
  return { key: messageKey(1000 + i, `s${i}`), conversation, kind: 'chat', direction: 'in', from: conversation, body, timestamp: 1000 + i, state: 'received', tokens: tokenize(body) };
}

beforeEach(async () => {
  db = openAccountDb('search@example.test');
  const rows: Message[] = [];
  for (let i = 0; i < 300; i++) {
    const conversation = i % 2 === 0 ? 'bob@example.test' : 'carol@example.test';
    const body = i % 10 === 0 ? `今天的会议改到三点 #${i}` : `ordinary chatter ${i}`;
    rows.push(row(conversation, i, body));
  }
  rows.push({ ...row('bob@example.test', 400, '会议 retracted'), retractedAt: 1 });
  await db.messages.bulkPut(rows);
});

afterEach(async () => {
  db.close();
  await db.delete();
});

describe('local search', () => {
  it('finds a CJK word inside a sentence, newest first, page by page', async () => {
    const first = await searchLocal(db, '会议', { limit: 20 });
    expect(first.messages.map((m) => m.body)).toEqual(Array.from({ length: 20 }, (_, n) => `今天的会议改到三点 #${290 - n * 10}`));
    expect(first.nextBefore).toBe(first.messages[19]?.key);

    const second = await searchLocal(db, '会议', { limit: 20, beforeKey: first.nextBefore });
    expect(second.messages.map((m) => m.body)).toEqual(Array.from({ length: 10 }, (_, n) => `今天的会议改到三点 #${90 - n * 10}`));
    expect(second.nextBefore).toBeUndefined();
  });

  it('narrows to one conversation and needs every query word', async () => {
    const hits = await searchLocal(db, 'chatter 13', { conversation: 'carol@example.test' });
    expect(hits.messages.map((m) => m.body)).toEqual(['ordinary chatter 139', 'ordinary chatter 137', 'ordinary chatter 135', 'ordinary chatter 133', 'ordinary chatter 131', 'ordinary chatter 13']);
    expect((await searchLocal(db, 'chatter 13', { conversation: 'bob@example.test' })).messages.map((m) => m.body)).toEqual(['ordinary chatter 138', 'ordinary chatter 136', 'ordinary chatter 134', 'ordinary chatter 132']);
  });

  it('matches typed prefixes and finds nothing for an empty query', async () => {
    expect((await searchLocal(db, 'ordin', { limit: 3 })).messages).toHaveLength(3);
    expect((await searchLocal(db, '  ,, ')).messages).toEqual([]);
  });
});
