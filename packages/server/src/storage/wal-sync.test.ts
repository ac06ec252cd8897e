import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import SqliteDatabase from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openStorage, type Storage } from './index.js';
import { type Flush, WalSync } from './wal-sync.js';

const HOST = 'example.test';

let dir: string;
let path: string;
const opened: Storage[] = [];

interface Gate {
  calls: number;
  /** While true, each flush waits for `release()`. */
  hold: boolean;
  started: Promise<void>;
  release: () => void;
}

/** A flush that counts its calls and, while `hold` is set, waits until the test releases it. */
function gatedFlush(): { gate: Gate; flush: Flush } {
  const gate: Gate = { calls: 0, hold: true, started: Promise.resolve(), release: () => {} };
  let signalStart = () => {};
  const arm = () => {
    gate.started = new Promise<void>((resolve) => (signalStart = resolve));
  };
  arm();
  const flush: Flush = async (file) => {
    gate.calls++;
    if (gate.hold) {
      const released = new Promise<void>((resolve) => (gate.release = resolve));
      signalStart();
      arm();
      await released;
    }
    await file.sync();
  };
  return { gate, flush };
}

/** Whether `promise` has settled once pending I/O callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 50));
  return done;
}

/** Counts accounts named `username` through a second connection, which sees only committed rows. */
function committedAccounts(username: string): number {
  const reader = new SqliteDatabase(path, { readonly: true });
  try {
    return (reader.prepare('select count(*) as n from accounts where username = ?').get(username) as { n: number }).n;
  } finally {
    reader.close();
  }
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-wal-'));
  path = join(dir, 'parley.db');
});

afterEach(async () => {
  for (const storage of opened.splice(0)) await storage.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(flush: Flush): Promise<Storage> {
  const storage = await openStorage({ driver: 'sqlite', path, walFlush: flush });
  opened.push(storage);
  return storage;
}

describe('durable commits on SQLite', () => {
  it('write waits for the flush', async () => {
    const { gate, flush } = gatedFlush();
    gate.hold = false;
    const storage = await open(flush);
    const before = gate.calls;
    gate.hold = true;

    const created = storage.accounts.create(HOST, 'alice', []);
    await gate.started;
    expect(gate.calls).toBe(before + 1);
    expect(committedAccounts('alice')).toBe(1);
    expect(await settled(created)).toBe(false);

    gate.release();
    await created;
  });

  it('batch write waits for the flush', async () => {
    const { gate, flush } = gatedFlush();
    gate.hold = false;
    const storage = await open(flush);
    await storage.accounts.create(HOST, 'bob', []);
    gate.hold = true;

    const written = storage.batch.write((trx) => trx.updateTable('accounts').set({ disabled: 1 }).where('username', '=', 'bob').execute());
    await gate.started;
    expect(await settled(written)).toBe(false);

    gate.release();
    await written;
    expect(storage.batch.stats.committed).toBe(1);
  });

  it('reads flush nothing', async () => {
    const { gate, flush } = gatedFlush();
    gate.hold = false;
    const storage = await open(flush);
    await storage.accounts.create(HOST, 'carol', []);
    const calls = gate.calls;
    expect(calls).toBeGreaterThan(0);

    expect(await storage.accounts.get(HOST, 'carol')).not.toBeNull();
    expect(await storage.accounts.exists(HOST, 'carol')).toBe(true);
    expect(gate.calls).toBe(calls);
  });
});

describe('WalSync', () => {
  beforeEach(async () => {
    const database = new SqliteDatabase(path);
    database.pragma('journal_mode = WAL');
    database.exec('create table t (a)');
    database.close();
  });

  it('lets calls during a flush share the next one', async () => {
    const database = new SqliteDatabase(path);
    database.exec('insert into t values (1)');
    const { gate, flush } = gatedFlush();
    const wal = new WalSync(path, flush);

    const first = wal.sync();
    await gate.started;
    const later = [wal.sync(), wal.sync(), wal.sync()];
    expect(later[1]).toBe(later[0]);
    expect(later[2]).toBe(later[0]);
    expect(gate.calls).toBe(1);

    const second = gate.started;
    gate.release();
    await first;
    await second;
    expect(gate.calls).toBe(2);
    gate.release();
    await Promise.all(later);

    await wal.close();
    database.close();
  });

  it('flushes the real WAL file', async () => {
    const database = new SqliteDatabase(path);
    database.pragma('synchronous = NORMAL');
    database.exec('insert into t values (2)');
    expect((await stat(`${path}-wal`)).size).toBeGreaterThan(0);

    const wal = new WalSync(path);
    await wal.sync();
    await wal.close();
    await expect(wal.sync()).rejects.toThrow('closed');
    database.close();
    expect(existsSync(path)).toBe(true);
  });
});
