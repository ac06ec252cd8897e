import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Flushes a file's written data to the disk; replaceable in tests. */
export type Flush = (file: FileHandle) => Promise<void>;

const flushFile: Flush = (file) => file.sync();

/**
 * Makes commits of an SQLite database in WAL mode durable off the event loop.
 *
 * The connection runs with `synchronous = NORMAL`, so a commit writes its WAL frames
 * without waiting for the disk. `sync()` then fsyncs the WAL file in libuv's thread pool.
 * Once it resolves, the commit survives power loss as it would with `synchronous = FULL`,
 * because its frames, commit frame included, are on the disk and SQLite replays them when
 * it next opens the file.
 *
 * Calls that arrive while an fsync runs share the next one, because the running one may
 * have started before their commit wrote its frames.
 */
export class WalSync {
  private file: Promise<FileHandle> | undefined;
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly databasePath: string,
    private readonly flush: Flush = flushFile,
  ) {}

  /** Resolves once everything committed before the call is on the disk. */
  sync(): Promise<void> {
    if (this.queued) return this.queued;
    if (!this.running) return this.start();

    this.queued = this.running
      .catch(() => undefined)
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    return this.queued;
  }

  /** Waits for the fsync in progress, then closes the WAL file handle. */
  async close(): Promise<void> {
    this.closed = true;
    await this.queued?.catch(() => undefined);
    await this.running?.catch(() => undefined);
    const file = await this.file?.catch(() => undefined);
    this.file = undefined;
    await file?.close();
  }

  private start(): Promise<void> {
    const round = this.flushWal().finally(() => {
      if (this.running === round) this.running = undefined;
    });
    this.running = round;
    return round;
  }

  private async flushWal(): Promise<void> {
    if (this.closed) throw new Error('The database is closed.');
    this.file ??= this.openWal();
    const file = await this.file.catch((error: unknown) => {
      this.file = undefined;
      throw error;
    });
    await this.flush(file);
  }

  /**
   * Opens the WAL file once and syncs its folder, so that the file's name is on the disk
   * too. SQLite keeps the file while any connection has the database open, so the
   * handle stays valid for this connection's life.
   */
  private async openWal(): Promise<FileHandle> {
    const file = await open(`${this.databasePath}-wal`, 'r+');
    const folder = await open(dirname(this.databasePath), 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
    return file;
  }
}
