/**
 * A short run of each benchmark scenario (bench/run.ts) against Parley, to catch a broken
 * load generator or scenario. It checks that each scenario completes and reports numbers,
 * never how fast anything was.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { WorkerPool } from '../bench/load/pool.js';
import { benchmarkServer } from '../bench/orchestrate.js';
import type { ServerReport } from '../bench/report.js';
import { archiveScenario } from '../bench/scenarios/archive.js';
import { fanoutScenario } from '../bench/scenarios/fanout.js';
import { idleScenario } from '../bench/scenarios/idle.js';
import { loginsScenario } from '../bench/scenarios/logins.js';
import { messagesScenario } from '../bench/scenarios/messages.js';
import type { BenchSettings, Figure, Scenario } from '../bench/scenarios/types.js';
import { prepareParley } from '../bench/servers/parley.js';
import { generateCertificate } from '../bench/servers/process.js';
import type { PreparedServer } from '../bench/servers/types.js';
import { testsUsePostgres } from './support/postgres.js';

const SETTINGS: BenchSettings = {
  loginConcurrency: 2,
  loginSeconds: 10,
  maxLogins: 20,
  sessions: 50,
  idleConcurrency: 10,
  holdSeconds: 1,
  pairs: 5,
  window: 5,
  messageSeconds: 5,
  warmupSeconds: 0,
  maxMessages: 200,
  drainSeconds: 30,
  roomMembers: 6,
  roomSenders: 2,
  archiveMessages: 6000,
  archiveQueries: 3,
  archiveLoadSeconds: 60,
};
const TEST_TIMEOUT_MS = 90_000;
const MODULES_FILE = new URL('../packages/server/src/modules/index.ts', import.meta.url);
/** The fanout scenario needs Parley's group chat service, which is being built. */
const hasGroupChat = existsSync(MODULES_FILE) && readFileSync(MODULES_FILE, 'utf8').includes('./muc/index.js');

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
/** A cluster run starts PostgreSQL, Redis and three Parley processes from the sources, twice each for registration and the run. */
const CLUSTER_TIMEOUT_MS = 120_000;

let workDir: string;
let pool: WorkerPool;
let parley: PreparedServer;

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), 'parley-bench-smoke-'));
  const certFile = path.join(workDir, 'cert.pem');
  const keyFile = path.join(workDir, 'key.pem');
  generateCertificate(certFile, keyFile, 'bench.test');
  parley = await prepareParley({ workDir, domain: 'bench.test', transport: 'plain', certFile, keyFile }, { mode: 'source' });
  pool = await WorkerPool.start({ workers: 1 });
}, TEST_TIMEOUT_MS);

afterAll(async () => {
  await pool?.stop();
  await rm(workDir, { recursive: true, force: true });
});

async function runOnce(scenario: Scenario): Promise<ServerReport> {
  return benchmarkServer(parley, { scenarios: [scenario], settings: SETTINGS, runs: 1, pool, deadline: Date.now() + TEST_TIMEOUT_MS, log: () => undefined });
}

function figures(report: ServerReport, scenario: Scenario): Figure[] {
  return report.results.get(scenario.name)?.[0]?.figures ?? [];
}

function valueOf(list: Figure[], label: string): number | undefined {
  return list.find((figure) => figure.label === label)?.value;
}

