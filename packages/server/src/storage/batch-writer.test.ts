import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { testsUsePostgres } from '../../../../test/support/postgres.js';
import { openTestStorage } from '../../../../test/support/storage.js';
import { BatchWriter } from './batch-writer.js';
import { addAutoIncrementKey } from './db.js';
import type { Database, Storage } from './index.js';

let dir: string;
let storage: Storage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-batch-'));
  storage = await openTestStorage(join(dir, 'parley.db'));
  const table = (storage.db as Kysely<unknown>).schema.createTable('items');
  await addAutoIncrementKey(table, 'n', storage.dialect)
    .addColumn('v', 'text', (col) => col.notNull().unique())
    .execute();
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

function insert(value: string) {
  return async (trx: Kysely<Database>): Promise<string> => {
    await sql`insert into items (v) values (${value})`.execute(trx);
    return value;
  };
}

async function stored(): Promise<string[]> {
  const result = await sql<{ v: string }>`select v from items order by n`.execute(storage.db);
  return result.rows.map((row) => row.v);
}

/** Resolves after the macrotasks queued before it ran. */
function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('BatchWriter', () => {
  it('commits writes in submission order', async () => {
    const writer = new BatchWriter(storage.db, { maxBatch: 4 });
    const values = Array.from({ length: 10 }, (_, i) => `v${i}`);
    await Promise.all(values.map((value) => writer.write(insert(value))));
    expect(await stored()).toEqual(values);
  });

  it('resolves with the result of the write', async () => {
    const writer = new BatchWriter(storage.db);
    expect(await writer.write(insert('a'))).toBe('a');
  });

  it('fails only the write that throws', async () => {
    const writer = new BatchWriter(storage.db);
    const failing = writer.write(async (trx) => {
      await insert('b')(trx);
      throw new Error('boom');
    });
    const results = await Promise.allSettled([writer.write(insert('a')), failing, writer.write(insert('c'))]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('rolls back the failed write alone', async () => {
    const writer = new BatchWriter(storage.db);
    const failing = writer.write(async (trx) => {
      await insert('b')(trx);
      throw new Error('boom');
    });
    await Promise.allSettled([writer.write(insert('a')), failing, writer.write(insert('c'))]);
    expect(await stored()).toEqual(['a', 'c']);
  });

  it('runs a batch again after a failure', async () => {
    const writer = new BatchWriter(storage.db);
    const runs = { a: 0, b: 0, c: 0 };
    const counted = (value: 'a' | 'c') => (trx: Kysely<Database>) => {
      runs[value]++;
      return insert(value)(trx);
    };
    const first = writer.write(counted('a'));
    const failing = writer.write(() => {
      runs.b++;
      return Promise.reject(new Error('boom'));
    });
    await Promise.allSettled([first, failing, writer.write(counted('c'))]);
    expect(runs).toEqual({ a: 2, b: 2, c: 1 });
    expect(await stored()).toEqual(['a', 'c']);
    expect(writer.stats).toMatchObject({ batches: 1, committed: 2, failed: 1 });
  });

  it('runs a lone failing write once', async () => {
    const writer = new BatchWriter(storage.db);
    let runs = 0;
    const failing = writer.write(async (trx) => {
      runs++;
      await insert('x')(trx);
      throw new Error('boom');
    });
    await expect(failing).rejects.toThrow('boom');
    expect(runs).toBe(1);
    expect(await stored()).toEqual([]);
    expect(writer.stats.failed).toBe(1);
  });

  it('isolates a constraint violation', async () => {
    const writer = new BatchWriter(storage.db);
    const results = await Promise.allSettled([writer.write(insert('a')), writer.write(insert('a')), writer.write(insert('c'))]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('runs a full batch before the next macrotask', async () => {
    const writer = new BatchWriter(storage.db, { maxBatch: 3 });
    const writes = ['a', 'b', 'c'].map((value) => writer.write(insert(value)));
    // The third write took the batch out of the queue at once, without waiting for a macrotask.
    expect(writer.pending).toBe(0);
    await Promise.all(writes);
    expect(await stored()).toEqual(['a', 'b', 'c']);
  });

  it('runs a partial batch on the next macrotask', async () => {
    const writer = new BatchWriter(storage.db, { maxBatch: 256 });
    let ticked = false;
    setImmediate(() => (ticked = true));
    let seen: boolean | undefined;
    const write = writer.write(async (trx) => {
      seen = ticked;
      return insert('a')(trx);
    });
    // A lone write waits in the queue for the next macrotask.
    expect(writer.pending).toBe(1);
    await write;
    expect(seen).toBe(true);
  });

  it('commits a partial batch in one transaction', async () => {
    const writer = new BatchWriter(storage.db, { maxBatch: 256 });
    await Promise.all(['a', 'b', 'c'].map((value) => writer.write(insert(value))));
    expect(writer.stats.batches).toBe(1);
  });

  it('splits a long queue into batches of maxBatch', async () => {
    const writer = new BatchWriter(storage.db, { maxBatch: 3 });
    await Promise.all(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((value) => writer.write(insert(value))));
    expect(writer.stats.batches).toBe(3);
  });

  it('takes writes queued during a batch into the next', async () => {
    const writer = new BatchWriter(storage.db, { maxBatch: 256 });
    const first = writer.write(insert('a'));
    await nextMacrotask();
    const second = writer.write(insert('b'));
    await Promise.all([first, second]);
    expect(await stored()).toEqual(['a', 'b']);
  });

  it('drains the writes queued before', async () => {
    const writer = new BatchWriter(storage.db);
    void writer.write(insert('a'));
    void writer.write(insert('b')).catch(() => undefined);
    await writer.drained();
    expect(await stored()).toEqual(['a', 'b']);
  });

  it('commits queued writes on close', async () => {
    const writer = new BatchWriter(storage.db);
    const writes = ['a', 'b'].map((value) => writer.write(insert(value)));
    await writer.close();
    await Promise.all(writes);
    expect(await stored()).toEqual(['a', 'b']);
  });

  it('reports congestion until one batch is left', async () => {
    // The first two start a batch at once, so the queue then contains c, d and e.
    const writer = new BatchWriter(storage.db, { maxBatch: 2, congestedAt: 4 });
    const first = ['a', 'b', 'c', 'd', 'e'].map((value) => writer.write(insert(value)));
    expect(writer.congested).toBe(false);

    const sixth = writer.write(insert('f'));
    expect(writer.congested).toBe(true);
    let relievedWith = -1;
    const relieved = writer.relieved().then(() => (relievedWith = writer.pending));

    await Promise.all([...first, sixth, relieved]);
    expect(relievedWith).toBeLessThanOrEqual(2);
    expect(writer.congested).toBe(false);
    expect(await stored()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('relieves waiters on close', async () => {
    const writer = new BatchWriter(storage.db, { maxBatch: 1, congestedAt: 2 });
    const writes = ['a', 'b', 'c'].map((value) => writer.write(insert(value)));
    expect(writer.congested).toBe(true);
    const relieved = writer.relieved();
    await writer.close();
    await relieved;
    await Promise.all(writes);
    expect(writer.congested).toBe(false);
  });

  it('refuses writes after close', async () => {
    const writer = new BatchWriter(storage.db);
    await writer.close();
    await expect(writer.write(insert('a'))).rejects.toThrow(/closed/);
  });
});

describe.runIf(testsUsePostgres())('BatchWriter locks on PostgreSQL', () => {
  async function advisoryLocksHeld(db: Kysely<Database>): Promise<number> {
    const result = await sql<{ n: number | string }>`select count(*) as n from pg_locks where locktype = 'advisory' and granted`.execute(db);
    return Number(result.rows[0]!.n);
  }

  it('holds a named lock until commit', async () => {
    const other = await openTestStorage(join(dir, 'parley.db'));
    try {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const first = storage.batch.write(async (trx) => {
        await insert('first')(trx);
        await gate;
      }, { locks: ['archive:shared'] });
      for (let attempt = 0; attempt < 100 && (await advisoryLocksHeld(other.db)) === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 20));

      let secondDone = false;
      const second = other.batch.write(insert('second'), { locks: ['archive:shared', 'archive:other'] }).then(() => (secondDone = true));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(secondDone).toBe(false);

      release();
      await first;
      await second;
      expect(await stored()).toEqual(['first', 'second']);
    } finally {
      await other.close();
    }
  });

  it('keeps crossed writes from deadlocking', async () => {
    await sql`insert into items (v) values ('x'), ('y')`.execute(storage.db);
    const other = await openTestStorage(join(dir, 'parley.db'));
    try {
      let otherTookY!: () => void;
      const tookY = new Promise<void>((resolve) => (otherTookY = resolve));
      const touch = (from: string, to: string) => async (trx: Kysely<Database>) => {
        await sql`update items set v = ${to} where v = ${from}`.execute(trx);
      };

      // Unlocked, this batch holds x and waits for y while the other holds y and waits for x.
      const first = Promise.all([
        storage.batch.write(touch('x', 'x1'), { locks: ['account:x'] }),
        storage.batch.write(async (trx) => {
          await Promise.race([tookY, new Promise((resolve) => setTimeout(resolve, 500))]);
          await touch('y', 'y1')(trx);
        }, { locks: ['account:y'] }),
      ]);
      const second = Promise.all([
        other.batch.write(async (trx) => {
          await touch('y', 'y2')(trx);
          otherTookY();
        }, { locks: ['account:y'] }),
        other.batch.write(async (trx) => {
          await sql`update items set v = v || '2' where v like 'x%'`.execute(trx);
        }, { locks: ['account:x'] }),
      ]);

      await Promise.all([first, second]);
      // One batch ran wholly before the other.
      expect([
        ['x12', 'y1'],
        ['x2', 'y2'],
      ]).toContainEqual((await stored()).sort());
    } finally {
      await other.close();
    }
  });

  it('lets writes with other names pass', async () => {
    const other = await openTestStorage(join(dir, 'parley.db'));
    try {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const first = storage.batch.write(async () => gate, { locks: ['archive:one'] });
      for (let attempt = 0; attempt < 100 && (await advisoryLocksHeld(other.db)) === 0; attempt++) await new Promise((resolve) => setTimeout(resolve, 20));

      await other.batch.write(insert('other'), { locks: ['archive:two'] });
      release();
      await first;
      expect(await stored()).toEqual(['other']);
    } finally {
      await other.close();
    }
  });
});
