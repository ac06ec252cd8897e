/**
 * Installs the Debian packages of the peer servers when they are missing, and makes sure
 * the system services that the packages may start are not left running: the benchmark
 * starts its own instances on loopback ports with its own configuration.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

import { sleep } from '../load/util.js';

let aptUpdated = false;

/** Returns the installed version of a Debian package, or undefined when it is not installed. */
export function installedVersion(pkg: string): string | undefined {
  const result = spawnSync('dpkg-query', ['-W', '-f', '${Status}\t${Version}', pkg], { encoding: 'utf8' });
  if (result.status !== 0) return undefined;
  const [status, version] = result.stdout.split('\t');
  return status === 'install ok installed' ? version : undefined;
}

/**
 * Installs `pkg` with apt-get if needed (as root; `apt-get update` once per invocation)
 * and stops what the installation started. `processNames` are the /proc comm names of
 * the package's daemons. Returns the installed version and what was done, for the report.
 */
export async function ensurePackage(pkg: string, processNames: string[], log: (line: string) => void): Promise<string> {
  const present = installedVersion(pkg);
  if (present !== undefined) return present;
  if (process.getuid?.() !== 0) {
    throw new Error(`${pkg} is not installed and installing it needs root: run "apt-get install -y ${pkg}" as root, then run the benchmark again`);
  }

  const before = new Set(findProcesses(processNames));
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (!aptUpdated) {
    log('apt-get update');
    execFileSync('apt-get', ['update'], { stdio: 'ignore', env });
    aptUpdated = true;
  }
  log(`apt-get install -y ${pkg}`);
  execFileSync('apt-get', ['install', '-y', pkg], { stdio: 'ignore', env });

  const started = findProcesses(processNames).filter((pid) => !before.has(pid));
  if (started.length > 0) await stopStarted(pkg, started, log);
  const version = installedVersion(pkg);
  if (version === undefined) throw new Error(`apt-get install -y ${pkg} finished but dpkg does not list ${pkg} as installed`);
  return version;
}

/** Process ids whose /proc/PID/comm is one of `names`. */
export function findProcesses(names: string[]): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (names.includes(readFileSync(`/proc/${entry}/comm`, 'utf8').trim())) pids.push(Number(entry));
    } catch {
      // The process ended while the folder was being read.
    }
  }
  return pids;
}

/** Stops the daemons the package installation started: first through its service script, then by pid. */
async function stopStarted(pkg: string, pids: number[], log: (line: string) => void): Promise<void> {
  log(`the installation of ${pkg} started processes ${pids.join(', ')}; stopping them`);
  spawnSync('service', [pkg, 'stop'], { stdio: 'ignore' });
  await sleep(2000);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone after the service stop.
    }
  }
}