interface BenchOutput {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `npx tsx bench/run.ts ARGS` on the sources and interrupts it after `timeoutMs`. */
function runBench(args: string[], timeoutMs: number): Promise<BenchOutput> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'bench/run.ts', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
  return new Promise((resolve) => {
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Returns the cells after the figure's label in the printed table's row, or undefined when there is no such row. */
function tableRow(stdout: string, label: string): string[] | undefined {
  const line = stdout.split('\n').find((candidate) => candidate.startsWith(`| messages | ${label} |`));
  return line?.split('|').map((cell) => cell.trim()).slice(3, -1);
}

describe('benchmark smoke run', () => {
  it(
    'logins scenario reports numbers',
    async () => {
      const list = figures(await runOnce(loginsScenario), loginsScenario);
      expect(list.filter((figure) => !Number.isFinite(figure.value))).toEqual([]);
      expect(valueOf(list, 'login errors')).toBe(0);
      expect(valueOf(list, 'logins per second')).toBeGreaterThan(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'idle scenario reports numbers',
    async () => {
      const list = figures(await runOnce(idleScenario), idleScenario);
      expect(list.filter((figure) => !Number.isFinite(figure.value))).toEqual([]);
      expect(valueOf(list, 'sessions held')).toBe(SETTINGS.sessions);
      expect(valueOf(list, 'V8 heap with the sessions (MiB)')).toBeGreaterThan(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'messages scenario reports numbers',
    async () => {
      const list = figures(await runOnce(messagesScenario), messagesScenario);
      expect(list.filter((figure) => !Number.isFinite(figure.value))).toEqual([]);
      expect(valueOf(list, 'pairs connected')).toBe(SETTINGS.pairs);
      expect(valueOf(list, 'messages missing after both phases')).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it.skipIf(!hasGroupChat)(
    'fanout scenario reports numbers',
    async () => {
      const report = await runOnce(fanoutScenario);
      const list = figures(report, fanoutScenario);
      expect(report.notes).toEqual(expect.not.arrayContaining([expect.stringContaining('failed')]));
      expect(list.filter((figure) => !Number.isFinite(figure.value))).toEqual([]);
      expect(valueOf(list, 'members joined')).toBe(SETTINGS.roomMembers);
      expect(valueOf(list, 'deliveries to members per second at saturation')).toBeGreaterThan(0);
      expect(valueOf(list, 'deliveries missing after both phases')).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'archive scenario loads the archive and reports numbers',
    async () => {
      const report = await runOnce(archiveScenario);
      const run = report.results.get(archiveScenario.name)?.[0];
      const list = run?.figures ?? [];
      expect(list.filter((figure) => !Number.isFinite(figure.value))).toEqual([]);
      expect(valueOf(list, 'messages in the archive')).toBe(SETTINGS.archiveMessages);
      for (const kind of ['last page', 'page after an id in the middle', 'with one partner', 'start and end one hour apart', 'full-text search']) {
        expect(valueOf(list, `${kind} p50 (ms)`)).toBeGreaterThan(0);
        expect(valueOf(list, `${kind}: results per page`)).toBe(50);
      }
      expect(run?.remarks).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );

  // The benchmark starts its own PostgreSQL either way, so the PostgreSQL test run would only repeat this.
  it.skipIf(testsUsePostgres())(
    'cluster comparison prints the table',
    async () => {
      const args = ['--cluster', '2', '--source', '--runs', '1', '--workers', '1', '--pairs', '4', '--message-seconds', '1', '--warmup-seconds', '0', '--max-messages', '200'];
      const output = await runBench(args, CLUSTER_TIMEOUT_MS - 10_000);

      expect(output.status, output.stderr).toBe(0);
      expect(output.stdout).not.toMatch(/failed and is left out|could not be measured|errors, for example/);
      expect(output.stdout).toContain('| scenario | figure | 1 node | 2 nodes | 2 nodes ÷ 1 node | better |');
      expect(tableRow(output.stdout, 'pairs connected')?.slice(0, 2)).toEqual(['4', '4']);
      expect(tableRow(output.stdout, 'messages missing after both phases')?.slice(0, 2)).toEqual(['0', '0']);
      expect(tableRow(output.stdout, 'server CPU per message at saturation (µs)')).toHaveLength(4);
      expect(tableRow(output.stdout, 'Redis CPU per message at saturation (µs)')?.[0]).toBe('–');
    },
    CLUSTER_TIMEOUT_MS,
  );

  it(
    '--cluster rejects a bad node count',
    async () => {
      for (const value of ['1', 'two', '2.5']) {
        const output = await runBench(['--cluster', value], TEST_TIMEOUT_MS);
        expect(output.status).toBe(2);
        expect(output.stderr).toContain(`--cluster must be an integer of at least 2 (nodes), got "${value}"`);
      }
    },
    TEST_TIMEOUT_MS,
  );
});
