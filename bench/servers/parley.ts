/** Starts Parley for the benchmark: the built server (packages/server/dist/main.js) with a generated TOML file. */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { fillParleyArchive } from './parley-archive.js';
import { freePort, processCpuMs, residentBytes, spawnServer, stopProcess, waitForPort } from './process.js';
import type { MemorySample, PreparedServer, RunningServer, ServerSetup } from './types.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PROBE_FILE = fileURLToPath(new URL('./parley-probe.mjs', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** Build and profiling options of the Parley server process. */
export interface ParleyOptions {
  /** 'dist' runs the build (run `npm run build` first); 'source' runs the TypeScript sources through tsx, for tests. */
  mode: 'dist' | 'source';
  /** Folder for a V8 CPU profile (node --cpu-prof), written when the server stops. */
  cpuProfileDir?: string;
}

/** Writes Parley's configuration under setup.workDir and returns the server ready to start. */
export async function prepareParley(setup: ServerSetup, options: ParleyOptions): Promise<PreparedServer> {
  const port = await freePort();
  mkdirSync(setup.workDir, { recursive: true });
  const configFile = path.join(setup.workDir, 'parley.toml');
  const dataDir = path.join(setup.workDir, 'data');
  writeFileSync(configFile, parleyConfig(setup, port, dataDir));

  return {
    name: 'parley',
    version: parleyVersion(),
    notes: [
      `Parley: SQLite in WAL mode with synchronous = FULL, log level warn, default limits (${options.mode === 'dist' ? 'built server' : 'TypeScript sources'})`,
      archiveNote(options.mode),
      'Parley: group chat on conference.<domain> with the per-occupant message rate limit raised from 5/s to 100,000/s, as the peers have none by default',
    ],
    stateDir: dataDir,
    start: () => startParleyProcess(setup, options, { configFile, port, logFile: path.join(setup.workDir, 'parley.log') }),
    fillArchive: (content, deadline) => Promise.resolve(fillParleyArchive(dataDir, { ...content, domain: setup.domain }, deadline)),
  };
}

/** Returns the TOML configuration of a Parley process, with the TOML lines of `sections` appended. */
export function parleyConfig(setup: ServerSetup, port: number, dataDir: string, sections: string[] = []): string {
  // TOML basic strings take JSON string escapes for these paths.
  return [
    `domain = ${JSON.stringify(setup.domain)}`,
    `data_dir = ${JSON.stringify(dataDir)}`,
    '[listen]',
    'host = "127.0.0.1"',
    `c2s_port = ${port}`,
    'c2s_tls_port = false',
    'http_port = false',
    'https_port = false',
    '[tls]',
    `cert = ${JSON.stringify(setup.certFile)}`,
    `key = ${JSON.stringify(setup.keyFile)}`,
    '[registration]',
    'policy = "open"',
    // The benchmark signs up all its accounts from 127.0.0.1.
    'max_per_ip_per_hour = 100000',
    // Prosody and ejabberd limit no occupant's message rate by default; the fanout scenario saturates the room.
    '[muc]',
    'messages_per_second = 100000',
    'message_burst = 100000',
    '[log]',
    'level = "warn"',
    ...sections,
    '',
  ].join('\n');
}

/** Says whether the Parley that runs has the message archive, which the peers run with. */
export function archiveNote(mode: ParleyOptions['mode']): string {
  const modules = mode === 'dist' ? 'packages/server/dist/modules/index.js' : 'packages/server/src/modules/index.ts';
  const file = path.join(REPO_ROOT, modules);
  const hasArchive = existsSync(file) && readFileSync(file, 'utf8').includes('./mam/index.js');
  return hasArchive
    ? 'Parley: message archive (XEP-0313, modules/mam) loaded, with its default policy'
    : 'Parley: no message archive yet, while Prosody and ejabberd archive every message; rerun when it lands';
}

export function parleyVersion(): string {
  const { version } = JSON.parse(readFileSync(path.join(REPO_ROOT, 'packages/server/package.json'), 'utf8')) as { version: string };
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    return `${version} (${commit} + working tree)`;
  } catch {
    return version;
  }
}

/** Configuration file, c2s port and log file of one Parley process. */
export interface ParleyProcessFiles {
  configFile: string;
  port: number;
  logFile: string;
}

/** Starts one Parley process and waits until its c2s port accepts connections. */
export async function startParleyProcess(setup: ServerSetup, options: ParleyOptions, { configFile, port, logFile }: ParleyProcessFiles): Promise<RunningServer> {
  const args = ['--import', PROBE_FILE];
  if (options.cpuProfileDir) args.push('--cpu-prof', '--cpu-prof-dir', options.cpuProfileDir);
  if (options.mode === 'source') args.push('--conditions=source', '--import', 'tsx', 'packages/server/src/main.ts');
  else args.push('packages/server/dist/main.js');
  args.push('--config', configFile);

  const child = spawnServer({ command: process.execPath, args, cwd: REPO_ROOT, logFile, fdLimit: setup.fdLimit, ipc: true });
  try {
    await waitForPort(port, child, START_TIMEOUT_MS, logFile);
  } catch (err) {
    await stopProcess(child, STOP_TIMEOUT_MS);
    throw err;
  }
  const pid = child.pid!;
  return {
    pid,
    target: { host: '127.0.0.1', port, domain: setup.domain, transport: setup.transport },
    memory: async () => ({ rssBytes: residentBytes(pid), heapUsedBytes: await heapUsed(child) }),
    cpuMs: () => processCpuMs(pid),
    stop: () => stopProcess(child, STOP_TIMEOUT_MS),
  };
}

/** Asks the probe preloaded into the server for its V8 heap in use. */
function heapUsed(child: ChildProcess): Promise<MemorySample['heapUsedBytes']> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      resolve(undefined);
    }, 5000);
    function onMessage(message: unknown): void {
      const heapUsedBytes = (message as { heapUsedBytes?: number }).heapUsedBytes;
      if (heapUsedBytes === undefined) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(heapUsedBytes);
    }
    child.on('message', onMessage);
    child.send('memory');
  });
}
