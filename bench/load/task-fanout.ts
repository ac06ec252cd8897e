/**
 * Group chat fan-out (XEP-0045): members of one room, spread over the workers, of which
 * some send groupchat messages that the room delivers to every member, the sender
 * included. The body carries the phase number and the send time on the machine's clock
 * (performance.timeOrigin + performance.now()), which every worker process shares, so a
 * member in another process can read the latency off it.
 */
import { performance } from 'node:perf_hooks';

import { type Element, escapeAttr } from '@parley/xmpp';

import { type Account, XmppConnection, XmppStepError } from './client.js';
import { Histogram } from './histogram.js';
import type { ErrorSummary, FanoutPhaseResult, FanoutTask, MessagePhase, TaskContext } from './protocol.js';
import { ErrorCollector, forEachLimited, sleep } from './util.js';

const NS_MUC = 'http://jabber.org/protocol/muc';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';

/** The 'joined' event of a fan-out task. */
export interface FanoutJoined {
  joined: number;
  senders: number;
  errors: ErrorSummary;
}

const CONNECT_CONCURRENCY = 50;
const JOIN_CONCURRENCY = 10;
const STEP_TIMEOUT_MS = 30_000;
/** A paced sender skips a send while it has this many messages in flight. */
const MAX_IN_FLIGHT = 1000;
const DRAIN_TIMEOUT_MS = 5000;
/** Once this worker's senders have their messages back, the phase ends after this long without a new receipt. */
const QUIET_MS = 300;
const PACE_TICK_MS = 5;

interface Member {
  connection: XmppConnection;
  nick: string;
  sender: boolean;
  inFlight: number;
  sequence: number;
}

/** Reads the machine's clock in milliseconds, with the sub-millisecond part. */
function clock(): number {
  return performance.timeOrigin + performance.now();
}

/** Connects the members, creates the room or joins it as the parent signals, then runs the phases. */
export async function runFanout(task: FanoutTask, context: TaskContext): Promise<Record<string, never>> {
  const errors = new ErrorCollector();
  const members = await connectMembers(task, errors);
  context.emit('connected', { connected: members.length });

  await context.signal('create');
  const first = members[0];
  if (task.creator && first) await createRoom(task.room, first);
  context.emit('created', {});

  await context.signal('join');
  const joined = await joinMembers(task.room, task.creator ? members.slice(1) : members, errors);
  const present = task.creator && first ? [first, ...joined] : joined;
  context.emit('joined', { joined: present.length, senders: present.filter((member) => member.sender).length, errors: errors.summary() } satisfies FanoutJoined);

  let phaseNumber = 0;
  for (const name of ['saturate', 'paced']) {
    const phase = await context.signal<MessagePhase>(name);
    phaseNumber++;
    context.emit(name, await runPhase(task.room, present, phase, phaseNumber, task.window));
  }

  await forEachLimited(members, 200, (member) => member.connection.close());
  return {};
}

async function connectMembers(task: FanoutTask, errors: ErrorCollector): Promise<Member[]> {
  const members: Member[] = [];
  await forEachLimited(task.members, CONNECT_CONCURRENCY, async (account: Account, index) => {
    try {
      const connection = await XmppConnection.login(task.target, account, true);
      members.push({ connection, nick: account.username, sender: index < task.senders, inFlight: 0, sequence: 0 });
    } catch (err) {
      errors.add(err);
    }
  });
  // Keep the task's order, so the first member stays the creator.
  const order = new Map(task.members.map((account, index) => [account.username, index]));
  return members.sort((a, b) => order.get(a.nick)! - order.get(b.nick)!);
}

