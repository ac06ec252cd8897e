/** The contract between bench/run.ts and each scenario. */
import type { Account } from '../load/client.js';
import type { WorkerPool } from '../load/pool.js';
import type { RunningServer } from '../servers/types.js';

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
  /** messages: stops each phase after this many messages in total. */
  maxMessages: number;
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

/** Inputs of one scenario run. */
export interface ScenarioContext {
  server: RunningServer;
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
  run(context: ScenarioContext): Promise<ScenarioResult>;
}
