import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatStore } from './chat-store.js';
import { NS } from './ns.js';
import { openAccountDb, type ParleyDb } from './schema.js';
import type { LockManagerLike } from './tabs.js';
import { TestConnection } from './test-connection.js';
import type { DataChange } from './types.js';

const ME = 'tabs@example.test';
const BOB = 'bob@example.test';

/** Exclusive locks granted in request order, as the Web Locks API grants them. */
class Locks implements LockManagerLike {
  private readonly tails = new Map<string, Promise<unknown>>();

  request(name: string, callback: () => Promise<void>): Promise<unknown> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    const held = previous.then(() => callback());
    this.tails.set(name, held.catch(() => undefined));
    return held;
  }
}

const dbs: ParleyDb[] = [];
const stores: ChatStore[] = [];

function tab(locks: Locks): { conn: TestConnection; store: ChatStore; changes: DataChange[] } {
  const db = openAccountDb(ME);
  const conn = new TestConnection(ME);
  const store = new ChatStore(db, conn, { locks });
  const changes: DataChange[] = [];
  store.subscribe((change) => changes.push(change));
  dbs.push(db);
  stores.push(store);
  return { conn, store, changes };
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

afterEach(async () => {
  for (const store of stores.splice(0)) store.close();
  for (const db of dbs.splice(0)) db.close();
  const cleanup = openAccountDb(ME);
  await cleanup.delete();
});

describe('tabs of one account', () => {
  it('make one store active', async () => {
    const locks = new Locks();
    const first = tab(locks);
    const second = tab(locks);
    await until(() => first.store.isActive, 'the first tab to become active');
    expect(second.store.isActive).toBe(false);
  });

  it('send through the active tab', async () => {
    const locks = new Locks();
    const first = tab(locks);
    const second = tab(locks);
    await until(() => first.store.isActive, 'the first tab to become active');

    const message = await second.store.send(BOB, 'from the passive tab', 'chat');
    await until(() => first.conn.sent.length === 1, 'the active tab to send');
    expect(first.conn.sent[0]?.getChild('origin-id', NS.SID)?.attr('id')).toBe(message.originId);
    expect(second.conn.sent).toEqual([]);
  });

  it('share changes between tabs', async () => {
    const locks = new Locks();
    const first = tab(locks);
    const second = tab(locks);
    const message = await first.store.send(BOB, 'hello', 'chat');
    await until(() => second.changes.some((change) => change.type === 'messages' && change.keys.includes(message.key)), 'the change in the other tab');
  });

  it('hand over when the active tab closes', async () => {
    const locks = new Locks();
    const first = tab(locks);
    const second = tab(locks);
    await until(() => first.store.isActive, 'the first tab to become active');
    await first.store.send(BOB, 'waiting', 'chat');
    await until(() => first.conn.sent.length === 1, 'the first send');

    first.store.close();
    await until(() => second.store.isActive, 'the second tab to take over');
    await until(() => second.conn.sent.length === 1, 'the re-send from the new active tab');
    expect(second.conn.sent[0]?.getChildText('body', NS.CLIENT)).toBe('waiting');
  });
});