/** Joins the first member, which creates the room, and submits the default configuration if the room awaits one. */
async function createRoom(room: string, member: Member): Promise<void> {
  const self = await join(room, member);
  const created = self.getChild('x', NS_MUC_USER)?.getChildren('status').some((status) => status.attrs.code === '201');
  if (!created) return;
  // An instant room (XEP-0045 section 10.1.2): accept the default configuration, archiving included.
  member.connection.send(
    `<iq type='set' id='create1' to='${escapeAttr(room)}'><query xmlns='${NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
  );
  const reply = await nextStanza(member, (el) => el.name === 'iq' && el.attrs.id === 'create1');
  if (reply.attrs.type !== 'result') throw new XmppStepError(`the room ${room} rejected its instant configuration: ${reply.getChild('error')?.elements()[0]?.name ?? 'unknown error'}`);
}

async function joinMembers(room: string, members: Member[], errors: ErrorCollector): Promise<Member[]> {
  const joined: Member[] = [];
  await forEachLimited(members, JOIN_CONCURRENCY, async (member) => {
    try {
      await join(room, member);
      joined.push(member);
    } catch (err) {
      errors.add(err);
    }
  });
  return joined;
}

/** Sends the join presence without history and returns the member's own presence from the room. */
async function join(room: string, member: Member): Promise<Element> {
  const occupant = `${room}/${member.nick}`;
  member.connection.send(`<presence to='${escapeAttr(occupant)}'><x xmlns='${NS_MUC}'><history maxstanzas='0'/></x></presence>`);
  const reply = await nextStanza(member, (el) => el.name === 'presence' && el.attrs.from === occupant);
  if (reply.attrs.type === 'error') {
    const condition = reply.getChild('error')?.elements()[0]?.name;
    throw new XmppStepError(`joining ${room} as ${member.nick} failed: ${condition ?? 'error'}`, condition);
  }
  return reply;
}

/** Waits for the first stanza that matches, ignoring the others (presences of other occupants, the subject). */
function nextStanza(member: Member, match: (el: Element) => boolean): Promise<Element> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      member.connection.onStanza = undefined;
      reject(new XmppStepError(`the room sent no response within ${STEP_TIMEOUT_MS} ms`));
    }, STEP_TIMEOUT_MS);
    member.connection.onStanza = (el) => {
      if (!match(el)) return;
      clearTimeout(timer);
      member.connection.onStanza = undefined;
      resolve(el);
    };
  });
}

/**
 * Runs one phase. With `rate` 0 each sender keeps `window` messages in flight and sends
 * the next one when the room reflects one of its own back (closed loop, saturation).
 * Otherwise the senders take turns at a fixed total rate (open loop).
 */
async function runPhase(room: string, members: Member[], phase: MessagePhase, phaseNumber: number, window: number): Promise<FanoutPhaseResult> {
  const start = clock();
  const measureStart = start + phase.warmupMs;
  const measureEnd = measureStart + phase.durationMs;
  const latency = new Histogram();
  const prefix = `${phaseNumber}:`;
  const senders = members.filter((member) => member.sender);
  const counts = { sent: 0, sentMeasured: 0, received: 0, delivered: 0, skipped: 0 };
  let sending = true;

  const send = (sender: Member): void => {
    if (!sending || sender.connection.closed) return;
    const now = clock();
    sender.sequence++;
    sender.inFlight++;
    counts.sent++;
    if (now >= measureStart && now <= measureEnd) counts.sentMeasured++;
    if (counts.sent >= phase.maxMessages) sending = false;
    sender.connection.send(`<message to='${room}' type='groupchat' id='g${sender.sequence}'><body>${prefix}${now.toFixed(3)}</body></message>`);
  };

  const onMessage = (member: Member, el: Element): void => {
    if (el.name !== 'message' || el.attrs.type !== 'groupchat') return;
    const body = el.getChildText('body');
    if (body === undefined || !body.startsWith(prefix)) return;
    const now = clock();
    counts.received++;
    if (now >= measureStart && now <= measureEnd) {
      counts.delivered++;
      latency.record(now - Number(body.slice(prefix.length)));
    }
    if (!member.sender || el.attrs.from !== `${room}/${member.nick}`) return;
    member.inFlight = Math.max(0, member.inFlight - 1);
    if (phase.rate === 0) send(member);
  };

  for (const member of members) {
    member.inFlight = 0;
    member.connection.onStanza = (el) => onMessage(member, el);
  }

  if (phase.rate === 0) {
    for (let i = 0; i < window; i++) for (const sender of senders) send(sender);
  } else {
    counts.skipped = await pace(senders, phase.rate, measureEnd, send, () => sending);
  }

  while (sending && clock() < measureEnd) await sleep(PACE_TICK_MS);
  sending = false;
  await drain(senders, () => counts.received);

  const measuredMs = Math.max(0, Math.min(clock(), measureEnd) - measureStart);
  return { ...counts, measuredMs, latency: latency.toData() };
}

/** Sends `rate` messages per second in total, the senders taking turns, until `end`; returns the skipped sends. */
function pace(senders: Member[], rate: number, end: number, send: (sender: Member) => void, sending: () => boolean): Promise<number> {
  const start = clock();
  let due = 0;
  let turn = 0;
  let skipped = 0;

  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = clock();
      if (now >= end || !sending() || senders.length === 0) {
        clearInterval(timer);
        resolve(skipped);
        return;
      }
      // Catch up on what the timer's lateness left unsent, so the average rate holds.
      const target = Math.floor(((now - start) * rate) / 1000);
      for (; due < target; due++) {
        const sender = senders[turn++ % senders.length]!;
        if (sender.inFlight >= MAX_IN_FLIGHT) skipped++;
        else send(sender);
      }
    }, PACE_TICK_MS);
  });
}

/** Waits until this worker's senders have their messages back and receipts have stopped, within DRAIN_TIMEOUT_MS. */
async function drain(senders: Member[], received: () => number): Promise<void> {
  const deadline = clock() + DRAIN_TIMEOUT_MS;
  while (clock() < deadline && senders.some((sender) => sender.inFlight > 0 && !sender.connection.closed)) await sleep(20);
  let last = -1;
  while (clock() < deadline && received() !== last) {
    last = received();
    await sleep(QUIET_MS);
  }
}
