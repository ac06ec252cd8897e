/** Helpers the scenarios share: splitting work over workers and measuring CPU over an interval. */
import { performance } from 'node:perf_hooks';

import type { Histogram } from '../load/histogram.js';
import type { ErrorSummary } from '../load/protocol.js';
import type { RunningServer } from '../servers/types.js';
import type { Better, Figure } from './types.js';

/** Splits items into `parts` contiguous slices of nearly equal size, leaving out empty ones. */
export function split<T>(items: readonly T[], parts: number): T[][] {
  const slices: T[][] = [];
  const size = Math.ceil(items.length / parts);
  for (let start = 0; start < items.length; start += size) slices.push(items.slice(start, start + size));
  return slices;
}

/** Measures the server's CPU time and the wall time between start and stop. */
export class Interval {
  private readonly startWall = performance.now();
  private readonly startCpu: number;

  constructor(private readonly server: RunningServer) {
    this.startCpu = server.cpuMs();
  }

  /** Returns the wall time so far in ms and the server's CPU use as a percentage of one core. */
  stop(): { wallMs: number; serverCpuPercent: number } {
    const wallMs = performance.now() - this.startWall;
    return { wallMs, serverCpuPercent: (100 * (this.server.cpuMs() - this.startCpu)) / wallMs };
  }
}

/** Builds a figure. */
export function figure(label: string, value: number, better: Better, digits = 0): Figure {
  return { label, value, better, digits };
}

/** Returns the 50th and 99th percentile figures of a latency histogram, in ms. */
export function latencyFigures(prefix: string, histogram: Histogram): Figure[] {
  return [figure(`${prefix} p50 (ms)`, histogram.percentile(0.5), 'lower', 1), figure(`${prefix} p99 (ms)`, histogram.percentile(0.99), 'lower', 1)];
}

/** Adds up the error summaries of several workers into remark lines. */
export function errorRemarks(source: string, summaries: ErrorSummary[]): string[] {
  const count = summaries.reduce((sum, summary) => sum + summary.count, 0);
  if (count === 0) return [];
  const samples = [...new Set(summaries.flatMap((summary) => summary.samples))].slice(0, 5);
  return [`${source}: ${count} errors, for example: ${samples.join(' | ')}`];
}
