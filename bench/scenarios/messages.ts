/**
 * Scenario "messages": one-to-one chat messages between pairs of sessions, first at
 * saturation (each sender keeps a window of messages in flight), then paced at half the
 * saturating rate, with the delivery latency and the CPU time per message of each phase.
 * On a cluster, the two members of each pair connect to different nodes.
 */
import type { Account, Target } from '../load/client.js';
import { Histogram } from '../load/histogram.js';
import type { TaskGroup } from '../load/pool.js';
import type { MessagePhase, MessagePhaseResult } from '../load/protocol.js';
import type { MessagesReady } from '../load/task-messages.js';
import type { RunningServer } from '../servers/types.js';
import { Interval, type IntervalFigures, errorRemarks, figure, latencyFigures, split, sumIntervals, waitUntilIdle } from './measure.js';
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
    const targetSlices = split(spreadOverNodes(settings.pairs, server.nodes), pool.size);
    const group = pool.run(
      pairSlices.map((pairs, index) => ({ kind: 'messages', target: server.target, pairs, pairTargets: targetSlices[index], window: settings.window })),
    );
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
    const drain = await drainWrites(server, settings);
    await group.done(PHASE_GRACE_MS);
    if (!drain.idle) remarks.push(`the server was still busy ${settings.drainSeconds} s after the last message, so the CPU time per message with the work after the load is left out; raise --drain-seconds`);

    const figures: Figure[] = [
      figure('pairs connected', pairCount, 'higher'),
      figure('messages per second at saturation', saturated.rate, 'higher'),
      ...latencyFigures('latency at saturation', saturated.latency),
      figure('senders with no message delivered while measured, at saturation (%)', saturated.stalledPercent, 'lower', 1),
      figure('server CPU at saturation (% of one core)', saturated.cpu.serverCpuPercent, 'neither'),
      ...cpuPerMessageFigures('at saturation', saturated),
      figure('load generator CPU at saturation (% of one core)', saturated.generatorCpuPercent, 'neither'),
      figure('paced rate: half of saturation (messages/s)', saturated.rate / 2, 'higher'),
      figure('messages per second delivered when paced', paced.rate, 'higher'),
      ...latencyFigures('latency at half rate', paced.latency),
      figure('senders with no message delivered while measured, at half rate (%)', paced.stalledPercent, 'lower', 1),
      ...cpuPerMessageFigures('at half rate', paced),
      figure('server busy after the last message (s)', drain.busyMs / 1000, 'lower', 1),
      // Without the end of the queued work, the sum would leave part of the cost out, so the figures are left blank.
      ...cpuPerMessageFigures('over both phases and until idle', {
        handled: drain.idle ? saturated.handled + paced.handled : Number.NaN,
        cpu: sumIntervals([saturated.cpu, paced.cpu, drain.cpu]),
      }),
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

/**
 * Returns the members' c2s endpoints when the server has several nodes: pair i gets nodes
 * i and i + 1 (modulo the node count), so every message crosses nodes and each node has
 * as many first members as second ones. Empty for a single process.
 */
function spreadOverNodes(pairs: number, nodes: Target[] | undefined): [Target, Target][] {
  if (!nodes || nodes.length < 2) return [];
  return Array.from({ length: pairs }, (_, i): [Target, Target] => [nodes[i % nodes.length]!, nodes[(i + 1) % nodes.length]!]);
}

/**
 * CPU time per message of the server and of each service process, in µs: the CPU time of
 * the whole phase (warm-up and drain included) over the messages delivered in it.
 */
function cpuPerMessageFigures(phase: string, summary: Pick<PhaseSummary, 'handled' | 'cpu'>): Figure[] {
  const perMessage = (cpuMs: number) => (summary.handled > 0 ? (cpuMs * 1000) / summary.handled : Number.NaN);
  return [
    figure(`server CPU per message ${phase} (µs)`, perMessage(summary.cpu.serverCpuMs), 'lower'),
    ...[...summary.cpu.serviceCpuMs].map(([name, cpuMs]) => figure(`${name} CPU per message ${phase} (µs)`, perMessage(cpuMs), 'lower')),
  ];
}

interface PhaseSummary {
  rate: number;
  latency: Histogram;
  /**
   * Share of senders none of whose messages arrived while measured. Above zero, some pairs
   * stood still, and the latency figures describe only the pairs that moved.
   */
  stalledPercent: number;
  missing: number;
  /** Messages delivered in the whole phase, warm-up and drain included. */
  handled: number;
  cpu: IntervalFigures;
  generatorCpuPercent: number;
}

/**
 * Waits until the server has done the work the phases left queued (on PostgreSQL, archive
 * and inbox writes can lag far behind the deliveries), and measures its CPU time meanwhile.
 * The load workers close their connections during this wait, so that work counts too.
 */
async function drainWrites(server: RunningServer, settings: BenchSettings): Promise<{ busyMs: number; idle: boolean; cpu: IntervalFigures }> {
  const interval = new Interval(server);
  const { busyMs, idle } = await waitUntilIdle(server, settings.drainSeconds * 1000);
  return { busyMs, idle, cpu: interval.stop() };
}

async function runPhase(group: TaskGroup, server: RunningServer, name: string, phases: MessagePhase[], settings: BenchSettings): Promise<PhaseSummary> {
  const interval = new Interval(server);
  group.signal(name, phases, true);
  const timeoutMs = (settings.warmupSeconds + settings.messageSeconds) * 1000 + PHASE_GRACE_MS;
  const { values, cpuMs } = await group.event<MessagePhaseResult>(name, timeoutMs);
  const cpu = interval.stop();

  const latency = new Histogram();
  for (const value of values) latency.merge(value.latency);
  return {
    // Each worker measures over its own interval; their rates add up.
    rate: values.reduce((sum, value) => sum + (value.measuredMs > 0 ? (value.delivered * 1000) / value.measuredMs : 0), 0),
    latency,
    stalledPercent: (100 * values.reduce((sum, value) => sum + value.stalled, 0)) / Math.max(1, values.reduce((sum, value) => sum + value.senders, 0)),
    missing: values.reduce((sum, value) => sum + value.missing, 0),
    handled: values.reduce((sum, value) => sum + value.sent - value.missing, 0),
    cpu,
    generatorCpuPercent: (100 * cpuMs) / cpu.wallMs,
  };
}
