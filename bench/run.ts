/**
 * Server benchmark: drives Parley, and optionally Debian's Prosody and ejabberd, with the
 * load generator in bench/load/ on 127.0.0.1 only, and prints one table of medians.
 *
 * Run: npx tsx bench/run.ts [--scenario logins,idle,messages,fanout,archive] [--vs prosody|ejabberd|all] [--runs N] ...
 * With --cluster N, it compares one Parley node with N cluster nodes instead (bench/cluster.ts).
 * (`npx tsx bench/run.ts --help` lists every option.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { benchmarkCluster, clusterRatio } from './cluster.js';
import { WorkerPool } from './load/pool.js';
import { type BenchPlan, benchmarkServer, prepareServer } from './orchestrate.js';
import { CLUSTER_MARKERS, PEER_RATIO, RESULTS_MARKERS, type ServerReport, renderNotes, renderTable, writeResultsSection } from './report.js';
import { PLANNED_SCENARIOS, SCENARIOS, selectScenarios } from './scenarios/index.js';
import type { BenchSettings } from './scenarios/types.js';
import type { ParleyOptions } from './servers/parley.js';
import { canSetFileLimit, fileLimits, generateCertificate, stopStartedServices, terminateStartedServers } from './servers/process.js';
import type { ServerName, ServerSetup } from './servers/types.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const DOCS_FILE = path.join(REPO_ROOT, 'docs/benchmarks.md');
const DOMAIN = 'bench.test';
/** File descriptors a process needs besides its client sockets (logs, database, listeners). */
const FD_HEADROOM = 256;

const OPTIONS = {
  scenario: { type: 'string', default: 'all', help: 'all, or a comma-separated list of: logins, idle, messages, fanout, archive' },
  vs: { type: 'string', default: 'none', help: 'peers to compare with: none, prosody, ejabberd or all (installed with apt-get if missing)' },
  runs: { type: 'string', default: '3', help: 'runs of each scenario per server; the table shows medians' },
  transport: { type: 'string', default: 'plain', help: 'plain (TCP without TLS on loopback) or starttls, the same for every server' },
  workers: { type: 'string', default: String(availableParallelism()), help: 'load generator processes' },
  'login-concurrency': { type: 'string', default: '50', help: 'logins: concurrent login loops' },
  'login-seconds': { type: 'string', default: '15', help: 'logins: duration of each run in seconds' },
  'max-logins': { type: 'string', default: '1000000', help: 'logins: stop each run after this many logins' },
  sessions: { type: 'string', default: '10000', help: 'idle: sessions to hold' },
  'idle-concurrency': { type: 'string', default: '200', help: 'idle: logins in flight while connecting the sessions' },
  'hold-seconds': { type: 'string', default: '5', help: 'idle: seconds to hold the sessions before reading memory' },
  pairs: { type: 'string', default: '200', help: 'messages: pairs of clients sending to each other' },
  window: { type: 'string', default: '5', help: 'messages and fanout: messages each sender keeps in flight at saturation' },
  'message-seconds': { type: 'string', default: '10', help: 'messages and fanout: measured seconds of each phase' },
  'warmup-seconds': { type: 'string', default: '2', help: 'messages and fanout: seconds before measuring starts in each phase' },
  'max-messages': { type: 'string', default: '10000000', help: 'messages and fanout: stop each phase after this many messages' },
  'drain-seconds': {
    type: 'string',
    default: '120',
    help: 'messages: after the last phase, wait at most this many seconds for the server to finish the writes it queued, and count their CPU time',
  },
  'room-members': { type: 'string', default: '100', help: 'fanout: members of the room, each its own connection' },
  'room-senders': { type: 'string', default: '10', help: 'fanout: members that send (window: --window)' },
  'archive-messages': { type: 'string', default: '1000000', help: 'archive: messages loaded into the queried archive' },
  'archive-queries': { type: 'string', default: '50', help: 'archive: queries of each kind per run' },
  'archive-load-seconds': { type: 'string', default: '600', help: 'archive: bound on loading the archive into one server; a peer that is slower gets fewer messages' },
  cluster: {
    type: 'string',
    help: 'node count (2 or more): run the messages scenario on one Parley node and on this many cluster nodes, both on a PostgreSQL started for the run, the nodes routing through a Redis started for it',
  },
  'time-limit': { type: 'string', default: '30', help: 'minutes after which no further run starts' },
  'cpu-prof': { type: 'string', help: 'folder for a V8 CPU profile of each Parley server process (node --cpu-prof)' },
  'no-build': { type: 'boolean', default: false, help: 'skip `npm run build` before starting Parley' },
  source: { type: 'boolean', default: false, help: 'run Parley from its TypeScript sources through tsx instead of the build, and skip the build (slower start; for tests)' },
  'write-docs': { type: 'boolean', default: false, help: 'put the table into docs/benchmarks.md' },
  keep: { type: 'boolean', default: false, help: 'keep the temporary folder with configurations, data and logs' },
  help: { type: 'boolean', default: false, help: 'print this help' },
} as const;

