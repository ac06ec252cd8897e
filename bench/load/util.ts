/** Small helpers shared by the load tasks. */
import type { ErrorSummary } from './protocol.js';

const MAX_ERROR_SAMPLES = 5;

/** Counts errors and keeps a few distinct messages as examples. */
export class ErrorCollector {
  private count = 0;
  private readonly samples = new Set<string>();

  /** Records one error. */
  add(err: unknown): void {
    this.count++;
    const message = err instanceof Error ? err.message : String(err);
    if (this.samples.size < MAX_ERROR_SAMPLES) this.samples.add(message);
  }

  /** Returns the count and the sample messages. */
  summary(): ErrorSummary {
    return { count: this.count, samples: [...this.samples] };
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs `task` on every item with at most `concurrency` running at once; resolves when all have settled. */
export async function forEachLimited<T>(items: readonly T[], concurrency: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let nextIndex = 0;
  const lane = async (): Promise<void> => {
    while (nextIndex < items.length) {
      const index = nextIndex++;
      await task(items[index]!, index);
    }
  };
  const lanes = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, lane);
  await Promise.all(lanes);
}
