import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import type { Storage } from './index.js';

const HOST = 'example.test';
const USER = 'alice';
const VCARD = "<vCard xmlns='vcard-temp'><FN>Alice</FN></vCard>";

let dir: string;
let storage: Storage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-vcards-'));
  storage = await openTestStorage(join(dir, 'parley.db'));
  await storage.accounts.create(HOST, USER, []);
  await storage.accounts.create(HOST, 'bob', []);
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('VcardRepository', () => {
  it('get returns null when unset', async () => {
    expect(await storage.vcards.get(HOST, USER)).toBeNull();
  });

  it('set stores xml and time', async () => {
    await storage.vcards.set(HOST, USER, VCARD, 1234);
    expect(await storage.vcards.get(HOST, USER)).toEqual({ xml: VCARD, updatedAt: 1234 });
  });

  it('set defaults time to now', async () => {
    const before = Date.now();
    await storage.vcards.set(HOST, USER, VCARD);
    const vcard = await storage.vcards.get(HOST, USER);
    expect(vcard?.updatedAt).toBeGreaterThanOrEqual(before);
  });

  it('set replaces existing vCard', async () => {
    await storage.vcards.set(HOST, USER, VCARD, 1);
    await storage.vcards.set(HOST, USER, "<vCard xmlns='vcard-temp'/>", 2);
    expect(await storage.vcards.get(HOST, USER)).toEqual({ xml: "<vCard xmlns='vcard-temp'/>", updatedAt: 2 });
  });

  it('set keeps accounts apart', async () => {
    await storage.vcards.set(HOST, USER, VCARD, 1);
    expect(await storage.vcards.get(HOST, 'bob')).toBeNull();
  });

  it('delete removes vCard', async () => {
    await storage.vcards.set(HOST, USER, VCARD, 1);
    await storage.vcards.delete(HOST, USER);
    expect(await storage.vcards.get(HOST, USER)).toBeNull();
  });

  it('delete returns true when stored', async () => {
    await storage.vcards.set(HOST, USER, VCARD, 1);
    expect(await storage.vcards.delete(HOST, USER)).toBe(true);
  });

  it('delete returns false when unset', async () => {
    expect(await storage.vcards.delete(HOST, USER)).toBe(false);
  });
});
