import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { WAL_CHECKPOINT_PAGES } from './db.js';
import { openStorage } from './index.js';
import type { Storage } from './index.js';

const HOST = 'example.test';
const MIGRATION_NAMES = [
  '0001_accounts',
  '0002_roster',
  '0003_offline_messages',
  '0004_vcards',
  '0005_private_storage',
  '0006_invites',
  '0007_archive',
  '0008_blocklist',
  '0009_muc',
  '0010_muc_archive',
  '0011_pep',
  '0012_inbox',
  '0013_org',
  '0014_webhooks',
  '0015_directory',
  '0016_fast_tokens',
  '0017_push',
  '0018_account_outbox',
  '0019_uploads',
  '0020_archive_fts',
];

let dir: string;
let path: string;
const opened: Storage[] = [];

async function open(): Promise<Storage> {
  const storage = await openStorage({ driver: 'sqlite', path });
  opened.push(storage);
  return storage;
}

async function pragma(storage: Storage, name: string): Promise<unknown> {
  const result = await sql<Record<string, unknown>>`pragma ${sql.raw(name)}`.execute(storage.db);
  const row = result.rows[0] ?? {};
  return Object.values(row)[0];
}

async function migrationRows(storage: Storage): Promise<{ name: string; timestamp: string }[]> {
  const result = await sql<{ name: string; timestamp: string }>`select name, timestamp from kysely_migration order by name`.execute(
    storage.db,
  );
  return result.rows;
}

/** Runs a child Node process with tsx that writes through the storage layer, then kills itself with SIGKILL. */
function writeThenCrash(dbPath: string): Promise<number | null> {
  const storageUrl = new URL('./index.ts', import.meta.url).href;
  const script = `
    const { openStorage } = await import(${JSON.stringify(storageUrl)});
    const storage = await openStorage({ driver: 'sqlite', path: ${JSON.stringify(dbPath)} });
    await storage.accounts.create('${HOST}', 'crash', []);
    await storage.offline.store('${HOST}', 'crash', '<message/>', 1);
    process.kill(process.pid, 'SIGKILL');
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'inherit' });
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL' ? null : code);
    });
  });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-storage-'));
  path = join(dir, 'nested', 'folder', 'parley.db');
});

afterEach(async () => {
  for (const storage of opened.splice(0)) {
    await storage.close();
  }
  await rm(dir, { recursive: true, force: true });
});

describe('openStorage', () => {
  it('creates missing folders', async () => {
    await open();
    expect(existsSync(path)).toBe(true);
  });

  it('enables WAL journal mode', async () => {
    const storage = await open();
    expect(await pragma(storage, 'journal_mode')).toBe('wal');
  });

  it('sets synchronous to FULL', async () => {
    const storage = await open();
    expect(await pragma(storage, 'synchronous')).toBe(2);
  });

  it('checkpoints every 10,000 WAL pages', async () => {
    const storage = await open();
    expect(await pragma(storage, 'wal_autocheckpoint')).toBe(WAL_CHECKPOINT_PAGES);
    expect(WAL_CHECKPOINT_PAGES).toBe(10_000);
  });

  it('enables foreign keys', async () => {
    const storage = await open();
    expect(await pragma(storage, 'foreign_keys')).toBe(1);
  });

  it('sets busy timeout', async () => {
    const storage = await open();
    expect(await pragma(storage, 'busy_timeout')).toBe(5000);
  });

  it('reports sqlite dialect', async () => {
    const storage = await open();
    expect(storage.dialect).toBe('sqlite');
  });

  it('opens in memory', async () => {
    const storage = await openStorage({ driver: 'sqlite', path: ':memory:' });
    opened.push(storage);
    await storage.accounts.create(HOST, 'alice', []);
    expect(await storage.accounts.exists(HOST, 'alice')).toBe(true);
  });
});

describe('migrations', () => {
  it('run every migration once', async () => {
    const storage = await open();
    const rows = await migrationRows(storage);
    expect(rows.map((row) => row.name)).toEqual(MIGRATION_NAMES);
  });

  it('are not rerun on reopen', async () => {
    const first = await open();
    const before = await migrationRows(first);
    await first.close();
    opened.splice(opened.indexOf(first), 1);

    const second = await open();
    expect(await migrationRows(second)).toEqual(before);
  });

  it('rerun safely after crash midway', async () => {
    const first = await open();
    // Simulates a crash after the tables were created but before Kysely recorded the migration.
    await sql`delete from kysely_migration where name = ${MIGRATION_NAMES.at(-1)}`.execute(first.db);
    await first.close();
    opened.splice(opened.indexOf(first), 1);

    const second = await open();
    const names = (await migrationRows(second)).map((row) => row.name);
    expect(names).toEqual(MIGRATION_NAMES);
  });
});

describe('durability', () => {
  it('keeps data across close and reopen', async () => {
    const first = await open();
    await first.accounts.create(HOST, 'alice', []);
    await first.roster.put(HOST, 'alice', {
      contact: 'bob@example.test',
      name: 'Bob',
      subscription: 'both',
      ask: false,
      pendingIn: false,
      pendingInStanza: null,
      approved: false,
      hidden: false,
      groups: ['Friends'],
    });
    await first.offline.store(HOST, 'alice', '<message id="1"/>', 1000);
    await first.vcards.set(HOST, 'alice', '<vCard xmlns="vcard-temp"/>', 2000);
    await first.privateStorage.set(HOST, 'alice', 'storage:bookmarks storage', '<storage/>');
    await first.invites.create({ host: HOST, tokenHash: 'aa', expiresAt: null, maxUses: 1, createdBy: null, note: null });
    await first.close();
    opened.splice(opened.indexOf(first), 1);

    const second = await open();
    expect(await second.accounts.exists(HOST, 'alice')).toBe(true);
    expect((await second.roster.get(HOST, 'alice', 'bob@example.test'))?.name).toBe('Bob');
    expect(await second.offline.count(HOST, 'alice')).toBe(1);
    expect((await second.vcards.get(HOST, 'alice'))?.updatedAt).toBe(2000);
    expect(await second.privateStorage.get(HOST, 'alice', 'storage:bookmarks storage')).toBe('<storage/>');
    expect(await second.invites.list(HOST)).toHaveLength(1);
  });

  it('keeps acknowledged writes after process kill', async () => {
    const exitCode = await writeThenCrash(path);
    expect(exitCode).toBeNull();

    const storage = await open();
    expect(await storage.accounts.exists(HOST, 'crash')).toBe(true);
    expect(await storage.offline.count(HOST, 'crash')).toBe(1);
  });
});
