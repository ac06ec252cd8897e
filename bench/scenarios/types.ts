/** The contract between bench/run.ts and each scenario. */
import type { Account } from '../load/client.js';
import type { WorkerPool } from '../load/pool.js';
import type { PreparedServer, RunningServer } from '../servers/types.js';

/** Settings of every scenario, from the command line. */
export interface BenchSettings {
  /** logins: concurrent login loops. */
  loginConcurrency: number;
  loginSeconds: number;
  /** logins: stops after this many logins in total. */
  maxLogins: number;
  /** idle: sessions to hold. */
  sessions: number;
  /** idle: logins in flight at once while connecting the sessions. */
  idleConcurrency: number;
  /** idle: seconds to hold the sessions before measuring memory. */
  holdSeconds: number;
  /** messages: pairs of clients. */
  pairs: number;
  /** messages: messages each sender keeps in flight at saturation. */
  window: number;
  /** messages: measured seconds of each phase, after the warm-up. */
  messageSeconds: number;
  warmupSeconds: number;
  /** messages and fanout: stops each phase after this many messages in total. */
  maxMessages: number;
  /** messages: bound in seconds on waiting, after the last phase, until the server is idle. */
  drainSeconds: number;
  /** fanout: members of the room, each its own connection. */
  roomMembers: number;
  /** fanout: members that send, from the first. */
  roomSenders: number;
  /** archive: messages loaded into the queried archive. */
  archiveMessages: number;
  /** archive: queries of each kind per run. */
  archiveQueries: number;
  /** archive: bound in seconds on loading the archive into one server. */
  archiveLoadSeconds: number;
}

/** Direction in which a figure improves, used for the ratio to the best peer. */
export type Better = 'higher' | 'lower' | 'neither';

/** One measured value. */
export interface Figure {
  /** Row label in the table, with the unit. */
  label: string;
  value: number;
  better: Better;
  /** Digits after the decimal point in the table. */
  digits: number;
}

/** Figures and remarks of one scenario run. */
export interface ScenarioResult {
  figures: Figure[];
  /** Error samples and other facts worth printing. */
  remarks: string[];
}

/** Inputs of a scenario's one-time preparation of a server's data. */
export interface PrepareContext {
  /** The server, stopped. Its data folder contains the state after registration. */
  prepared: PreparedServer;
  accounts: Account[];
  settings: BenchSettings;
  log(line: string): void;
}

/** Outcome of a preparation: facts for the report, and data that every run of the scenario receives. */
export interface PrepareResult {
  notes: string[];
  data: unknown;
}

/** Inputs of one scenario run. */
export interface ScenarioContext {
  server: RunningServer;
  /** The data of the scenario's prepare(), if it has one. */
  prepared?: unknown;
  pool: WorkerPool;
  /** The registered accounts; the scenario uses the first accountsNeeded() of them. */
  accounts: Account[];
  settings: BenchSettings;
  log(line: string): void;
}

/** A benchmark scenario. */
export interface Scenario {
  name: string;
  /** One line for the help text and the report. */
  summary: string;
  accountsNeeded(settings: BenchSettings): number;
  /**
   * Changes the server's stored data once, before the runs; each run then starts from the
   * data as prepare() left it. Throws when the server cannot be prepared.
   */
  prepare?(context: PrepareContext): Promise<PrepareResult>;
  run(context: ScenarioContext): Promise<ScenarioResult>;
}
