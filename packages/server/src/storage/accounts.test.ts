import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import { AccountExistsError, AccountNotFoundError } from './index.js';
import type { Storage, StoredScramCredential } from './index.js';

const HOST = 'example.test';
const OTHER_HOST = 'other.test';

let dir: string;
let storage: Storage;

function credential(hash: 'SHA-1' | 'SHA-256', seed: number): StoredScramCredential {
  return {
    hash,
    salt: Buffer.from([seed, 1, 2, 3]),
    iterations: 4096 + seed,
    storedKey: Buffer.alloc(hash === 'SHA-1' ? 20 : 32, seed),
    serverKey: Buffer.alloc(hash === 'SHA-1' ? 20 : 32, seed + 100),
  };
}

/** Counts rows for the account in every per-account table. */
async function countAccountRows(host: string, username: string): Promise<Record<string, number>> {
  const tables = [
    'accounts',
    'credentials',
    'roster_items',
    'roster_tombstones',
    'roster_versions',
    'offline_messages',
    'vcards',
    'private_storage',
  ] as const;
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const row = await storage.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll().as('count'))
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirstOrThrow();
    counts[table] = Number(row.count);
  }
  return counts;
}

async function fillAccount(host: string, username: string): Promise<void> {
  await storage.accounts.create(host, username, [credential('SHA-1', 1), credential('SHA-256', 2)]);
  const item = {
    name: null,
    subscription: 'both' as const,
    ask: false,
    pendingIn: false,
    pendingInStanza: null,
    approved: false,
    hidden: false,
    groups: [],
  };
  await storage.roster.put(host, username, { ...item, contact: 'kept@example.test' });
  await storage.roster.put(host, username, { ...item, contact: 'gone@example.test' });
  await storage.roster.remove(host, username, 'gone@example.test');
  await storage.offline.store(host, username, '<message/>', 1);
  await storage.vcards.set(host, username, '<vCard xmlns="vcard-temp"/>');
  await storage.privateStorage.set(host, username, 'jabber:example data', '<data xmlns="jabber:example"/>');
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-accounts-'));
  storage = await openTestStorage(join(dir, 'parley.db'));
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('AccountRepository.create', () => {
  it('stores account fields', async () => {
    await storage.accounts.create(HOST, 'alice', [], 1234);
    expect(await storage.accounts.get(HOST, 'alice')).toEqual({ username: 'alice', createdAt: 1234, disabled: false });
  });

  it('defaults createdAt to now', async () => {
    const before = Date.now();
    await storage.accounts.create(HOST, 'alice', []);
    const account = await storage.accounts.get(HOST, 'alice');
    expect(account?.createdAt).toBeGreaterThanOrEqual(before);
  });

  it('throws AccountExistsError on duplicate', async () => {
    await storage.accounts.create(HOST, 'alice', [credential('SHA-256', 1)]);
    await expect(storage.accounts.create(HOST, 'alice', [credential('SHA-256', 9)])).rejects.toBeInstanceOf(
      AccountExistsError,
    );
  });

  it('keeps credentials after duplicate attempt', async () => {
    await storage.accounts.create(HOST, 'alice', [credential('SHA-256', 1)]);
    await storage.accounts.create(HOST, 'alice', [credential('SHA-256', 9)]).catch(() => undefined);
    expect(await storage.accounts.getCredential(HOST, 'alice', 'SHA-256')).toEqual(credential('SHA-256', 1));
  });

  it('allows one username on two hosts', async () => {
    await storage.accounts.create(HOST, 'alice', []);
    await storage.accounts.create(OTHER_HOST, 'alice', []);
    expect(await storage.accounts.count(OTHER_HOST)).toBe(1);
  });

  it('lets exactly one of concurrent creates win', async () => {
    const attempts = Array.from({ length: 5 }, () => storage.accounts.create(HOST, 'alice', []));
    const results = await Promise.allSettled(attempts);
    const rejected = results.filter((result) => result.status === 'rejected');
    expect(rejected).toHaveLength(4);
  });
});

describe('AccountRepository reads', () => {
  it('get returns null for missing account', async () => {
    expect(await storage.accounts.get(HOST, 'nobody')).toBeNull();
  });

  it('exists reports created account', async () => {
    await storage.accounts.create(HOST, 'alice', []);
    expect(await storage.accounts.exists(HOST, 'alice')).toBe(true);
  });

  it('exists reports missing account', async () => {
    expect(await storage.accounts.exists(HOST, 'nobody')).toBe(false);
  });

  it('exists separates hosts', async () => {
    await storage.accounts.create(HOST, 'alice', []);
    expect(await storage.accounts.exists(OTHER_HOST, 'alice')).toBe(false);
  });

  it('getCredential round-trips SHA-1', async () => {
    await storage.accounts.create(HOST, 'alice', [credential('SHA-1', 3), credential('SHA-256', 4)]);
    expect(await storage.accounts.getCredential(HOST, 'alice', 'SHA-1')).toEqual(credential('SHA-1', 3));
  });

  it('getCredential round-trips SHA-256', async () => {
    await storage.accounts.create(HOST, 'alice', [credential('SHA-1', 3), credential('SHA-256', 4)]);
    expect(await storage.accounts.getCredential(HOST, 'alice', 'SHA-256')).toEqual(credential('SHA-256', 4));
  });

  it('getCredential returns null for missing hash', async () => {
    await storage.accounts.create(HOST, 'alice', [credential('SHA-1', 3)]);
    expect(await storage.accounts.getCredential(HOST, 'alice', 'SHA-256')).toBeNull();
  });
});

describe('AccountRepository updates', () => {
  it('setCredentials replaces the new hash', async () => {
    await storage.accounts.create(HOST, 'alice', [credential('SHA-1', 1), credential('SHA-256', 2)]);
    await storage.accounts.setCredentials(HOST, 'alice', [credential('SHA-256', 7)]);
    expect(await storage.accounts.getCredential(HOST, 'alice', 'SHA-256')).toEqual(credential('SHA-256', 7));
  });

  it('setCredentials drops omitted hashes', async () => {
    await storage.accounts.create(HOST, 'alice', [credential('SHA-1', 1), credential('SHA-256', 2)]);
    await storage.accounts.setCredentials(HOST, 'alice', [credential('SHA-256', 7)]);
    expect(await storage.accounts.getCredential(HOST, 'alice', 'SHA-1')).toBeNull();
  });

  it('setCredentials clears a legacy hash', async () => {
    await storage.accounts.create(HOST, 'alice', []);
    await storage.db.updateTable('accounts').set({ legacy_hash: '$2b$04$abcdefghijklmnopqrstuu5VJ9mBF7aEvOXQkz6jXvMl0T8d6gUXa' }).where('username', '=', 'alice').execute();
    await storage.accounts.setCredentials(HOST, 'alice', [credential('SHA-256', 7)]);
    expect(await storage.legacyHashes.get(HOST, 'alice')).toBeNull();
  });

  it('setCredentials rejects missing account', async () => {
    await expect(storage.accounts.setCredentials(HOST, 'nobody', [credential('SHA-256', 1)])).rejects.toBeInstanceOf(
      AccountNotFoundError,
    );
  });

  it('setDisabled sets flag', async () => {
    await storage.accounts.create(HOST, 'alice', []);
    await storage.accounts.setDisabled(HOST, 'alice', true);
    expect((await storage.accounts.get(HOST, 'alice'))?.disabled).toBe(true);
  });

  it('setDisabled clears flag', async () => {
    await storage.accounts.create(HOST, 'alice', []);
    await storage.accounts.setDisabled(HOST, 'alice', true);
    await storage.accounts.setDisabled(HOST, 'alice', false);
    expect((await storage.accounts.get(HOST, 'alice'))?.disabled).toBe(false);
  });

  it('setDisabled rejects missing account', async () => {
    await expect(storage.accounts.setDisabled(HOST, 'nobody', true)).rejects.toBeInstanceOf(AccountNotFoundError);
  });
});

describe('AccountRepository.delete', () => {
  it('removes rows in every table', async () => {
    await fillAccount(HOST, 'alice');
    await storage.accounts.delete(HOST, 'alice');
    const counts = await countAccountRows(HOST, 'alice');
    for (const [table, count] of Object.entries(counts)) {
      expect(count, table).toBe(0);
    }
  });

  it('fills every table before delete', async () => {
    // Guards the test above: it proves nothing if some table was empty to begin with.
    await fillAccount(HOST, 'alice');
    const counts = await countAccountRows(HOST, 'alice');
    for (const [table, count] of Object.entries(counts)) {
      expect(count, table).toBeGreaterThan(0);
    }
  });

  it('keeps other accounts', async () => {
    await fillAccount(HOST, 'alice');
    await fillAccount(HOST, 'bob');
    await fillAccount(OTHER_HOST, 'alice');
    const before = await countAccountRows(HOST, 'bob');
    const beforeOtherHost = await countAccountRows(OTHER_HOST, 'alice');

    await storage.accounts.delete(HOST, 'alice');

    expect(await countAccountRows(HOST, 'bob')).toEqual(before);
    expect(await countAccountRows(OTHER_HOST, 'alice')).toEqual(beforeOtherHost);
  });

  it('returns true for existing account', async () => {
    await storage.accounts.create(HOST, 'alice', []);
    expect(await storage.accounts.delete(HOST, 'alice')).toBe(true);
  });

  it('returns false for missing account', async () => {
    expect(await storage.accounts.delete(HOST, 'nobody')).toBe(false);
  });

  it('allows recreating the username', async () => {
    await fillAccount(HOST, 'alice');
    await storage.accounts.delete(HOST, 'alice');
    await storage.accounts.create(HOST, 'alice', []);
    expect(await storage.roster.list(HOST, 'alice')).toEqual([]);
  });
});

describe('AccountRepository.list', () => {
  beforeEach(async () => {
    for (const username of ['dave', 'alice', 'carol', 'bob', 'a_b', 'axb']) {
      await storage.accounts.create(HOST, username, [], 1);
    }
    await storage.accounts.create(OTHER_HOST, 'zed', [], 1);
  });

  it('orders by username', async () => {
    const accounts = await storage.accounts.list(HOST, { limit: 10 });
    expect(accounts.map((account) => account.username)).toEqual(['a_b', 'alice', 'axb', 'bob', 'carol', 'dave']);
  });

  it('applies limit', async () => {
    const accounts = await storage.accounts.list(HOST, { limit: 2 });
    expect(accounts.map((account) => account.username)).toEqual(['a_b', 'alice']);
  });

  it('pages with after', async () => {
    const accounts = await storage.accounts.list(HOST, { limit: 2, after: 'alice' });
    expect(accounts.map((account) => account.username)).toEqual(['axb', 'bob']);
  });

  it('filters by substring', async () => {
    const accounts = await storage.accounts.list(HOST, { limit: 10, search: 'o' });
    expect(accounts.map((account) => account.username)).toEqual(['bob', 'carol']);
  });

  it('matches underscore literally', async () => {
    const accounts = await storage.accounts.list(HOST, { limit: 10, search: '_' });
    expect(accounts.map((account) => account.username)).toEqual(['a_b']);
  });

  it('matches percent literally', async () => {
    const accounts = await storage.accounts.list(HOST, { limit: 10, search: '%' });
    expect(accounts).toEqual([]);
  });

  it('combines search and after', async () => {
    const accounts = await storage.accounts.list(HOST, { limit: 10, search: 'a', after: 'alice' });
    expect(accounts.map((account) => account.username)).toEqual(['axb', 'carol', 'dave']);
  });

  it('returns account fields', async () => {
    const accounts = await storage.accounts.list(OTHER_HOST, { limit: 10 });
    expect(accounts).toEqual([{ username: 'zed', createdAt: 1, disabled: false }]);
  });

  it('count is per host', async () => {
    expect(await storage.accounts.count(HOST)).toBe(6);
  });

  it('count is zero for unknown host', async () => {
    expect(await storage.accounts.count('unknown.test')).toBe(0);
  });
});
