import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import { privateStorageKey } from './index.js';
import type { Storage } from './index.js';

const HOST = 'example.test';
const USER = 'alice';
const BOOKMARKS_KEY = privateStorageKey('storage:bookmarks', 'storage');
const BOOKMARKS = "<storage xmlns='storage:bookmarks'><conference jid='room@muc.example.test'/></storage>";

let dir: string;
let storage: Storage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-private-'));
  storage = await openTestStorage(join(dir, 'parley.db'));
  await storage.accounts.create(HOST, USER, []);
  await storage.accounts.create(HOST, 'bob', []);
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('privateStorageKey', () => {
  it('joins namespace and name', () => {
    expect(privateStorageKey('storage:bookmarks', 'storage')).toBe('storage:bookmarks storage');
  });
});

describe('PrivateStorageRepository', () => {
  it('get returns null when unset', async () => {
    expect(await storage.privateStorage.get(HOST, USER, BOOKMARKS_KEY)).toBeNull();
  });

  it('set stores fragment', async () => {
    await storage.privateStorage.set(HOST, USER, BOOKMARKS_KEY, BOOKMARKS);
    expect(await storage.privateStorage.get(HOST, USER, BOOKMARKS_KEY)).toBe(BOOKMARKS);
  });

  it('set replaces fragment', async () => {
    await storage.privateStorage.set(HOST, USER, BOOKMARKS_KEY, BOOKMARKS);
    await storage.privateStorage.set(HOST, USER, BOOKMARKS_KEY, "<storage xmlns='storage:bookmarks'/>");
    expect(await storage.privateStorage.get(HOST, USER, BOOKMARKS_KEY)).toBe("<storage xmlns='storage:bookmarks'/>");
  });

  it('set keeps keys apart', async () => {
    const otherKey = privateStorageKey('storage:bookmarks', 'other');
    await storage.privateStorage.set(HOST, USER, BOOKMARKS_KEY, BOOKMARKS);
    expect(await storage.privateStorage.get(HOST, USER, otherKey)).toBeNull();
  });

  it('set keeps accounts apart', async () => {
    await storage.privateStorage.set(HOST, USER, BOOKMARKS_KEY, BOOKMARKS);
    expect(await storage.privateStorage.get(HOST, 'bob', BOOKMARKS_KEY)).toBeNull();
  });

  it('delete removes fragment', async () => {
    await storage.privateStorage.set(HOST, USER, BOOKMARKS_KEY, BOOKMARKS);
    await storage.privateStorage.delete(HOST, USER, BOOKMARKS_KEY);
    expect(await storage.privateStorage.get(HOST, USER, BOOKMARKS_KEY)).toBeNull();
  });

  it('delete returns true when stored', async () => {
    await storage.privateStorage.set(HOST, USER, BOOKMARKS_KEY, BOOKMARKS);
    expect(await storage.privateStorage.delete(HOST, USER, BOOKMARKS_KEY)).toBe(true);
  });

  it('delete returns false when unset', async () => {
    expect(await storage.privateStorage.delete(HOST, USER, BOOKMARKS_KEY)).toBe(false);
  });
});
