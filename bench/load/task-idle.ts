/** Opens many available sessions and holds them, idle, until the parent has measured the server. */
import { performance } from 'node:perf_hooks';

import { XmppConnection } from './client.js';
import type { ErrorSummary, IdleTask, TaskContext } from './protocol.js';
import { ErrorCollector, forEachLimited } from './util.js';

/** The 'ready' event of an idle task. */
export interface IdleReady {
  connected: number;
  /** From the first connection attempt to the last session bound. */
  rampMs: number;
  errors: ErrorSummary;
}

/** Result of an idle task, reported after the sessions are closed. */
export interface IdleResult {
  /** Sessions still open when the parent released them. */
  alive: number;
}

/** Connects every account, reports 'ready', waits for 'release', then closes every session. */
export async function runIdle(task: IdleTask, context: TaskContext): Promise<IdleResult> {
  const connections: XmppConnection[] = [];
  const errors = new ErrorCollector();
  const start = performance.now();

  await forEachLimited(task.accounts, task.concurrency, async (account) => {
    try {
      connections.push(await XmppConnection.login(task.target, account, true));
    } catch (err) {
      errors.add(err);
    }
  });
  const ready: IdleReady = { connected: connections.length, rampMs: performance.now() - start, errors: errors.summary() };
  context.emit('ready', ready);

  await context.signal('release');
  const alive = connections.filter((connection) => !connection.closed).length;
  await forEachLimited(connections, 200, (connection) => connection.close());
  return { alive };
}
