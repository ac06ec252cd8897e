import { describe, expect, it } from 'vitest';
import { runWebBench, SEARCHES } from '../bench/web.js';

// A short run of `npm run bench:web` with little data, to catch a broken benchmark. It checks
// that every step completes and reports figures, never how fast anything was.
describe('web client benchmark, short run', () => {
  it('measures sign-in, opening, searching and the heap', async () => {
    const figures = await runWebBench({ runs: 1, messages: 2_000, conversations: 20 });

    expect(figures.runs).toHaveLength(1);
    const [run] = figures.runs;
    for (const value of [figures.fillMs, run!.signInMs, run!.listedMs, run!.openMs, run!.heapMb]) expect(value).toBeGreaterThan(0);
    expect(run!.signInMs).toBeGreaterThanOrEqual(run!.listedMs);
    for (const text of SEARCHES) {
      expect(run!.searchMs[text]).toBeGreaterThan(0);
      expect(run!.hits[text]).toBeGreaterThan(0);
    }
  }, 90_000);
});
