/**
 * Runs the selected scenarios on one server: signs up the accounts once, then starts a
 * fresh server process for every run of every scenario, on a fresh copy of the data as
 * it was after registration (or, for a scenario that prepares data, as its prepare()
 * left it). So no run inherits the memory, caches or archived messages of the one before.
 */
import { cpSync, lstatSync, rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import type { Account } from './load/client.js';
import type { WorkerPool } from './load/pool.js';
import type { RegisterResult } from './load/task-register.js';
import type { ServerReport } from './report.js';
import { split } from './scenarios/measure.js';
import type { BenchSettings, Scenario, ScenarioResult } from './scenarios/types.js';
import { prepareEjabberd } from './servers/ejabberd.js';
import { type ParleyOptions, prepareParley } from './servers/parley.js';
import { prepareProsody } from './servers/prosody.js';
import type { PreparedServer, RunningServer, ServerName, ServerSetup } from './servers/types.js';

/** Accounts signed up in parallel per worker. */
const REGISTER_CONCURRENCY = 16;
const REGISTER_TIMEOUT_MS = 900_000;

/** Scenarios, settings and shared resources for benchmarkServer. */
export interface BenchPlan {
  scenarios: Scenario[];
  settings: BenchSettings;
  runs: number;
  pool: WorkerPool;
  /** Runs not started by this time (Date.now()) are skipped, so the whole benchmark stays bounded. */
  deadline: number;
  log(line: string): void;
}

/** Writes the configuration of server `name` and returns it ready to start. */
export function prepareServer(name: ServerName, setup: ServerSetup, parley: ParleyOptions, log: (line: string) => void): Promise<PreparedServer> {
  if (name === 'parley') return prepareParley(setup, parley);
  if (name === 'prosody') return prepareProsody(setup, log);
  return prepareEjabberd(setup, log);
}

/** Returns the benchmark's accounts: bench1 to benchN, each with its own password. */
export function benchAccounts(count: number): Account[] {
  return Array.from({ length: count }, (_, i) => ({ username: `bench${i + 1}`, password: `bench-password-${i + 1}` }));
}

/** Runs every scenario `plan.runs` times on the server and collects the results. */
export async function benchmarkServer(prepared: PreparedServer, plan: BenchPlan): Promise<ServerReport> {
  const report: ServerReport = { name: prepared.label ?? prepared.name, version: prepared.version, notes: prepared.notes, results: new Map() };
  const accounts = benchAccounts(Math.max(...plan.scenarios.map((scenario) => scenario.accountsNeeded(plan.settings))));

  await withServer(prepared, (server) => registerAccounts(server, accounts, plan));
  const registered = 'registered';
  await saveState(prepared, registered);

  for (const scenario of plan.scenarios) {
    const results: ScenarioResult[] = [];
    report.results.set(scenario.name, results);
    const setup = await prepareScenario(prepared, scenario, registered, accounts, plan, report);
    if (!setup) continue;
    for (let run = 1; run <= plan.runs; run++) {
      if (Date.now() > plan.deadline) {
        report.notes.push(`${scenario.name}: ${run - 1} of ${plan.runs} runs, because the time limit was reached`);
        break;
      }
      plan.log(`${report.name}: ${scenario.name}, run ${run} of ${plan.runs}`);
      try {
        await restoreState(prepared, setup.snapshot);
        const task = (server: RunningServer) => scenario.run({ server, pool: plan.pool, accounts, settings: plan.settings, log: plan.log, prepared: setup.data });
        results.push(await withServer(prepared, task));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        plan.log(`${report.name}: ${scenario.name}, run ${run} failed: ${message}`);
        report.notes.push(`${scenario.name}, run ${run} failed and is left out: ${message}`);
      }
    }
    if (setup.snapshot !== registered) await discardState(prepared, setup.snapshot);
  }
  return report;
}

/**
 * Returns the name of the snapshot the runs of `scenario` start from: the registered state,
 * or for a scenario with prepare() a copy of it that prepare() changed. Undefined when
 * preparing failed.
 */
async function prepareScenario(
  prepared: PreparedServer,
  scenario: Scenario,
  registered: string,
  accounts: Account[],
  plan: BenchPlan,
  report: ServerReport,
): Promise<{ snapshot: string; data?: unknown } | undefined> {
  if (!scenario.prepare) return { snapshot: registered };
  await restoreState(prepared, registered);
  try {
    const { notes, data } = await scenario.prepare({ prepared, accounts, settings: plan.settings, log: plan.log });
    report.notes.push(...notes);
    await saveState(prepared, scenario.name);
    return { snapshot: scenario.name, data };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    plan.log(`${report.name}: preparing ${scenario.name} failed: ${message}`);
    report.notes.push(`${scenario.name}: not measured, because preparing the data failed: ${message}`);
    return undefined;
  }
}

/** Saves the server's stateDir, and its database if it has one outside, as snapshot `name`. */
async function saveState(prepared: PreparedServer, name: string): Promise<void> {
  copyState(prepared.stateDir, `${prepared.stateDir}.${name}`);
  await prepared.database?.save(name);
}

/** Puts the server's stateDir and database back as they were in snapshot `name`. */
async function restoreState(prepared: PreparedServer, name: string): Promise<void> {
  copyState(`${prepared.stateDir}.${name}`, prepared.stateDir);
  await prepared.database?.restore(name);
}

async function discardState(prepared: PreparedServer, name: string): Promise<void> {
  rmSync(`${prepared.stateDir}.${name}`, { recursive: true, force: true });
  await prepared.database?.discard(name);
}

/** Replaces folder `to` with a copy of folder `from`, leaving out sockets (Parley's control socket). */
function copyState(from: string, to: string): void {
  rmSync(to, { recursive: true, force: true });
  cpSync(from, to, { recursive: true, filter: (source) => !lstatSync(source).isSocket() });
}

/** Starts the server, runs `task` and stops the server, even when the task fails. */
async function withServer<T>(prepared: PreparedServer, task: (server: RunningServer) => Promise<T>): Promise<T> {
  const server = await prepared.start();
  try {
    return await task(server);
  } finally {
    await server.stop();
  }
}

/** Signs up the accounts by in-band registration; throws if more than 1% of them fail. */
async function registerAccounts(server: RunningServer, accounts: Account[], plan: BenchPlan): Promise<void> {
  const start = performance.now();
  const group = plan.pool.run(
    split(accounts, plan.pool.size).map((slice) => ({ kind: 'register', target: server.target, accounts: slice, concurrency: REGISTER_CONCURRENCY })),
  );
  const { values } = await group.done<RegisterResult>(REGISTER_TIMEOUT_MS);
  const created = values.reduce((sum, value) => sum + value.created, 0);
  const existing = values.reduce((sum, value) => sum + value.existing, 0);
  const failed = values.reduce((sum, value) => sum + value.errors.count, 0);
  plan.log(`${accounts.length} accounts: ${created} created, ${existing} existed, ${failed} failed, in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  if (failed > accounts.length / 100) {
    const samples = values.flatMap((value) => value.errors.samples).slice(0, 3);
    throw new Error(`${failed} of ${accounts.length} registrations failed, for example: ${samples.join(' | ')}`);
  }
}
