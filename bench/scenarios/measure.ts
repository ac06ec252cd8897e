/** Helpers the scenarios share: splitting work over workers and measuring CPU over an interval. */
import { performance } from 'node:perf_hooks';

import type { Histogram } from '../load/histogram.js';
import { sleep } from '../load/util.js';
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

/** Wall time and CPU time between the start and the stop of an Interval. */
export interface IntervalFigures {
  wallMs: number;
  /** The server's CPU time in ms (for a cluster, the sum over its nodes). */
  serverCpuMs: number;
  /** The server's CPU use as a percentage of one core. */
  serverCpuPercent: number;
  /** CPU time in ms of each of the server's service processes, by name. */
  serviceCpuMs: Map<string, number>;
}

/** Measures the CPU time of the server and of its service processes, and the wall time, between start and stop. */
export class Interval {
  private readonly startWall = performance.now();
  private readonly startCpu: number;
  private readonly startServices: number[];

  constructor(private readonly server: RunningServer) {
    this.startCpu = server.cpuMs();
    this.startServices = (server.services ?? []).map((service) => service.cpuMs());
  }

  stop(): IntervalFigures {
    const wallMs = performance.now() - this.startWall;
    const serverCpuMs = this.server.cpuMs() - this.startCpu;
    const serviceCpuMs = new Map((this.server.services ?? []).map((service, index) => [service.name, service.cpuMs() - this.startServices[index]!]));
    return { wallMs, serverCpuMs, serverCpuPercent: (100 * serverCpuMs) / wallMs, serviceCpuMs };
  }
}

/** Share of one core below which a server counts as idle. */
const IDLE_CPU_SHARE = 0.05;
const IDLE_WINDOW_MS = 1000;

/**
 * Waits until the server (for a cluster, all its nodes together) has used less than 5% of
 * one core over one second, or until `maxMs` passed. Returns how long the server stayed
 * busy, in ms, and whether it became idle.
 */
export async function waitUntilIdle(server: RunningServer, maxMs: number): Promise<{ busyMs: number; idle: boolean }> {
  const start = performance.now();
  let before = server.cpuMs();
  while (performance.now() - start < maxMs) {
    await sleep(IDLE_WINDOW_MS);
    const now = server.cpuMs();
    if (now - before < IDLE_CPU_SHARE * IDLE_WINDOW_MS) return { busyMs: performance.now() - start - IDLE_WINDOW_MS, idle: true };
    before = now;
  }
  return { busyMs: performance.now() - start, idle: false };
}

/** Adds up the figures of consecutive intervals. */
export function sumIntervals(intervals: IntervalFigures[]): IntervalFigures {
  const serviceCpuMs = new Map<string, number>();
  for (const interval of intervals) {
    for (const [name, cpuMs] of interval.serviceCpuMs) serviceCpuMs.set(name, (serviceCpuMs.get(name) ?? 0) + cpuMs);
  }
  const wallMs = intervals.reduce((sum, interval) => sum + interval.wallMs, 0);
  const serverCpuMs = intervals.reduce((sum, interval) => sum + interval.serverCpuMs, 0);
  return { wallMs, serverCpuMs, serverCpuPercent: (100 * serverCpuMs) / wallMs, serviceCpuMs };
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
