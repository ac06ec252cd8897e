import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import type { Storage } from './index.js';

const HOST = 'example.test';
const USER = 'alice';
const NOW = 1_700_000_000_000;

let dir: string;
let storage: Storage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-blocklist-'));
  storage = await openTestStorage(join(dir, 'parley.db'));
  await storage.accounts.create(HOST, USER, []);
  await storage.accounts.create(HOST, 'bob', []);
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('BlocklistRepository', () => {
  it('list is empty at first', async () => {
    expect(await storage.blocklist.list(HOST, USER)).toEqual([]);
  });

  it('add stores jids', async () => {
    await storage.blocklist.add(HOST, USER, ['mallory@example.test', 'evil.example'], NOW);
    expect(await storage.blocklist.list(HOST, USER)).toEqual(['evil.example', 'mallory@example.test']);
  });

  it('add returns only new jids', async () => {
    await storage.blocklist.add(HOST, USER, ['mallory@example.test'], NOW);
    expect(await storage.blocklist.add(HOST, USER, ['mallory@example.test', 'eve@example.test'], NOW)).toEqual(['eve@example.test']);
  });

  it('add ignores repeats within one call', async () => {
    expect(await storage.blocklist.add(HOST, USER, ['eve@example.test', 'eve@example.test'], NOW)).toEqual(['eve@example.test']);
  });

  it('add keeps accounts apart', async () => {
    await storage.blocklist.add(HOST, USER, ['mallory@example.test'], NOW);
    expect(await storage.blocklist.list(HOST, 'bob')).toEqual([]);
  });

  it('remove returns only blocked jids', async () => {
    await storage.blocklist.add(HOST, USER, ['mallory@example.test'], NOW);
    expect(await storage.blocklist.remove(HOST, USER, ['mallory@example.test', 'eve@example.test'])).toEqual(['mallory@example.test']);
  });

  it('remove deletes jids', async () => {
    await storage.blocklist.add(HOST, USER, ['mallory@example.test', 'eve@example.test'], NOW);
    await storage.blocklist.remove(HOST, USER, ['mallory@example.test']);
    expect(await storage.blocklist.list(HOST, USER)).toEqual(['eve@example.test']);
  });

  it('clear returns every jid', async () => {
    await storage.blocklist.add(HOST, USER, ['mallory@example.test', 'eve@example.test'], NOW);
    expect(await storage.blocklist.clear(HOST, USER)).toEqual(['eve@example.test', 'mallory@example.test']);
  });

  it('clear empties the list', async () => {
    await storage.blocklist.add(HOST, USER, ['mallory@example.test'], NOW);
    await storage.blocklist.clear(HOST, USER);
    expect(await storage.blocklist.list(HOST, USER)).toEqual([]);
  });

  it('account deletion removes rows', async () => {
    await storage.blocklist.add(HOST, USER, ['mallory@example.test'], NOW);
    await storage.accounts.delete(HOST, USER);
    await storage.accounts.create(HOST, USER, []);
    expect(await storage.blocklist.list(HOST, USER)).toEqual([]);
  });
});