function log(line: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function printHelp(): void {
  console.log('Usage: npx tsx bench/run.ts [options]\n');
  for (const [name, option] of Object.entries(OPTIONS)) {
    const fallback = 'default' in option && option.type === 'string' ? ` (default ${option.default})` : '';
    console.log(`  --${name.padEnd(18)} ${option.help}${fallback}`);
  }
  console.log(`\nScenarios: ${SCENARIOS.map((s) => `${s.name}: ${s.summary}`).join('; ')}.`);
  const planned = Object.entries(PLANNED_SCENARIOS);
  if (planned.length > 0) console.log(`Planned: ${planned.map(([name, why]) => `${name}: ${why}`).join('; ')}.`);
}

/** Parses a positive integer option or exits with a message naming it. */
function positive(values: Record<string, unknown>, name: string): number {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`bench: --${name} must be a positive integer, got "${String(values[name])}"`);
    process.exit(2);
  }
  return value;
}

function settingsFrom(values: Record<string, unknown>): BenchSettings {
  return {
    loginConcurrency: positive(values, 'login-concurrency'),
    loginSeconds: positive(values, 'login-seconds'),
    maxLogins: positive(values, 'max-logins'),
    sessions: positive(values, 'sessions'),
    idleConcurrency: positive(values, 'idle-concurrency'),
    holdSeconds: positive(values, 'hold-seconds'),
    pairs: positive(values, 'pairs'),
    window: positive(values, 'window'),
    messageSeconds: positive(values, 'message-seconds'),
    warmupSeconds: Number(values['warmup-seconds']),
    maxMessages: positive(values, 'max-messages'),
    drainSeconds: positive(values, 'drain-seconds'),
    roomMembers: positive(values, 'room-members'),
    roomSenders: positive(values, 'room-senders'),
    archiveMessages: positive(values, 'archive-messages'),
    archiveQueries: positive(values, 'archive-queries'),
    archiveLoadSeconds: positive(values, 'archive-load-seconds'),
  };
}

/** Exits with status 2 and a message naming the option. */
function invalidOption(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}

/** Returns the node count of --cluster, or undefined without it. Exits on a value that is not an integer of at least 2. */
function clusterNodesFrom(values: Record<string, unknown>): number | undefined {
  if (values.cluster === undefined) return undefined;
  const nodes = Number(values.cluster);
  if (!/^\d+$/.test(String(values.cluster)) || nodes < 2) invalidOption(`--cluster must be an integer of at least 2 (nodes), got "${String(values.cluster)}"`);
  if (values.vs !== 'none') invalidOption(`--cluster compares Parley with itself and cannot be combined with --vs ${String(values.vs)}`);
  if (values.scenario !== 'all' && values.scenario !== 'messages') invalidOption(`--cluster runs only the messages scenario, got --scenario ${String(values.scenario)}`);
  return nodes;
}

function transportFrom(value: string): ServerSetup['transport'] {
  if (value !== 'plain' && value !== 'starttls') invalidOption(`--transport must be plain or starttls, got "${value}"`);
  return value;
}

function serversFrom(vs: string): ServerName[] {
  const peers: Record<string, ServerName[]> = { none: [], prosody: ['prosody'], ejabberd: ['ejabberd'], all: ['prosody', 'ejabberd'] };
  const selected = peers[vs];
  if (!selected) {
    console.error(`bench: --vs must be none, prosody, ejabberd or all, got "${vs}"`);
    process.exit(2);
  }
  return ['parley', ...selected];
}

/**
 * Returns the open-file limit to set for started processes, or undefined when the current
 * one is enough. Node.js raises its own soft limit to the hard limit at start-up, so the
 * hard limit is what counts. Raising that needs CAP_SYS_RESOURCE, so it is tried first.
 */
function fdLimitFor(needed: number): number | undefined {
  const { soft, hard } = fileLimits();
  log(`open-file limit: soft ${soft}, hard ${hard}; this run needs about ${needed} per process`);
  if (soft >= needed) return undefined;
  if (hard >= needed || canSetFileLimit(needed)) return needed;
  log(`the hard open-file limit ${hard} is below ${needed} and cannot be raised here: sessions beyond it will fail with EMFILE`);
  return hard;
}

/** Describes the machine: cores, CPU model, memory, Node.js version, load. */
function machineDescription(): string {
  const cores = execFileSync('nproc', { encoding: 'utf8' }).trim();
  const memory = /^Mem:\s+(\d+)/m.exec(execFileSync('free', ['-m'], { encoding: 'utf8' }))?.[1] ?? '?';
  return `${cores} cores (\`nproc\`), ${cpus()[0]?.model ?? 'unknown CPU'}, ${memory} MiB RAM (\`free -m\`), Node.js ${process.version}`;
}

