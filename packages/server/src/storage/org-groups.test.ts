import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import { OrgGroupInUseError } from './index.js';
import type { OrgGroup, Storage } from './index.js';

const HOST = 'example.test';
const NOW = 1_700_000_000_000;

let storage: Storage;

function group(id: string, fields: Partial<OrgGroup> = {}): OrgGroup {
  return { host: HOST, id, kind: 'group', name: id.toUpperCase(), parentId: null, sharedRoster: false, createdAt: NOW, updatedAt: NOW, ...fields };
}

beforeEach(async () => {
  storage = await openTestStorage(':memory:');
  for (const username of ['alice', 'bob']) await storage.accounts.create(HOST, username, [], NOW);
});

afterEach(async () => {
  await storage.close();
});

describe('OrgGroupRepository', () => {
  it('stores, updates and lists groups', async () => {
    await storage.orgGroups.upsert(group('g1'));
    await storage.orgGroups.upsert(group('d1', { kind: 'department', sharedRoster: true }));
    await storage.orgGroups.upsert(group('g1', { name: 'Renamed', createdAt: NOW + 5, updatedAt: NOW + 5 }));

    const g1 = await storage.orgGroups.get(HOST, 'g1');
    expect(g1?.name).toBe('Renamed');
    expect(g1?.createdAt).toBe(NOW);
    expect(g1?.updatedAt).toBe(NOW + 5);
    expect((await storage.orgGroups.list(HOST)).map((g) => g.id)).toEqual(['d1', 'g1']);
    expect((await storage.orgGroups.list(HOST, 'department')).map((g) => g.id)).toEqual(['d1']);
    expect((await storage.orgGroups.list(HOST, undefined, { limit: 1, after: 'd1' })).map((g) => g.id)).toEqual(['g1']);
    expect((await storage.orgGroups.get(HOST, 'd1'))?.sharedRoster).toBe(true);
  });

  it('adds, lists and removes members', async () => {
    await storage.orgGroups.upsert(group('g1'));
    expect(await storage.orgGroups.addMember(HOST, 'g1', 'bob')).toBe(true);
    expect(await storage.orgGroups.addMember(HOST, 'g1', 'bob')).toBe(false);
    await storage.orgGroups.addMember(HOST, 'g1', 'alice');
    expect(await storage.orgGroups.members(HOST, 'g1')).toEqual(['alice', 'bob']);
    expect((await storage.orgGroups.groupsOf(HOST, 'bob')).map((g) => g.id)).toEqual(['g1']);
    expect(await storage.orgGroups.removeMember(HOST, 'g1', 'bob')).toBe(true);
    expect(await storage.orgGroups.removeMember(HOST, 'g1', 'bob')).toBe(false);
    expect(await storage.orgGroups.members(HOST, 'g1')).toEqual(['alice']);
  });

  it('replaces members and memberships of one kind', async () => {
    await storage.orgGroups.upsert(group('g1'));
    await storage.orgGroups.upsert(group('g2'));
    await storage.orgGroups.upsert(group('d1', { kind: 'department' }));
    await storage.orgGroups.setMembers(HOST, 'g1', ['alice', 'bob', 'alice']);
    expect(await storage.orgGroups.members(HOST, 'g1')).toEqual(['alice', 'bob']);

    await storage.orgGroups.addMember(HOST, 'd1', 'alice');
    await storage.orgGroups.setGroupsOf(HOST, 'alice', 'group', ['g2']);
    expect((await storage.orgGroups.groupsOf(HOST, 'alice')).map((g) => g.id)).toEqual(['d1', 'g2']);
  });

  it('returns group ids of many accounts', async () => {
    await storage.orgGroups.upsert(group('g2'));
    await storage.orgGroups.upsert(group('g1'));
    await storage.orgGroups.upsert(group('d1', { kind: 'department' }));
    await storage.orgGroups.setGroupsOf(HOST, 'alice', 'group', ['g2', 'g1']);
    await storage.orgGroups.addMember(HOST, 'd1', 'alice');

    const ids = await storage.orgGroups.groupIdsOf(HOST, ['alice', 'bob'], 'group');
    expect(ids.get('alice')).toEqual(['g1', 'g2']);
    expect(ids.get('bob')).toEqual([]);
    expect((await storage.orgGroups.groupIdsOf(HOST, ['alice'], 'department')).get('alice')).toEqual(['d1']);
  });

  it('deletes a group with its memberships and department references', async () => {
    await storage.orgGroups.upsert(group('d1', { kind: 'department' }));
    await storage.orgGroups.addMember(HOST, 'd1', 'alice');
    await storage.profiles.upsert({ host: HOST, username: 'alice', externalId: null, displayName: null, email: null, phone: null, title: null, department: 'd1', avatarSha1: null, updatedAt: NOW });

    expect(await storage.orgGroups.delete(HOST, 'd1')).toBe(true);
    expect(await storage.orgGroups.get(HOST, 'd1')).toBeNull();
    expect(await storage.orgGroups.groupsOf(HOST, 'alice')).toEqual([]);
    expect((await storage.profiles.get(HOST, 'alice'))?.department).toBeNull();
    expect(await storage.orgGroups.delete(HOST, 'd1')).toBe(false);
  });

  it('refuses to delete a parent', async () => {
    await storage.orgGroups.upsert(group('parent'));
    await storage.orgGroups.upsert(group('child', { parentId: 'parent' }));
    await expect(storage.orgGroups.delete(HOST, 'parent')).rejects.toBeInstanceOf(OrgGroupInUseError);
    expect(await storage.orgGroups.get(HOST, 'parent')).not.toBeNull();
  });

  it('drops memberships with the account', async () => {
    await storage.orgGroups.upsert(group('g1'));
    await storage.orgGroups.addMember(HOST, 'g1', 'bob');
    await storage.accounts.delete(HOST, 'bob');
    expect(await storage.orgGroups.members(HOST, 'g1')).toEqual([]);
  });
});
