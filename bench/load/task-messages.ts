/**
 * One-to-one chat messages between pairs of sessions. Both members of a pair send to the
 * other's full JID. The body carries the phase number and the send time from
 * performance.now(). Both members of a pair live in the same process, so the receiver
 * reads the latency off the same clock.
 */
import { performance } from 'node:perf_hooks';

import type { Element } from '@parley/xmpp';

import { type Account, type Target, XmppConnection } from './client.js';
import { Histogram } from './histogram.js';
import type { ErrorSummary, MessagePhase, MessagePhaseResult, MessagesTask, TaskContext } from './protocol.js';
import { ErrorCollector, forEachLimited, sleep } from './util.js';

/** The 'ready' event of a messages task. */
export interface MessagesReady {
  pairs: number;
  errors: ErrorSummary;
}

/** A paced sender skips a send while it has this many messages in flight, so memory stays bounded. */
const MAX_IN_FLIGHT = 1000;
/** After the sending stops, the phase waits this long at most for the messages still in flight. */
const DRAIN_TIMEOUT_MS = 5000;
const PACE_TICK_MS = 5;
const CONNECT_CONCURRENCY = 50;

interface Sender {
  connection: XmppConnection;
  partner: Sender;
  inFlight: number;
  sequence: number;
  /** Messages of this sender that arrived inside the measured interval of the current phase. */
  measured: number;
}

/** Connects the pairs, then runs the 'saturate' and 'paced' phases as the parent signals them. */
export async function runMessages(task: MessagesTask, context: TaskContext): Promise<Record<string, never>> {
  const errors = new ErrorCollector();
  const senders = await connectPairs(task, errors);
  context.emit('ready', { pairs: senders.length / 2, errors: errors.summary() } satisfies MessagesReady);

  let phaseNumber = 0;
  for (const name of ['saturate', 'paced']) {
    const phase = await context.signal<MessagePhase>(name);
    phaseNumber++;
    context.emit(name, await runPhase(senders, phase, phaseNumber, task.window));
  }

  await forEachLimited(senders, 200, (sender) => sender.connection.close());
  return {};
}

async function connectPairs(task: MessagesTask, errors: ErrorCollector): Promise<Sender[]> {
  const senders: Sender[] = [];
  const pairs = task.pairs.map((accounts, index) => ({ accounts, targets: task.pairTargets?.[index] ?? [task.target, task.target] }));
  await forEachLimited(pairs, CONNECT_CONCURRENCY, async ({ accounts: [first, second], targets }) => {
    const connections = await Promise.allSettled([login(targets[0], first), login(targets[1], second)]);
    const [a, b] = connections.map((outcome) => (outcome.status === 'fulfilled' ? outcome.value : undefined));
    for (const outcome of connections) if (outcome.status === 'rejected') errors.add(outcome.reason);
    if (!a || !b) {
      a?.destroy();
      b?.destroy();
      return;
    }
    const senderA: Sender = { connection: a, partner: undefined as unknown as Sender, inFlight: 0, sequence: 0, measured: 0 };
    const senderB: Sender = { connection: b, partner: senderA, inFlight: 0, sequence: 0, measured: 0 };
    senderA.partner = senderB;
    senders.push(senderA, senderB);
  });
  return senders;
}

function login(target: Target, account: Account): Promise<XmppConnection> {
  return XmppConnection.login(target, account, true);
}

/**
 * Runs one phase. With `rate` 0 each sender keeps `window` messages in flight and sends
 * the next one as soon as one arrives (closed loop, saturation). Otherwise the senders
 * take turns at a fixed total rate (open loop), whatever the server's speed.
 */
async function runPhase(senders: Sender[], phase: MessagePhase, phaseNumber: number, window: number): Promise<MessagePhaseResult> {
  const start = performance.now();
  const measureStart = start + phase.warmupMs;
  const measureEnd = measureStart + phase.durationMs;
  const latency = new Histogram();
  const prefix = `${phaseNumber}:`;
  let sending = true;
  let sent = 0;
  let received = 0;
  let delivered = 0;
  let skipped = 0;

  const send = (sender: Sender): void => {
    if (!sending || sender.connection.closed) return;
    sender.sequence++;
    sender.inFlight++;
    sent++;
    if (sent >= phase.maxMessages) sending = false;
    sender.connection.send(
      `<message to='${sender.partner.connection.jid}' type='chat' id='m${sender.sequence}'><body>${prefix}${performance.now().toFixed(3)}</body></message>`,
    );
  };

  const onMessage = (receiver: Sender, el: Element): void => {
    if (el.name !== 'message') return;
    const body = el.getChildText('body');
    if (body === undefined || !body.startsWith(prefix)) return;
    const now = performance.now();
    const origin = receiver.partner;
    origin.inFlight = Math.max(0, origin.inFlight - 1);
    received++;
    if (now >= measureStart && now <= measureEnd) {
      delivered++;
      origin.measured++;
      latency.record(now - Number(body.slice(prefix.length)));
    }
    if (phase.rate === 0) send(origin);
  };

  for (const sender of senders) {
    sender.inFlight = 0;
    sender.measured = 0;
    sender.connection.onStanza = (el) => onMessage(sender, el);
  }

  if (phase.rate === 0) {
    for (let i = 0; i < window; i++) for (const sender of senders) send(sender);
  } else {
    skipped = await pace(senders, phase, measureEnd, send, () => sending);
  }

  while (sending && performance.now() < measureEnd && received < phase.maxMessages) await sleep(PACE_TICK_MS);
  sending = false;
  await drain(senders, () => received >= sent);

  const measuredMs = Math.min(performance.now(), measureEnd) - measureStart;
  const missing = senders.reduce((sum, sender) => sum + sender.inFlight, 0);
  const stalled = senders.filter((sender) => sender.measured === 0).length;
  return { sent, delivered, missing, skipped, stalled, senders: senders.length, measuredMs: Math.max(0, measuredMs), latency: latency.toData() };
}

/** Sends at `phase.rate` messages per second, spread over the senders in turn, until `end`; returns the skipped sends. */
function pace(senders: Sender[], phase: MessagePhase, end: number, send: (sender: Sender) => void, sending: () => boolean): Promise<number> {
  const start = performance.now();
  let due = 0;
  let turn = 0;
  let skipped = 0;

  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      if (now >= end || !sending() || senders.length === 0) {
        clearInterval(timer);
        resolve(skipped);
        return;
      }
      // Catch up on what the timer's lateness left unsent, so the average rate holds.
      const target = Math.floor(((now - start) * phase.rate) / 1000);
      for (; due < target; due++) {
        const sender = senders[turn++ % senders.length]!;
        if (sender.inFlight >= MAX_IN_FLIGHT) skipped++;
        else send(sender);
      }
    }, PACE_TICK_MS);
  });
}

async function drain(senders: Sender[], done: () => boolean): Promise<void> {
  const deadline = performance.now() + DRAIN_TIMEOUT_MS;
  while (!done() && performance.now() < deadline && senders.some((sender) => !sender.connection.closed)) await sleep(20);
}
