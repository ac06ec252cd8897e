/** Logs in and out in a closed loop: one loop per account, each starting a new login as soon as its last one has closed. */
import { performance } from 'node:perf_hooks';

import { XmppConnection } from './client.js';
import { Histogram, type HistogramData } from './histogram.js';
import type { ErrorSummary, LoginsTask } from './protocol.js';
import { ErrorCollector, sleep } from './util.js';

/** Result of a logins task. */
export interface LoginsResult {
  /** Logins that reached a bound resource before the deadline. */
  completed: number;
  /** From the start to the deadline, or to the login that reached maxLogins. */
  elapsedMs: number;
  /** From opening the TCP connection to the bind result. */
  latency: HistogramData;
  errors: ErrorSummary;
}

/** A failed login waits this long before the next, so a refusing server does not turn the loop into a spin. */
const FAILURE_PAUSE_MS = 100;

/** Runs the login loops until the duration or the login count is reached. */
export async function runLogins(task: LoginsTask): Promise<LoginsResult> {
  const start = performance.now();
  const deadline = start + task.durationMs;
  let end = deadline;
  let completed = 0;
  const latency = new Histogram();
  const errors = new ErrorCollector();

  const loop = async (account: (typeof task.accounts)[number]): Promise<void> => {
    while (performance.now() < deadline && completed < task.maxLogins) {
      const begin = performance.now();
      try {
        const connection = await XmppConnection.login(task.target, account, false);
        const bound = performance.now();
        if (bound <= deadline && completed < task.maxLogins) {
          completed++;
          latency.record(bound - begin);
          if (completed === task.maxLogins) end = bound;
        }
        await connection.close();
      } catch (err) {
        errors.add(err);
        await sleep(FAILURE_PAUSE_MS);
      }
    }
  };

  await Promise.all(task.accounts.map(loop));
  return { completed, elapsedMs: end - start, latency: latency.toData(), errors: errors.summary() };
}
