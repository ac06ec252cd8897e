import { sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';

import type { SqliteStatements } from './db.js';
import type { Database } from './schema.js';

/**
 * A unit of work for the batch writer. It must use only `trx`: a query on the plain database
 * would wait for the batch forever. It may run twice, when another write of its batch fails,
 * so it must change nothing outside `trx`.
 */
export type BatchWrite<T> = (trx: Transaction<Database>) => Promise<T>;

/** Tuning of the batch writer. */
export interface BatchWriterOptions {
  /** Queued writes that start a flush at once instead of on the next macrotask. Default 256. */
  maxBatch?: number;
  /** Queued writes at which the writer counts as congested until the queue is down to one batch. Default 8 batches. */
  congestedAt?: number;
  /** The SQLite connection's statements. With them, savepoints skip Kysely, which costs more CPU than the statements themselves. */
  statements?: SqliteStatements;
  /**
   * Takes the named locks of a batch's writes at the start of its transaction, held until
   * it ends. Without it, names are ignored: one SQLite process is the only writer.
   */
  lockNames?: (trx: Transaction<Database>, names: string[]) => Promise<void>;
}

/** Options of one write. */
export interface WriteOptions {
  /**
   * Names of what the write must change alone, such as one archive: a transaction of
   * another process that names one of them waits until the batch commits.
   */
  locks?: readonly string[];
}

/** Counters for tests and benchmarks. */
export interface BatchWriterStats {
  /** Batches committed. */
  batches: number;
  /** Writes that resolved. */
  committed: number;
  /** Writes that failed on their own and were rolled back. */
  failed: number;
}

interface QueuedWrite {
  fn: BatchWrite<unknown>;
  locks?: readonly string[];
  resolve: (value: unknown) => void;
  reject: (reason: unknown) => void;
}

interface Outcome {
  write: QueuedWrite;
  ok: boolean;
  value: unknown;
}

const DEFAULT_MAX_BATCH = 256;
const CONGESTED_BATCHES = 8;
const SAVEPOINT = 'batch_write';

/**
 * Group commit: queued writes run together in one transaction, so that one fsync makes a
 * whole batch durable. A batch starts when `maxBatch` writes are queued or on the next
 * macrotask (setImmediate), whichever comes first. Writes queued while a batch runs form
 * the next one. Writes run and commit in submission order. A write that throws is rolled
 * back and fails alone: the batch then runs again with each write in a savepoint. A
 * promise resolves only after the transaction holding its write committed.
 */
export class BatchWriter {
  readonly stats: BatchWriterStats = { batches: 0, committed: 0, failed: 0 };
  private readonly maxBatch: number;
  private readonly congestedAt: number;
  private relief: { promise: Promise<void>; resolve: () => void } | undefined;
  private readonly savepoints: Savepoints;
  private readonly lockNames: BatchWriterOptions['lockNames'];
  private queue: QueuedWrite[] = [];
  private tick: NodeJS.Immediate | undefined;
  private draining: Promise<void> | undefined;
  private closed = false;
  /** The newest write; writes settle in submission order, so it settles last. */
  private newest: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly db: Kysely<Database>,
    options: BatchWriterOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.congestedAt = options.congestedAt ?? CONGESTED_BATCHES * this.maxBatch;
    this.savepoints = options.statements ? sqliteSavepoints(options.statements) : kyselySavepoints;
    this.lockNames = options.lockNames;
  }

  /** Queues `fn` and resolves with its result once its transaction committed. */
  write<T>(fn: BatchWrite<T>, options: WriteOptions = {}): Promise<T> {
    if (this.closed) return Promise.reject(new Error('The batch writer is closed.'));
    const result = new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, locks: options.locks, resolve: resolve as (value: unknown) => void, reject });
      if (this.queue.length >= this.congestedAt) this.congest();
      if (this.queue.length >= this.maxBatch) this.startDrain();
      else this.scheduleDrain();
    });
    this.newest = result;
    return result;
  }

  /** Resolves once every write queued before the call has committed or failed: read-your-writes for readers. */
  drained(): Promise<void> {
    return this.newest.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Number of writes waiting for a batch. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * True from the moment `congestedAt` writes are queued until the queue is down to one
   * batch. The disk is then behind, so producers that can wait (client sessions) should
   * stop reading input until `relieved()` resolves.
   */
  get congested(): boolean {
    return this.relief !== undefined;
  }

  /** Resolves when the writer is no longer congested, at once if it is not. */
  relieved(): Promise<void> {
    return this.relief?.promise ?? Promise.resolve();
  }

  /** Commits every queued write, then refuses new ones. */
  async close(): Promise<void> {
    this.closed = true;
    this.startDrain();
    while (this.draining) await this.draining;
    this.relieve();
  }

  private congest(): void {
    if (this.relief) return;
    let resolve = () => {};
    const promise = new Promise<void>((done) => (resolve = done));
    this.relief = { promise, resolve };
  }

  private relieve(): void {
    const relief = this.relief;
    this.relief = undefined;
    relief?.resolve();
  }

  private scheduleDrain(): void {
    if (this.tick || this.draining) return;
    this.tick = setImmediate(() => {
      this.tick = undefined;
      this.startDrain();
    });
  }

  private startDrain(): void {
    if (this.tick) {
      clearImmediate(this.tick);
      this.tick = undefined;
    }
    if (this.draining || this.queue.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // A write queued after the loop's last check and before this callback would wait forever otherwise.
      if (this.queue.length > 0) this.startDrain();
    });
  }

  /** Runs batches until the queue is empty; writes queued meanwhile join the next batch. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      await this.runBatch(batch);
      if (this.queue.length <= this.maxBatch) this.relieve();
    }
  }

  private async runBatch(batch: QueuedWrite[]): Promise<void> {
    let outcomes: Outcome[];
    try {
      outcomes = await this.commitBatch(batch);
    } catch (error) {
      // The transaction itself failed (begin, savepoint or commit): nothing of the batch is durable.
      for (const write of batch) write.reject(error);
      this.stats.failed += batch.length;
      return;
    }

    this.stats.batches++;
    for (const { write, ok, value } of outcomes) {
      if (ok) {
        this.stats.committed++;
        write.resolve(value);
      } else {
        this.stats.failed++;
        write.reject(value);
      }
    }
  }

  /**
   * Runs the batch without savepoints first, because writes rarely fail. When one throws,
   * the transaction rolls back and the batch runs again with a savepoint around each write,
   * so that the failing write fails alone.
   */
  private async commitBatch(batch: QueuedWrite[]): Promise<Outcome[]> {
    const outcomes = await this.runTransaction(batch, false);
    return outcomes ?? (await this.runTransaction(batch, true))!;
  }

  /**
   * Runs `batch` in one transaction and commits it. Without savepoints (`isolated` false), a
   * write that throws rolls the whole transaction back, and the result is undefined unless
   * that write was the batch's only one.
   */
  private async runTransaction(batch: QueuedWrite[], isolated: boolean): Promise<Outcome[] | undefined> {
    const trx = await this.db.startTransaction().execute();
    try {
      if (this.lockNames) {
        const names = new Set(batch.flatMap((write) => write.locks ?? []));
        if (names.size > 0) await this.lockNames(trx, [...names]);
      }
      const outcomes: Outcome[] = [];
      for (const write of batch) {
        const outcome = isolated ? await this.runWrite(trx, write) : await runPlain(trx, write);
        if (!outcome.ok && !isolated) {
          await trx.rollback().execute();
          return batch.length === 1 ? [outcome] : undefined;
        }
        outcomes.push(outcome);
      }
      await trx.commit().execute();
      return outcomes;
    } catch (error) {
      await trx.rollback().execute().catch(() => undefined);
      throw error;
    }
  }

  /** Runs one write in a savepoint, and rolls a write that throws back to it. */
  private async runWrite(trx: Transaction<Database>, write: QueuedWrite): Promise<Outcome> {
    await this.savepoints.begin(trx);
    try {
      const value = await write.fn(trx);
      await this.savepoints.release(trx);
      return { write, ok: true, value };
    } catch (error) {
      await this.savepoints.rollback(trx);
      await this.savepoints.release(trx);
      return { write, ok: false, value: error };
    }
  }
}

