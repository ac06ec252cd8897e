/** Scenario "idle": the server's memory with many idle, available sessions. */
import type { IdleReady, IdleResult } from '../load/task-idle.js';
import { sleep } from '../load/util.js';
import { Interval, errorRemarks, figure, split } from './measure.js';
import type { Figure, Scenario } from './types.js';

/** Bound on connecting all sessions; 10,000 sessions take well under a minute on two cores. */
const RAMP_TIMEOUT_MS = 600_000;
const CLOSE_TIMEOUT_MS = 120_000;
/** Pause after the server starts, so the baseline is not taken mid-start-up. */
const SETTLE_MS = 1000;
const MIB = 1024 * 1024;

/** Memory held per idle session. */
export const idleScenario: Scenario = {
  name: 'idle',
  summary: 'memory of the server process with N idle, available sessions (RSS, and V8 heap for Parley)',
  accountsNeeded: (settings) => settings.sessions,

  async run({ server, pool, accounts, settings, log }) {
    await sleep(SETTLE_MS);
    const before = await server.memory();

    const slices = split(accounts.slice(0, settings.sessions), pool.size);
    const interval = new Interval(server);
    const group = pool.run(
      slices.map((slice) => ({ kind: 'idle', target: server.target, accounts: slice, concurrency: Math.ceil(settings.idleConcurrency / slices.length) })),
    );
    const ready = await group.event<IdleReady>('ready', RAMP_TIMEOUT_MS);
    const ramp = interval.stop();
    const connected = ready.values.reduce((sum, value) => sum + value.connected, 0);
    log(`${connected} sessions open; holding them for ${settings.holdSeconds} s`);

    await sleep(settings.holdSeconds * 1000);
    const after = await server.memory();
    group.signal('release');
    const { values } = await group.done<IdleResult>(CLOSE_TIMEOUT_MS);
    const alive = values.reduce((sum, value) => sum + value.alive, 0);

    const rampMs = Math.max(...ready.values.map((value) => value.rampMs));
    const figures: Figure[] = [
      figure('sessions held', connected, 'higher'),
      figure('sessions still open at the end', alive, 'higher'),
      figure('RSS before (MiB)', before.rssBytes / MIB, 'lower', 1),
      figure('RSS with the sessions (MiB)', after.rssBytes / MIB, 'lower', 1),
      figure('RSS per session (KiB)', (after.rssBytes - before.rssBytes) / 1024 / connected, 'lower', 1),
    ];
    if (before.heapUsedBytes !== undefined && after.heapUsedBytes !== undefined) {
      figures.push(
        figure('V8 heap before (MiB)', before.heapUsedBytes / MIB, 'lower', 1),
        figure('V8 heap with the sessions (MiB)', after.heapUsedBytes / MIB, 'lower', 1),
        figure('V8 heap per session (KiB)', (after.heapUsedBytes - before.heapUsedBytes) / 1024 / connected, 'lower', 1),
      );
    }
    figures.push(
      figure('sessions opened per second while connecting', (connected * 1000) / rampMs, 'higher'),
      figure('server CPU while connecting (% of one core)', ramp.serverCpuPercent, 'neither'),
      figure('load generator CPU while connecting (% of one core)', (100 * ready.cpuMs) / ramp.wallMs, 'neither'),
    );
    return { figures, remarks: errorRemarks('idle logins', ready.values.map((value) => value.errors)) };
  },
};
