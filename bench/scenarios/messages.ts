/**
 * Scenario "messages": one-to-one chat messages between pairs of sessions, first at
 * saturation (each sender keeps a window of messages in flight), then paced at half the
 * saturating rate, with the delivery latency of each phase.
 */
import type { Account } from '../load/client.js';
import { Histogram } from '../load/histogram.js';
import type { TaskGroup } from '../load/pool.js';
import type { MessagePhase, MessagePhaseResult } from '../load/protocol.js';
import type { MessagesReady } from '../load/task-messages.js';
import type { RunningServer } from '../servers/types.js';
import { Interval, errorRemarks, figure, latencyFigures, split } from './measure.js';
import type { BenchSettings, Figure, Scenario } from './types.js';

const CONNECT_TIMEOUT_MS = 300_000;
/** Bound on a phase beyond its warm-up and duration: the workers' drain (5 s) and slack. */
const PHASE_GRACE_MS = 60_000;

/** Messages per second and delivery latency. */
export const messagesScenario: Scenario = {
  name: 'messages',
  summary: '1:1 chat messages between pairs: rate and latency at saturation, then latency at half that rate',
  accountsNeeded: (settings) => settings.pairs * 2,

  async run({ server, pool, accounts, settings, log }) {
    const pairSlices = split(makePairs(accounts, settings.pairs), pool.size);
    const group = pool.run(pairSlices.map((pairs) => ({ kind: 'messages', target: server.target, pairs, window: settings.window })));
    const ready = await group.event<MessagesReady>('ready', CONNECT_TIMEOUT_MS);
    const pairCount = ready.values.reduce((sum, value) => sum + value.pairs, 0);
    const remarks = errorRemarks('message clients', ready.values.map((value) => value.errors));

    const perWorker = (rate: number) =>
      ready.values.map(
        (value): MessagePhase => ({
          warmupMs: settings.warmupSeconds * 1000,
          durationMs: settings.messageSeconds * 1000,
          rate: (rate * value.pairs) / Math.max(1, pairCount),
          maxMessages: Math.ceil(settings.maxMessages / ready.values.length),
        }),
      );

    const saturated = await runPhase(group, server, 'saturate', perWorker(0), settings);
    log(`${pairCount} pairs: ${Math.round(saturated.rate)} messages/s at saturation; pacing at half that rate`);
    const paced = await runPhase(group, server, 'paced', perWorker(saturated.rate / 2), settings);
    await group.done(PHASE_GRACE_MS);

    const figures: Figure[] = [
      figure('pairs connected', pairCount, 'higher'),
      figure('messages per second at saturation', saturated.rate, 'higher'),
      ...latencyFigures('latency at saturation', saturated.latency),
      figure('server CPU at saturation (% of one core)', saturated.serverCpuPercent, 'neither'),
      figure('load generator CPU at saturation (% of one core)', saturated.generatorCpuPercent, 'neither'),
      figure('paced rate: half of saturation (messages/s)', saturated.rate / 2, 'higher'),
      figure('messages per second delivered when paced', paced.rate, 'higher'),
      ...latencyFigures('latency at half rate', paced.latency),
      figure('messages missing after both phases', saturated.missing + paced.missing, 'lower'),
    ];
    return { figures, remarks };
  },
};

/** Pairs consecutive accounts: (0, 1), (2, 3), ... */
function makePairs(accounts: Account[], pairs: number): [Account, Account][] {
  const result: [Account, Account][] = [];
  for (let i = 0; i < pairs; i++) result.push([accounts[2 * i]!, accounts[2 * i + 1]!]);
  return result;
}

interface PhaseSummary {
  rate: number;
  latency: Histogram;
  missing: number;
  serverCpuPercent: number;
  generatorCpuPercent: number;
}

async function runPhase(group: TaskGroup, server: RunningServer, name: string, phases: MessagePhase[], settings: BenchSettings): Promise<PhaseSummary> {
  const interval = new Interval(server);
  group.signal(name, phases, true);
  const timeoutMs = (settings.warmupSeconds + settings.messageSeconds) * 1000 + PHASE_GRACE_MS;
  const { values, cpuMs } = await group.event<MessagePhaseResult>(name, timeoutMs);
  const { wallMs, serverCpuPercent } = interval.stop();

  const latency = new Histogram();
  for (const value of values) latency.merge(value.latency);
  return {
    // Each worker measures over its own interval; their rates add up.
    rate: values.reduce((sum, value) => sum + (value.measuredMs > 0 ? (value.delivered * 1000) / value.measuredMs : 0), 0),
    latency,
    missing: values.reduce((sum, value) => sum + value.missing, 0),
    serverCpuPercent,
    generatorCpuPercent: (100 * cpuMs) / wallMs,
  };
}
