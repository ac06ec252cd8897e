/**
 * Removes what uploads leave behind: files past `upload.expire_after_days`, slots whose
 * lifetime ended unused, rows of deleted accounts and, at start, files without a row.
 * Runs at start and then hourly.
 */
import type { UploadService } from './service.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const BATCH = 500;
/** Batches of one kind per sweep; the next sweep continues where this one stopped. */
const MAX_BATCHES = 100;

export interface SweepResult {
  expired: number;
  slots: number;
  orphans: number;
  strayFiles: number;
}

export class UploadSweeper {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<SweepResult> | undefined;

  constructor(private readonly service: UploadService) {}

  /** Sweeps now, with a walk over the stored files, and then every hour. */
  start(): void {
    void this.sweepLogged(true);
    this.timer = setInterval(() => void this.sweepLogged(false), HOUR_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Runs one sweep; a sweep asked for while one runs shares its result. */
  sweep(walkFiles = false): Promise<SweepResult> {
    this.running ??= this.run(walkFiles).finally(() => (this.running = undefined));
    return this.running;
  }

  private async sweepLogged(walkFiles: boolean): Promise<void> {
    try {
      const result = await this.sweep(walkFiles);
      if (Object.values(result).some((count) => count > 0)) this.service.log.info(result, 'swept uploads');
    } catch (err) {
      this.service.log.warn({ err }, 'sweeping uploads failed; the next sweep tries again');
    }
  }

  private async run(walkFiles: boolean): Promise<SweepResult> {
    const now = this.service.clock.now();
    this.service.pruneRateLimit();
    const result: SweepResult = { expired: await this.expired(now), slots: await this.unusedSlots(now), orphans: await this.orphans(), strayFiles: 0 };
    if (walkFiles) result.strayFiles = await this.strayFiles();
    return result;
  }

  private async expired(now: number): Promise<number> {
    const days = this.service.settings.expire_after_days;
    if (days === 0) return 0;
    return this.inBatches(() => this.service.server.storage.uploads.storedBefore(now - days * DAY_MS, BATCH));
  }

  private async unusedSlots(now: number): Promise<number> {
    const uploads = this.service.server.storage.uploads;
    return this.inBatches(async () => {
      const slots = await uploads.unusedSlots(now, BATCH);
      return slots.filter((slot) => !this.service.uploading.has(slot.id)).map((slot) => slot.id);
    });
  }

  private async orphans(): Promise<number> {
    return this.inBatches(() => this.service.server.storage.uploads.orphans(BATCH));
  }

  /** Deletes batches of uploads until a batch comes back empty. */
  private async inBatches(next: () => Promise<string[]>): Promise<number> {
    let deleted = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const ids = await next();
      if (ids.length === 0) break;
      for (const id of ids) await this.service.deleteUpload(id);
      deleted += ids.length;
    }
    return deleted;
  }

  /** Deletes stored files whose upload has no row, such as files a crash left between write and commit. */
  private async strayFiles(): Promise<number> {
    const { store, server } = this.service;
    let deleted = 0;
    for await (const id of store.list()) {
      const uploadId = id.split('.', 1)[0] ?? id;
      if (this.service.uploading.has(uploadId) || (await server.storage.uploads.get(uploadId))) continue;
      await store.delete(id);
      deleted++;
    }
    return deleted;
  }
}