/** Runs one write on the batch's transaction without a savepoint. */
async function runPlain(trx: Transaction<Database>, write: QueuedWrite): Promise<Outcome> {
  try {
    return { write, ok: true, value: await write.fn(trx) };
  } catch (error) {
    return { write, ok: false, value: error };
  }
}

/** Savepoint statements on the batch's transaction. */
interface Savepoints {
  begin(trx: Transaction<Database>): Promise<unknown>;
  release(trx: Transaction<Database>): Promise<unknown>;
  rollback(trx: Transaction<Database>): Promise<unknown>;
}

const kyselySavepoints: Savepoints = {
  begin: (trx) => sql.raw(`savepoint ${SAVEPOINT}`).execute(trx),
  release: (trx) => sql.raw(`release savepoint ${SAVEPOINT}`).execute(trx),
  rollback: (trx) => sql.raw(`rollback to savepoint ${SAVEPOINT}`).execute(trx),
};

/** Runs the savepoint statements directly on the connection, where the batch's transaction is open while a write runs. */
function sqliteSavepoints(statements: SqliteStatements): Savepoints {
  const run = (text: string) => {
    statements.prepare(text).run();
    return Promise.resolve();
  };
  return {
    begin: () => run(`savepoint ${SAVEPOINT}`),
    release: () => run(`release savepoint ${SAVEPOINT}`),
    rollback: () => run(`rollback to savepoint ${SAVEPOINT}`),
  };
}
