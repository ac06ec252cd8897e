import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import type { Storage, StoredRoom } from './index.js';

const SERVICE = 'conference.example.test';
const NOW = 1_700_000_000_000;

let dir: string;
let storage: Storage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-muc-rooms-'));
  storage = await openTestStorage(join(dir, 'parley.db'));
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

function room(name: string, overrides: Partial<StoredRoom> = {}): StoredRoom {
  return {
    service: SERVICE,
    name,
    persistent: true,
    public: true,
    config: '{}',
    subject: null,
    subjectNick: null,
    subjectAt: null,
    createdBy: 'alice@example.test',
    createdAt: NOW,
    ...overrides,
  };
}

describe('MucRoomRepository', () => {
  it('saves, updates and reads a room', async () => {
    await storage.mucRooms.save(room('team'));
    await storage.mucRooms.save(room('team', { subject: 'Plans', subjectNick: 'ali', subjectAt: NOW + 1, config: '{"name":"Team"}', createdBy: 'ignored' }));

    expect(await storage.mucRooms.get(SERVICE, 'team')).toEqual(room('team', { subject: 'Plans', subjectNick: 'ali', subjectAt: NOW + 1, config: '{"name":"Team"}' }));
    expect(await storage.mucRooms.get(SERVICE, 'other')).toBeUndefined();
  });

  it('affiliations: store, delete, rooms of a JID', async () => {
    await storage.mucRooms.save(room('a'));
    await storage.mucRooms.save(room('b'));
    await storage.mucRooms.setAffiliation(SERVICE, 'a', { jid: 'bob@example.test', affiliation: 'member', nick: 'bob', reason: null });
    await storage.mucRooms.setAffiliation(SERVICE, 'b', { jid: 'bob@example.test', affiliation: 'outcast', nick: null, reason: 'spam' });
    await storage.mucRooms.setAffiliation(SERVICE, 'a', { jid: 'carol@example.test', affiliation: 'admin', nick: null, reason: null });

    expect(await storage.mucRooms.roomsOf(SERVICE, 'bob@example.test', ['member', 'admin', 'owner'])).toEqual([{ service: SERVICE, name: 'a', affiliation: 'member' }]);
    await storage.mucRooms.setAffiliation(SERVICE, 'a', { jid: 'bob@example.test', affiliation: 'none', nick: null, reason: null });
    expect(await storage.mucRooms.listAffiliations(SERVICE, 'a')).toEqual([{ jid: 'carol@example.test', affiliation: 'admin', nick: null, reason: null }]);
    expect(await storage.mucRooms.listAffiliations(SERVICE, 'b')).toEqual([{ jid: 'bob@example.test', affiliation: 'outcast', nick: null, reason: 'spam' }]);
  });

  it('deletes a room with its affiliations, and the temporary rooms of a service', async () => {
    await storage.mucRooms.save(room('kept'));
    await storage.mucRooms.save(room('temp', { persistent: false, public: false }));
    await storage.mucRooms.setAffiliation(SERVICE, 'kept', { jid: 'bob@example.test', affiliation: 'owner', nick: null, reason: null });

    expect(await storage.mucRooms.countCreatedBy(SERVICE, 'alice@example.test')).toBe(2);
    expect(await storage.mucRooms.deleteTemporary(SERVICE)).toBe(1);
    expect((await storage.mucRooms.listPublic(SERVICE)).map((stored) => stored.name)).toEqual(['kept']);

    await storage.mucRooms.delete(SERVICE, 'kept');
    expect(await storage.mucRooms.listAffiliations(SERVICE, 'kept')).toEqual([]);
    expect(await storage.mucRooms.countCreatedBy(SERVICE, 'alice@example.test')).toBe(0);
  });
});
