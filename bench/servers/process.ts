/** Starting, watching and stopping the server processes of the benchmark, and reading their /proc figures. */
import { execFileSync, type ChildProcess, spawn, spawnSync, type StdioOptions } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';

import { sleep } from '../load/util.js';

/** Returns a TCP port of 127.0.0.1 that is free now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Returns the soft and hard open-file limits of processes this one starts (`ulimit -Sn`, `ulimit -Hn`). */
export function fileLimits(): { soft: number; hard: number } {
  const output = execFileSync('sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).trim().split('\n');
  const parse = (value: string | undefined) => (value === 'unlimited' ? Number.POSITIVE_INFINITY : Number(value));
  return { soft: parse(output[0]), hard: parse(output[1]) };
}

/** Returns true when a child shell may set its open-file limit to `limit` (`ulimit -n`). */
export function canSetFileLimit(limit: number): boolean {
  return spawnSync('sh', ['-c', `ulimit -n ${limit}`], { stdio: 'ignore' }).status === 0;
}

/** Command, environment and log file of a server process for spawnServer. */
export interface SpawnOptions {
  command: string;
  args: string[];
  cwd: string;
  env?: Record<string, string>;
  /** File that receives the process's standard output and error. */
  logFile: string;
  /** Open-file limit to set first; undefined leaves the inherited one. */
  fdLimit?: number;
  /** Adds an IPC channel (node processes only). */
  ipc?: boolean;
}

/** Server processes started by spawnServer that have not exited yet. */
const running = new Set<ChildProcess>();

/** Sends SIGTERM to every server process this benchmark started that still runs, for an interrupted run. */
export function terminateStartedServers(): void {
  for (const child of running) child.kill('SIGTERM');
}

/** Stop functions of the services (PostgreSQL, Redis) started for the benchmark and not stopped yet. */
const services = new Set<() => Promise<void>>();

/** Registers a service's stop function for stopStartedServices. Returns a stop function that also unregisters it. */
export function trackService(stop: () => Promise<void>): () => Promise<void> {
  services.add(stop);
  return async () => {
    services.delete(stop);
    await stop();
  };
}

/** Stops every service that trackService registered and that was not stopped yet, for an interrupted or failed run. */
export async function stopStartedServices(): Promise<void> {
  const stops = [...services];
  services.clear();
  await Promise.allSettled(stops.map((stop) => stop()));
}

/**
 * Starts a server process. With `fdLimit`, a shell raises the soft limit and then execs
 * the server, so the returned child's pid is the server's own.
 */
export function spawnServer(options: SpawnOptions): ChildProcess {
  const log = openSync(options.logFile, 'a');
  const stdio: StdioOptions = options.ipc ? ['ignore', log, log, 'ipc'] : ['ignore', log, log];
  const env = { ...process.env, ...options.env };
  let child: ChildProcess;
  try {
    if (options.fdLimit === undefined) {
      child = spawn(options.command, options.args, { cwd: options.cwd, env, stdio });
    } else {
      const script = `ulimit -n ${options.fdLimit} && exec "$0" "$@"`;
      child = spawn('sh', ['-c', script, options.command, ...options.args], { cwd: options.cwd, env, stdio });
    }
  } finally {
    closeSync(log);
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
  return child;
}

/** Waits until 127.0.0.1:port accepts connections; fails if the process exits or the time runs out. */
export async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, logFile: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the server process exited (${child.signalCode ?? child.exitCode}) before listening on port ${port}; see ${logFile}`);
    }
    if (await canConnect(port)) return;
    await sleep(100);
  }
  throw new Error(`the server did not listen on 127.0.0.1:${port} within ${timeoutMs} ms; see ${logFile}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Sends SIGTERM to the process, and SIGKILL if it has not exited after `timeoutMs`. */
export async function stopProcess(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

/** Resident set size of a process in bytes, from VmRSS in /proc/PID/status. */
export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!match) throw new Error(`no VmRSS line in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU time, user plus system, of a process and all its threads, in milliseconds (/proc/PID/stat fields 14 and 15). */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name in brackets may contain spaces, so count fields after its closing bracket.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** Writes a self-signed certificate and key for `domain` with the openssl command. */
export function generateCertificate(certFile: string, keyFile: string, domain: string): void {
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '30', '-subj', `/CN=${domain}`, '-addext', `subjectAltName=DNS:${domain}`],
    { stdio: 'ignore' },
  );
}
