/** Scenario "logins": full logins per second (connect, SCRAM-SHA-256, bind, close) at a fixed concurrency. */
import { Histogram } from '../load/histogram.js';
import type { LoginsResult } from '../load/task-logins.js';
import { Interval, errorRemarks, figure, latencyFigures, split } from './measure.js';
import type { Scenario } from './types.js';

/** Time allowed after the login duration for the last logins and closes. */
const GRACE_MS = 60_000;

/** Logins per second with SCRAM-SHA-256. */
export const loginsScenario: Scenario = {
  name: 'logins',
  summary: 'logins per second: connect, SASL SCRAM-SHA-256, bind, close, in closed loops',
  accountsNeeded: (settings) => settings.loginConcurrency,

  async run({ server, pool, accounts, settings }) {
    const slices = split(accounts.slice(0, settings.loginConcurrency), pool.size);
    const interval = new Interval(server);
    const group = pool.run(
      slices.map((slice) => ({
        kind: 'logins',
        target: server.target,
        accounts: slice,
        durationMs: settings.loginSeconds * 1000,
        maxLogins: Math.ceil(settings.maxLogins / slices.length),
      })),
    );
    const { values, cpuMs } = await group.done<LoginsResult>(settings.loginSeconds * 1000 + GRACE_MS);
    const { wallMs, serverCpuPercent } = interval.stop();

    const completed = values.reduce((sum, result) => sum + result.completed, 0);
    const elapsedMs = Math.max(...values.map((result) => result.elapsedMs));
    const latency = new Histogram();
    for (const result of values) latency.merge(result.latency);
    return {
      figures: [
        figure('logins per second', (completed * 1000) / elapsedMs, 'higher'),
        ...latencyFigures('login time', latency),
        figure('login errors', values.reduce((sum, result) => sum + result.errors.count, 0), 'lower'),
        figure('server CPU during logins (% of one core)', serverCpuPercent, 'neither'),
        figure('load generator CPU during logins (% of one core)', (100 * cpuMs) / wallMs, 'neither'),
      ],
      remarks: errorRemarks('logins', values.map((result) => result.errors)),
    };
  },
};
