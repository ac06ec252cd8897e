/**
 * Scenario "fanout": one group chat room (XEP-0045) of N members, each its own
 * connection, joined without history. Some members send groupchat messages, first at
 * saturation, then at half the saturating rate; the figures count deliveries to members.
 */
import type { Account } from '../load/client.js';
import { Histogram } from '../load/histogram.js';
import type { TaskGroup } from '../load/pool.js';
import type { FanoutPhaseResult, MessagePhase } from '../load/protocol.js';
import type { FanoutJoined } from '../load/task-fanout.js';
import type { RunningServer } from '../servers/types.js';
import { Interval, errorRemarks, figure, latencyFigures } from './measure.js';
import type { BenchSettings, Figure, Scenario } from './types.js';

const CONNECT_TIMEOUT_MS = 300_000;
const JOIN_TIMEOUT_MS = 300_000;
/** Bound on a phase beyond its warm-up and duration: the workers' drain and slack. */
const PHASE_GRACE_MS = 60_000;
/** The room's local part; the service is conference.<domain> on every server. */
const ROOM_NAME = 'bench-fanout';

/** Group chat deliveries per second and delivery latency. */
export const fanoutScenario: Scenario = {
  name: 'fanout',
  summary: 'group chat: members of one room, some sending; deliveries per second and latency at saturation, then at half that rate',
  accountsNeeded: (settings) => settings.roomMembers,

  async run({ server, pool, accounts, settings, log }) {
    const room = `${ROOM_NAME}@conference.${server.target.domain}`;
    const slices = deal(accounts.slice(0, settings.roomMembers), Math.min(settings.roomSenders, settings.roomMembers), pool.size);
    const group = pool.run(
      slices.map((slice, index) => ({ kind: 'fanout', target: server.target, room, members: slice.members, senders: slice.senders, creator: index === 0, window: settings.window })),
    );
    await group.event('connected', CONNECT_TIMEOUT_MS);
    group.signal('create');
    await group.event('created', JOIN_TIMEOUT_MS);
    group.signal('join');
    const joined = await group.event<FanoutJoined>('joined', JOIN_TIMEOUT_MS);
    const members = joined.values.reduce((sum, value) => sum + value.joined, 0);
    const senders = joined.values.reduce((sum, value) => sum + value.senders, 0);
    const remarks = errorRemarks('room members', joined.values.map((value) => value.errors));
    if (senders === 0) throw new Error(`no sender joined ${room}${remarks.length > 0 ? `: ${remarks.join('; ')}` : ''}`);

    const perWorker = (rate: number) =>
      joined.values.map(
        (value): MessagePhase => ({
          warmupMs: settings.warmupSeconds * 1000,
          durationMs: settings.messageSeconds * 1000,
          rate: (rate * value.senders) / senders,
          maxMessages: Math.ceil(settings.maxMessages / joined.values.length),
        }),
      );

    const saturated = await runPhase(group, server, 'saturate', perWorker(0), settings, members);
    log(`${members} members, ${senders} sending: ${Math.round(saturated.sentRate)} messages/s into the room, ${Math.round(saturated.rate)} deliveries/s; pacing at half`);
    const paced = await runPhase(group, server, 'paced', perWorker(saturated.sentRate / 2), settings, members);
    await group.done(PHASE_GRACE_MS);

    const figures: Figure[] = [
      figure('members joined', members, 'higher'),
      figure('members sending', senders, 'neither'),
      figure('messages into the room per second at saturation', saturated.sentRate, 'higher'),
      figure('deliveries to members per second at saturation', saturated.rate, 'higher'),
      ...latencyFigures('delivery latency at saturation', saturated.latency),
      figure('server CPU at saturation (% of one core)', saturated.serverCpuPercent, 'neither'),
      figure('load generator CPU at saturation (% of one core)', saturated.generatorCpuPercent, 'neither'),
      figure('paced: messages into the room per second (half of saturation)', saturated.sentRate / 2, 'higher'),
      figure('deliveries to members per second when paced', paced.rate, 'higher'),
      ...latencyFigures('delivery latency at half rate', paced.latency),
      figure('deliveries missing after both phases', saturated.missing + paced.missing, 'lower'),
    ];
    return { figures, remarks };
  },
};

interface Slice {
  members: Account[];
  senders: number;
}

/** Deals the members to the workers in turn, so the senders (the first `senders` members) spread evenly too. */
function deal(members: Account[], senders: number, workers: number): Slice[] {
  const slices: Slice[] = Array.from({ length: Math.min(workers, members.length) }, () => ({ members: [], senders: 0 }));
  members.forEach((account, index) => {
    const slice = slices[index % slices.length]!;
    slice.members.push(account);
    if (index < senders) slice.senders++;
  });
  return slices;
}

interface PhaseSummary {
  /** Deliveries to members per second. */
  rate: number;
  /** Messages sent into the room per second. */
  sentRate: number;
  latency: Histogram;
  missing: number;
  serverCpuPercent: number;
  generatorCpuPercent: number;
}

async function runPhase(group: TaskGroup, server: RunningServer, name: string, phases: MessagePhase[], settings: BenchSettings, members: number): Promise<PhaseSummary> {
  const interval = new Interval(server);
  group.signal(name, phases, true);
  const timeoutMs = (settings.warmupSeconds + settings.messageSeconds) * 1000 + PHASE_GRACE_MS;
  const { values, cpuMs } = await group.event<FanoutPhaseResult>(name, timeoutMs);
  const { wallMs, serverCpuPercent } = interval.stop();

  const latency = new Histogram();
  for (const value of values) latency.merge(value.latency);
  const perSecond = (count: (value: FanoutPhaseResult) => number) =>
    values.reduce((sum, value) => sum + (value.measuredMs > 0 ? (count(value) * 1000) / value.measuredMs : 0), 0);
  const sent = values.reduce((sum, value) => sum + value.sent, 0);
  const received = values.reduce((sum, value) => sum + value.received, 0);
  return {
    rate: perSecond((value) => value.delivered),
    sentRate: perSecond((value) => value.sentMeasured),
    latency,
    missing: Math.max(0, sent * members - received),
    serverCpuPercent,
    generatorCpuPercent: (100 * cpuMs) / wallMs,
  };
}
