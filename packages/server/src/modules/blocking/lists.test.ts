import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JID } from '@parley/xmpp';
import { type Storage, openStorage } from '../../storage/index.js';
import { BlockLists } from './lists.js';

const ALICE = JID.parse('alice@example.test');
const MALLORY = JID.parse('mallory@example.test/phone');

let dir: string;
let storage: Storage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-blocklists-'));
  storage = await openStorage({ driver: 'sqlite', path: join(dir, 'parley.db') });
  await storage.accounts.create('example.test', 'alice', []);
  await storage.accounts.create('example.test', 'bob', []);
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('BlockLists', () => {
  it('block takes effect after a cached read', async () => {
    const lists = new BlockLists(storage.blocklist);
    await lists.blocks(ALICE, MALLORY);
    await lists.block(ALICE, [MALLORY.bare()]);
    expect(await lists.blocks(ALICE, MALLORY)).toBe(true);
  });

  it('unblock takes effect after a cached read', async () => {
    const lists = new BlockLists(storage.blocklist);
    await lists.block(ALICE, [MALLORY.bare()]);
    await lists.blocks(ALICE, MALLORY);
    await lists.unblock(ALICE, [MALLORY.bare()]);
    expect(await lists.blocks(ALICE, MALLORY)).toBe(false);
  });

  it('block returns new items once', async () => {
    const lists = new BlockLists(storage.blocklist);
    await lists.block(ALICE, [MALLORY.bare()]);
    expect(await lists.block(ALICE, [MALLORY.bare(), MALLORY.bare()])).toEqual([]);
  });

  it('unblockAll returns the items', async () => {
    const lists = new BlockLists(storage.blocklist);
    await lists.block(ALICE, [MALLORY.bare(), JID.parse('evil.test')]);
    expect((await lists.unblockAll(ALICE)).map(String)).toEqual(['evil.test', 'mallory@example.test']);
  });

  it('reads the stored list after eviction', async () => {
    const lists = new BlockLists(storage.blocklist, 1);
    await lists.block(ALICE, [MALLORY.bare()]);
    await lists.blocks(ALICE, MALLORY);
    await lists.blocks(JID.parse('bob@example.test'), MALLORY);
    expect(await lists.blocks(ALICE, MALLORY)).toBe(true);
  });

  it('keeps accounts apart', async () => {
    const lists = new BlockLists(storage.blocklist);
    await lists.block(ALICE, [MALLORY.bare()]);
    expect(await lists.blocks(JID.parse('bob@example.test'), MALLORY)).toBe(false);
  });
});
