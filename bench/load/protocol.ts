/**
 * Messages between the benchmark's parent process and its load worker processes (over
 * the node:child_process IPC channel), and the tasks a worker runs.
 */
import type { Account, Target } from './client.js';
import type { HistogramData } from './histogram.js';

/** Signs up accounts by in-band registration. */
export interface RegisterTask {
  kind: 'register';
  target: Target;
  accounts: Account[];
  concurrency: number;
}

/** Logs in and out again in a loop, one loop per account, until the time or count is up. */
export interface LoginsTask {
  kind: 'logins';
  target: Target;
  accounts: Account[];
  durationMs: number;
  /** Stops after this many completed logins in this worker. */
  maxLogins: number;
}

/** Opens one available session per account and holds them until the 'release' signal. */
export interface IdleTask {
  kind: 'idle';
  target: Target;
  accounts: Account[];
  /** Logins in flight at once while connecting. */
  concurrency: number;
}

/** Connects pairs that send each other chat messages, in the phases the parent signals. */
export interface MessagesTask {
  kind: 'messages';
  target: Target;
  pairs: [Account, Account][];
  /** C2s endpoints of the members of pair i, for a cluster. Without it both members connect to `target`. */
  pairTargets?: [Target, Target][];
  /** Messages each sender keeps in flight in the saturation phase. */
  window: number;
}

/** Joins members to one group chat room, where some of them send, in the phases the parent signals. */
export interface FanoutTask {
  kind: 'fanout';
  target: Target;
  /** Bare JID of the room. */
  room: string;
  /** This worker's members; each joins with its username as nickname. */
  members: Account[];
  /** How many of `members`, from the first, send messages. */
  senders: number;
  /** True for the worker whose first member creates and configures the room. */
  creator: boolean;
  /** Messages each sender keeps in flight in the saturation phase. */
  window: number;
}

/** Runs archive queries (XEP-0313) on one account's pre-filled archive. */
export interface ArchiveTask {
  kind: 'archive';
  target: Target;
  owner: Account;
  /** Partner of the 'with' query, a bare JID. */
  withJid: string;
  /** Word of the full-text query. */
  searchWord: string;
  /** Bounds, in milliseconds since the epoch, of the 'start/end' query. */
  rangeStart: number;
  rangeEnd: number;
  /** Time of a message in the middle of the archive, used to find its id for the 'after' query. */
  middleTime: number;
  /** Queries of each kind, one at a time. */
  queriesPerKind: number;
  /** Stops a kind after this many milliseconds, even with queries left. */
  kindTimeoutMs: number;
}

/** A task for a worker. */
export type TaskSpec = RegisterTask | LoginsTask | IdleTask | MessagesTask | FanoutTask | ArchiveTask;

/** Parameters of the 'saturate' and 'paced' signals of a MessagesTask. */
export interface MessagePhase {
  /** Time before measuring starts, so that the first messages do not count. */
  warmupMs: number;
  durationMs: number;
  /** Messages per second this worker sends in total; 0 means as fast as the window allows. */
  rate: number;
  /** Stops sending after this many messages in the phase. */
  maxMessages: number;
}

/** Result of one group chat phase in one worker. */
export interface FanoutPhaseResult {
  /** Messages this worker's senders sent in the phase, and inside the measured interval. */
  sent: number;
  sentMeasured: number;
  /** Messages this worker's members received in the phase, and inside the measured interval. */
  received: number;
  delivered: number;
  skipped: number;
  measuredMs: number;
  /** Send to receipt at each member, for receipts inside the measured interval. */
  latency: HistogramData;
}

/** Result of one message phase in one worker. */
export interface MessagePhaseResult {
  sent: number;
  /** Messages received inside the measured interval. */
  delivered: number;
  /** Messages still missing when the phase ended, after waiting for them. */
  missing: number;
  /** Paced sends skipped because the sender already had too many in flight. */
  skipped: number;
  /** Senders none of whose messages arrived inside the measured interval, of `senders`. */
  stalled: number;
  senders: number;
  measuredMs: number;
  latency: HistogramData;
}

/** Sample of error messages and how many errors there were. */
export interface ErrorSummary {
  count: number;
  samples: string[];
}

/** A message from the parent to a worker. */
export type ParentMessage = { type: 'task'; id: number; spec: TaskSpec } | { type: 'signal'; id: number; name: string; data?: unknown };

/** A message from a worker to the parent. `cpuMs` is the worker's CPU time since its previous message for the task. */
export type WorkerMessage =
  | { type: 'started' }
  | { type: 'event'; id: number; name: string; data: unknown; cpuMs: number }
  | { type: 'done'; id: number; result: unknown; cpuMs: number }
  | { type: 'failed'; id: number; error: string; cpuMs: number };

/** Channel of a running task to the parent, besides its result. */
export interface TaskContext {
  /** Sends an event to the parent. */
  emit(name: string, data: unknown): void;
  /** Resolves with the data of the next signal `name` from the parent. */
  signal<T>(name: string): Promise<T>;
}
