import { runWebDataBench, type BenchOptions } from './core.js';

interface MemoryInfo {
  usedJSHeapSize: number;
}

// Called by bench/web-data.ts through playwright-core.
(globalThis as unknown as { runBench(options: BenchOptions): unknown }).runBench = (options: BenchOptions) =>
  runWebDataBench({ ...options, heap: () => (performance as unknown as { memory?: MemoryInfo }).memory?.usedJSHeapSize });
