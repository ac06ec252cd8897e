import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import type { NewUploadSlot, Storage } from './index.js';

const HOST = 'example.test';
const NOW = 1_700_000_000_000;

let dir: string;
let storage: Storage;

function slot(id: string, size: number, username = 'alice', createdAt = NOW): NewUploadSlot {
  return { id, host: HOST, username, filename: `${id}.bin`, size, contentType: 'application/octet-stream', secretHash: `hash-${id}`, createdAt, slotExpiresAt: createdAt + 300_000 };
}

async function storedFile(id: string, size: number, storedAt: number, username = 'alice'): Promise<void> {
  await storage.uploads.createSlot(slot(id, size, username, storedAt));
  expect(await storage.uploads.claim(id, storedAt)).toBe(true);
  await storage.uploads.markStored(id, storedAt);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-uploads-'));
  storage = await openTestStorage(join(dir, 'parley.db'));
  await storage.accounts.create(HOST, 'alice', []);
  await storage.accounts.create(HOST, 'bob', []);
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('UploadRepository', () => {
  it('creates a slot and reads it back', async () => {
    await storage.uploads.createSlot(slot('s1', 42));
    expect(await storage.uploads.get('s1')).toEqual({ ...slot('s1', 42), state: 'slot', storedAt: null });
    expect(await storage.uploads.get('missing')).toBeUndefined();
  });

  it('lets one claim take a slot, within its lifetime only', async () => {
    await storage.uploads.createSlot(slot('s1', 1));
    expect(await storage.uploads.claim('s1', NOW + 300_000)).toBe(false);
    expect(await storage.uploads.claim('s1', NOW + 1)).toBe(true);
    expect(await storage.uploads.claim('s1', NOW + 2)).toBe(false);

    await storage.uploads.release('s1');
    expect((await storage.uploads.get('s1'))?.state).toBe('slot');
    expect(await storage.uploads.claim('s1', NOW + 3)).toBe(true);
    await storage.uploads.markStored('s1', NOW + 4);
    expect(await storage.uploads.get('s1')).toMatchObject({ state: 'stored', storedAt: NOW + 4 });
    expect(await storage.uploads.claim('s1', NOW + 5)).toBe(false);
  });

  it('counts stored files, uploads and live slots of one account', async () => {
    await storedFile('f1', 100, NOW);
    await storage.uploads.createSlot(slot('live', 10));
    await storage.uploads.createSlot(slot('dead', 1000, 'alice', NOW - 600_000));
    await storedFile('b1', 5000, NOW, 'bob');
    expect(await storage.uploads.reservedBytes(HOST, 'alice', NOW)).toBe(110);
    expect(await storage.uploads.reservedBytes(HOST, 'carol', NOW)).toBe(0);
    expect(await storage.uploads.storedFiles(HOST, 'alice')).toEqual([{ size: 100, storedAt: NOW }]);
  });

  it('finds expired files, unused slots and rows of deleted accounts', async () => {
    await storedFile('old', 1, NOW - 10_000);
    await storedFile('new', 1, NOW);
    await storage.uploads.createSlot(slot('unused', 1, 'alice', NOW - 600_000));
    await storedFile('bobs', 1, NOW, 'bob');

    expect(await storage.uploads.storedBefore(NOW - 5000, 10)).toEqual(['old']);
    expect(await storage.uploads.unusedSlots(NOW, 10)).toEqual([{ id: 'unused', state: 'slot' }]);
    expect(await storage.uploads.orphans(10)).toEqual([]);

    await storage.accounts.delete(HOST, 'bob');
    expect(await storage.uploads.orphans(10)).toEqual(['bobs']);
    expect((await storage.uploads.idsOfAccount(HOST, 'alice')).sort()).toEqual(['new', 'old', 'unused']);

    await storage.uploads.delete('old');
    expect(await storage.uploads.get('old')).toBeUndefined();
  });

  it('gives back uploads that were running at a stop', async () => {
    await storage.uploads.createSlot(slot('s1', 1));
    await storage.uploads.claim('s1', NOW);
    expect(await storage.uploads.releaseAll()).toBe(1);
    expect((await storage.uploads.get('s1'))?.state).toBe('slot');
  });
});
