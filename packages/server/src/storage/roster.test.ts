import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import type { RosterItem, Storage } from './index.js';

const HOST = 'example.test';
const USER = 'alice';

let dir: string;
let storage: Storage;

function item(contact: string, fields: Partial<RosterItem> = {}): RosterItem {
  return {
    contact,
    name: null,
    subscription: 'none',
    ask: false,
    pendingIn: false,
    pendingInStanza: null,
    approved: false,
    hidden: false,
    groups: [],
    ...fields,
  };
}

function contacts(items: RosterItem[]): string[] {
  return items.map((entry) => entry.contact);
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-roster-'));
  storage = await openTestStorage(join(dir, 'parley.db'));
  await storage.accounts.create(HOST, USER, []);
  await storage.accounts.create(HOST, 'bob', []);
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('RosterRepository.put', () => {
  it('round-trips every field', async () => {
    const stored = item('bob@example.test', {
      name: 'Bob',
      subscription: 'from',
      ask: true,
      pendingIn: true,
      pendingInStanza: "<presence type='subscribe' from='bob@example.test'/>",
      approved: true,
      hidden: true,
      groups: ['Friends', 'Work'],
    });
    await storage.roster.put(HOST, USER, stored);
    expect(await storage.roster.get(HOST, USER, 'bob@example.test')).toEqual({ ...stored, version: 1 });
  });

  it('returns increasing versions', async () => {
    const first = await storage.roster.put(HOST, USER, item('a@example.test'));
    const second = await storage.roster.put(HOST, USER, item('b@example.test'));
    expect([first, second]).toEqual([1, 2]);
  });

  it('replaces an existing item', async () => {
    await storage.roster.put(HOST, USER, item('bob@example.test', { name: 'Bob', groups: ['Old'] }));
    await storage.roster.put(HOST, USER, item('bob@example.test', { subscription: 'both', groups: ['New'] }));
    expect(await storage.roster.get(HOST, USER, 'bob@example.test')).toEqual(
      item('bob@example.test', { subscription: 'both', groups: ['New'], version: 2 }),
    );
  });

  it('ignores the version of the input', async () => {
    const version = await storage.roster.put(HOST, USER, item('bob@example.test', { version: 99 }));
    expect(version).toBe(1);
  });

  it('keeps versions per account', async () => {
    await storage.roster.put(HOST, USER, item('a@example.test'));
    await storage.roster.put(HOST, USER, item('b@example.test'));
    expect(await storage.roster.put(HOST, 'bob', item('a@example.test'))).toBe(1);
  });

  it('rejects unknown account', async () => {
    await expect(storage.roster.put(HOST, 'nobody', item('a@example.test'))).rejects.toThrow(/foreign key/i);
  });
});

describe('RosterRepository reads', () => {
  beforeEach(async () => {
    await storage.roster.put(HOST, USER, item('none@example.test'));
    await storage.roster.put(HOST, USER, item('to@example.test', { subscription: 'to' }));
    await storage.roster.put(HOST, USER, item('from@example.test', { subscription: 'from' }));
    await storage.roster.put(HOST, USER, item('both@example.test', { subscription: 'both' }));
    await storage.roster.put(HOST, USER, item('asking@example.test', { pendingIn: true }));
    await storage.roster.put(HOST, 'bob', item('other@example.test', { subscription: 'both' }));
  });

  it('list returns all items by contact', async () => {
    const items = await storage.roster.list(HOST, USER);
    expect(contacts(items)).toEqual([
      'asking@example.test',
      'both@example.test',
      'from@example.test',
      'none@example.test',
      'to@example.test',
    ]);
  });

  it('listSubscribers returns from and both', async () => {
    const items = await storage.roster.listSubscribers(HOST, USER);
    expect(contacts(items)).toEqual(['both@example.test', 'from@example.test']);
  });

  it('listSubscriptions returns to and both', async () => {
    const items = await storage.roster.listSubscriptions(HOST, USER);
    expect(contacts(items)).toEqual(['both@example.test', 'to@example.test']);
  });

  it('get returns null for missing contact', async () => {
    expect(await storage.roster.get(HOST, USER, 'missing@example.test')).toBeNull();
  });

  it('list is empty for new account', async () => {
    await storage.accounts.create(HOST, 'carol', []);
    expect(await storage.roster.list(HOST, 'carol')).toEqual([]);
  });
});

describe('RosterRepository.remove', () => {
  it('deletes the item', async () => {
    await storage.roster.put(HOST, USER, item('bob@example.test'));
    await storage.roster.remove(HOST, USER, 'bob@example.test');
    expect(await storage.roster.get(HOST, USER, 'bob@example.test')).toBeNull();
  });

  it('returns the new version', async () => {
    await storage.roster.put(HOST, USER, item('bob@example.test'));
    expect(await storage.roster.remove(HOST, USER, 'bob@example.test')).toBe(2);
  });

  it('returns null for missing contact', async () => {
    expect(await storage.roster.remove(HOST, USER, 'missing@example.test')).toBeNull();
  });

  it('keeps version when contact is missing', async () => {
    await storage.roster.put(HOST, USER, item('bob@example.test'));
    await storage.roster.remove(HOST, USER, 'missing@example.test');
    expect(await storage.roster.version(HOST, USER)).toBe(1);
  });
});

describe('RosterRepository.version', () => {
  it('is zero for untouched roster', async () => {
    expect(await storage.roster.version(HOST, USER)).toBe(0);
  });

  it('follows puts and removes', async () => {
    await storage.roster.put(HOST, USER, item('a@example.test'));
    await storage.roster.put(HOST, USER, item('b@example.test'));
    await storage.roster.remove(HOST, USER, 'a@example.test');
    expect(await storage.roster.version(HOST, USER)).toBe(3);
  });
});

describe('RosterRepository.changesSince', () => {
  beforeEach(async () => {
    await storage.roster.put(HOST, USER, item('a@example.test')); // 1
    await storage.roster.put(HOST, USER, item('b@example.test')); // 2
    await storage.roster.put(HOST, USER, item('c@example.test')); // 3
    await storage.roster.remove(HOST, USER, 'a@example.test'); // 4
    await storage.roster.put(HOST, USER, item('b@example.test', { name: 'B' })); // 5
  });

  it('returns items changed after version', async () => {
    const changes = await storage.roster.changesSince(HOST, USER, 2);
    expect(contacts(changes?.items ?? [])).toEqual(['c@example.test', 'b@example.test']);
  });

  it('returns removals after version', async () => {
    const changes = await storage.roster.changesSince(HOST, USER, 2);
    expect(changes?.removed).toEqual(['a@example.test']);
  });

  it('returns current version', async () => {
    const changes = await storage.roster.changesSince(HOST, USER, 2);
    expect(changes?.version).toBe(5);
  });

  it('omits removals before version', async () => {
    const changes = await storage.roster.changesSince(HOST, USER, 4);
    expect(changes?.removed).toEqual([]);
  });

  it('is empty at current version', async () => {
    const changes = await storage.roster.changesSince(HOST, USER, 5);
    expect(changes).toEqual({ version: 5, items: [], removed: [] });
  });

  it('returns null for future version', async () => {
    expect(await storage.roster.changesSince(HOST, USER, 6)).toBeNull();
  });

  it('returns everything from zero', async () => {
    const changes = await storage.roster.changesSince(HOST, USER, 0);
    expect(contacts(changes?.items ?? [])).toEqual(['c@example.test', 'b@example.test']);
  });

  it('drops tombstone when contact returns', async () => {
    await storage.roster.put(HOST, USER, item('a@example.test')); // 6
    const changes = await storage.roster.changesSince(HOST, USER, 2);
    expect(changes?.removed).toEqual([]);
  });

  it('lists returning contact as item', async () => {
    await storage.roster.put(HOST, USER, item('a@example.test')); // 6
    const changes = await storage.roster.changesSince(HOST, USER, 2);
    expect(contacts(changes?.items ?? [])).toContain('a@example.test');
  });

  it('returns empty diff for empty roster', async () => {
    await storage.accounts.create(HOST, 'carol', []);
    expect(await storage.roster.changesSince(HOST, 'carol', 0)).toEqual({ version: 0, items: [], removed: [] });
  });
});

describe('RosterRepository.pruneTombstones', () => {
  beforeEach(async () => {
    for (const name of ['a', 'b', 'c', 'd']) {
      await storage.roster.put(HOST, USER, item(`${name}@example.test`)); // 1..4
    }
    await storage.roster.remove(HOST, USER, 'a@example.test'); // 5
    await storage.roster.remove(HOST, USER, 'b@example.test'); // 6
    await storage.roster.remove(HOST, USER, 'c@example.test'); // 7
  });

  it('returns deleted count', async () => {
    expect(await storage.roster.pruneTombstones(HOST, USER, 1)).toBe(2);
  });

  it('keeps newest tombstones', async () => {
    await storage.roster.pruneTombstones(HOST, USER, 1);
    const changes = await storage.roster.changesSince(HOST, USER, 6);
    expect(changes?.removed).toEqual(['c@example.test']);
  });

  it('returns null below pruned version', async () => {
    await storage.roster.pruneTombstones(HOST, USER, 1);
    expect(await storage.roster.changesSince(HOST, USER, 5)).toBeNull();
  });

  it('allows diff from newest pruned version', async () => {
    // Version 6 saw the removal of b, the newest pruned tombstone.
    await storage.roster.pruneTombstones(HOST, USER, 1);
    expect(await storage.roster.changesSince(HOST, USER, 6)).not.toBeNull();
  });

  it('returns null after pruning all', async () => {
    await storage.roster.pruneTombstones(HOST, USER, 0);
    expect(await storage.roster.changesSince(HOST, USER, 4)).toBeNull();
  });

  it('allows current diff after pruning all', async () => {
    await storage.roster.pruneTombstones(HOST, USER, 0);
    expect(await storage.roster.changesSince(HOST, USER, 7)).toEqual({ version: 7, items: [], removed: [] });
  });

  it('deletes nothing when under limit', async () => {
    expect(await storage.roster.pruneTombstones(HOST, USER, 3)).toBe(0);
  });

  it('keeps full diff when under limit', async () => {
    await storage.roster.pruneTombstones(HOST, USER, 3);
    const changes = await storage.roster.changesSince(HOST, USER, 0);
    expect(changes?.removed).toEqual(['a@example.test', 'b@example.test', 'c@example.test']);
  });

  it('never lowers the pruned version', async () => {
    await storage.roster.pruneTombstones(HOST, USER, 0);
    await storage.roster.put(HOST, USER, item('e@example.test')); // 8
    await storage.roster.remove(HOST, USER, 'e@example.test'); // 9
    await storage.roster.pruneTombstones(HOST, USER, 1);
    expect(await storage.roster.changesSince(HOST, USER, 6)).toBeNull();
  });

  it('rejects negative keep', async () => {
    await expect(storage.roster.pruneTombstones(HOST, USER, -1)).rejects.toBeInstanceOf(RangeError);
  });
});