function loadAverage(): string {
  return loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: OPTIONS, allowPositionals: false });
  if (values.help) return printHelp();
  const clusterNodes = clusterNodesFrom(values);
  const scenarios = selectScenarios(clusterNodes === undefined ? values.scenario : 'messages');
  const settings = settingsFrom(values);
  const servers = serversFrom(values.vs);
  const runs = positive(values, 'runs');
  const workers = positive(values, 'workers');
  const transport = transportFrom(values.transport);

  const startedAt = new Date();
  const loadAtStart = loadAverage();
  const needed = Math.max(...scenarios.map((scenario) => scenario.accountsNeeded(settings))) + FD_HEADROOM;
  const fdLimit = fdLimitFor(needed);
  if (servers.includes('parley') && !values['no-build'] && !values.source) {
    log('npm run build');
    execFileSync('npm', ['run', 'build'], { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  }

  const workDir = mkdtempSync(path.join(tmpdir(), 'parley-bench-'));
  const cleanUp = () => {
    if (values.keep) log(`configurations, data and logs kept in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  };
  let pool: WorkerPool | undefined;
  const stopOnSignal = () => {
    terminateStartedServers();
    void Promise.allSettled([stopStartedServices(), pool?.stop()]).finally(() => {
      cleanUp();
      process.exit(130);
    });
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);

  const reports: ServerReport[] = [];
  const deadline = Date.now() + positive(values, 'time-limit') * 60_000;
  try {
    const certFile = path.join(workDir, 'cert.pem');
    const keyFile = path.join(workDir, 'key.pem');
    generateCertificate(certFile, keyFile, DOMAIN);
    pool = await WorkerPool.start({ workers, fdLimit });
    const plan: BenchPlan = { scenarios, settings, runs, pool, deadline, log };
    const parley: ParleyOptions = { mode: values.source ? 'source' : 'dist', cpuProfileDir: values['cpu-prof'] && path.resolve(values['cpu-prof']) };
    const shared = { domain: DOMAIN, transport, certFile, keyFile, fdLimit };
    if (clusterNodes !== undefined) {
      reports.push(...(await benchmarkCluster({ nodes: clusterNodes, setup: { ...shared, workDir }, parley, plan })));
    } else {
      for (const name of servers) reports.push(await measureServer(name, { ...shared, workDir: path.join(workDir, name) }, plan, parley));
    }
  } finally {
    await pool?.stop();
    cleanUp();
  }

  const scenarioNames = scenarios.map((scenario) => scenario.name);
  const table = renderTable(reports, scenarioNames, clusterNodes === undefined ? PEER_RATIO : clusterRatio(clusterNodes));
  const notes = renderNotes(reports);
  console.log(`\n${table}\n\n${notes.map((note) => `- ${note}`).join('\n')}`);

  if (values['write-docs']) {
    const facts = { startedAt, loadAtStart, runs, transport, workers, table, notes };
    if (clusterNodes === undefined) writeResultsSection(DOCS_FILE, docsSection(facts, '### Latest results'), RESULTS_MARKERS);
    else writeResultsSection(DOCS_FILE, docsSection(facts, '#### Latest cluster results'), CLUSTER_MARKERS);
    log(`wrote the table to ${path.relative(REPO_ROOT, DOCS_FILE)}`);
  }
}

async function measureServer(name: ServerName, setup: ServerSetup, plan: BenchPlan, parley: ParleyOptions): Promise<ServerReport> {
  try {
    const prepared = await prepareServer(name, setup, parley, log);
    log(`${name} ${prepared.version}`);
    return await benchmarkServer(prepared, plan);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`${name}: ${message}`);
    return { name, version: '?', notes: [], results: new Map(), error: message };
  }
}

interface DocsFacts {
  startedAt: Date;
  loadAtStart: string;
  runs: number;
  transport: string;
  workers: number;
  table: string;
  notes: string[];
}

function docsSection(facts: DocsFacts, heading: string): string {
  const command = ['npx tsx bench/run.ts', ...process.argv.slice(2)].join(' ');
  const transport = facts.transport === 'plain' ? 'plain TCP on 127.0.0.1 (no TLS) for every server' : 'TCP with STARTTLS on 127.0.0.1 for every server';
  return [
    heading,
    '',
    `Command: \`${command}\`, run on ${facts.startedAt.toISOString().slice(0, 10)} (UTC).`,
    `Machine: ${machineDescription()}. Load average (1, 5, 15 min) ${facts.loadAtStart} at the start and ${loadAverage()} at the end.`,
    `Transport: ${transport}. Load generator: ${facts.workers} worker processes on the same machine.`,
    `Each figure is the median of ${facts.runs} runs; each run starts a fresh server process.`,
    '',
    facts.table,
    '',
    ...facts.notes.map((note) => `- ${note}`),
  ].join('\n');
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  terminateStartedServers();
  void stopStartedServices().finally(() => process.exit(1));
});
