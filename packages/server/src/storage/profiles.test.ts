import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import type { AccountProfile, Storage } from './index.js';

const HOST = 'example.test';
const NOW = 1_700_000_000_000;

let storage: Storage;

function profile(username: string, fields: Partial<AccountProfile> = {}): AccountProfile {
  return { host: HOST, username, externalId: null, displayName: null, email: null, phone: null, title: null, department: null, avatarSha1: null, updatedAt: NOW, ...fields };
}

beforeEach(async () => {
  storage = await openTestStorage(':memory:');
  for (const username of ['alice', 'bob', 'carol']) await storage.accounts.create(HOST, username, [], NOW);
});

afterEach(async () => {
  await storage.close();
});

describe('ProfileRepository', () => {
  it('stores and reads a profile', async () => {
    await storage.profiles.upsert(profile('alice', { externalId: 'E1', displayName: 'Alice A', email: 'a@example.org' }));
    expect(await storage.profiles.get(HOST, 'alice')).toEqual(profile('alice', { externalId: 'E1', displayName: 'Alice A', email: 'a@example.org' }));
    expect((await storage.profiles.getByExternalId(HOST, 'E1'))?.username).toBe('alice');
    expect(await storage.profiles.getByExternalId(HOST, 'E2')).toBeNull();
    expect(await storage.profiles.get(HOST, 'bob')).toBeNull();
  });

  it('replaces a profile on upsert', async () => {
    await storage.profiles.upsert(profile('alice', { displayName: 'Old' }));
    await storage.profiles.upsert(profile('alice', { displayName: 'New', updatedAt: NOW + 1 }));
    const stored = await storage.profiles.get(HOST, 'alice');
    expect(stored?.displayName).toBe('New');
    expect(stored?.updatedAt).toBe(NOW + 1);
  });

  it('rejects an external id of another account', async () => {
    await storage.profiles.upsert(profile('alice', { externalId: 'E1' }));
    await expect(storage.profiles.upsert(profile('bob', { externalId: 'E1' }))).rejects.toThrow(/unique/i);
  });

  it('allows many profiles without external id', async () => {
    await storage.profiles.upsert(profile('alice'));
    await storage.profiles.upsert(profile('bob'));
    expect(await storage.profiles.get(HOST, 'bob')).not.toBeNull();
  });

  it('lists accounts with and without profiles', async () => {
    await storage.profiles.upsert(profile('bob', { displayName: 'Bob B' }));
    const all = await storage.profiles.list(HOST, { limit: 10 });
    expect(all.map((entry) => entry.username)).toEqual(['alice', 'bob', 'carol']);
    expect(all[0]?.displayName).toBeNull();
    expect(all[1]?.displayName).toBe('Bob B');

    const page = await storage.profiles.list(HOST, { limit: 1, after: 'alice' });
    expect(page.map((entry) => entry.username)).toEqual(['bob']);
  });

  it('lists by search text and department', async () => {
    await storage.orgGroups.upsert({ host: HOST, id: 'd1', kind: 'department', name: 'D', parentId: null, sharedRoster: false, createdAt: NOW, updatedAt: NOW });
    await storage.profiles.upsert(profile('alice', { email: 'ALICE_x@example.org', department: 'd1' }));
    await storage.profiles.upsert(profile('bob', { displayName: 'Robert 100%' }));

    expect((await storage.profiles.list(HOST, { limit: 10, search: '100%' })).map((entry) => entry.username)).toEqual(['bob']);
    expect((await storage.profiles.list(HOST, { limit: 10, search: 'e_x' })).map((entry) => entry.username)).toEqual(['alice']);
    expect((await storage.profiles.list(HOST, { limit: 10, search: 'car' })).map((entry) => entry.username)).toEqual(['carol']);
    expect((await storage.profiles.list(HOST, { limit: 10, department: 'd1' })).map((entry) => entry.username)).toEqual(['alice']);
  });

  it('keeps the avatar hash in step with the image', async () => {
    const data = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
    await storage.profiles.setAvatar(HOST, 'carol', { type: 'image/png', sha1: 'abc', data }, NOW);
    expect(await storage.profiles.getAvatar(HOST, 'carol')).toEqual({ type: 'image/png', sha1: 'abc', data, updatedAt: NOW });
    expect((await storage.profiles.get(HOST, 'carol'))?.avatarSha1).toBe('abc');

    await storage.profiles.setAvatar(HOST, 'carol', null, NOW + 1);
    expect(await storage.profiles.getAvatar(HOST, 'carol')).toBeNull();
    expect((await storage.profiles.get(HOST, 'carol'))?.avatarSha1).toBeNull();
  });

  it('drops profile and avatar with the account', async () => {
    await storage.profiles.upsert(profile('alice', { externalId: 'E1' }));
    await storage.profiles.setAvatar(HOST, 'alice', { type: 'image/png', sha1: 'abc', data: Buffer.from('x') });
    await storage.accounts.delete(HOST, 'alice');
    expect(await storage.profiles.get(HOST, 'alice')).toBeNull();
    expect(await storage.profiles.getAvatar(HOST, 'alice')).toBeNull();
    expect(await storage.profiles.getByExternalId(HOST, 'E1')).toBeNull();
  });
});
