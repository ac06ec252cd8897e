import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

import pg from 'pg';

import { openStorage } from '../../packages/server/src/storage/index.js';

/** The variable that selects the tests' database: 'postgres', or 'sqlite' (the default). */
export const STORAGE_VARIABLE = 'PARLEY_TEST_STORAGE';

/** Set by the global setup for the test workers: the URL of the maintenance database of the test cluster. */
export const ADMIN_URL_VARIABLE = 'PARLEY_TEST_POSTGRES_URL';

/** The database holding the migrated schema that each test database is copied from. */
export const TEMPLATE = 'parley_template';

/** The user the cluster runs as when the tests run as root, which PostgreSQL refuses. */
const UNPRIVILEGED_UID = 65534;
const UNPRIVILEGED_GID = 65534;

const READY_ATTEMPTS = 150;
const READY_INTERVAL_MS = 100;
const STOP_TIMEOUT_MS = 10_000;

/** True when the tests run on PostgreSQL. */
export function testsUsePostgres(): boolean {
  return process.env[STORAGE_VARIABLE] === 'postgres';
}

/** A PostgreSQL cluster started for this test run. */
export interface PostgresCluster {
  /** URL of the `postgres` maintenance database, as the superuser. */
  adminUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts a throwaway PostgreSQL cluster on 127.0.0.1 in a temporary folder under
 * `parentDir`, as an unprivileged user when the tests run as root, with durability off for
 * speed, and creates the migrated template database.
 */
export async function startPostgresCluster(parentDir = tmpdir()): Promise<PostgresCluster> {
  const bin = postgresBinaries();
  const folder = await mkdtemp(path.join(parentDir, 'parley-pg-'));
  const dataDir = path.join(folder, 'data');
  const asUser = process.getuid?.() === 0 ? unprivileged(folder) : [];

  initCluster(bin, dataDir, asUser);
  const port = await freePort();
  // setpriv runs postgres in its own process, so the child's id is the server's.
  const command = [...asUser, path.join(bin, 'postgres'), ...serverArgs(dataDir, folder, port)];
  const child = spawn(command[0]!, command.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000)));

  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const cluster: PostgresCluster = { adminUrl, stop: () => stopCluster(child, folder) };
  try {
    await waitUntilReady(adminUrl, child, () => log);
    await createTemplate(adminUrl);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

/** A database of its own for one test, copied from the template. */
export interface TestDatabase {
  url: string;
  /** Drops the database, closing any connection still open to it. */
  drop(): Promise<void>;
}

let databaseCount = 0;

/** Creates a fresh, migrated database in the cluster that the global setup started. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env[ADMIN_URL_VARIABLE];
  if (adminUrl === undefined) throw new Error(`${STORAGE_VARIABLE}=postgres needs the PostgreSQL global setup of vitest.config.ts, which sets ${ADMIN_URL_VARIABLE}.`);

  databaseCount++;
  const name = `parley_${process.pid}_${databaseCount}`;
  await adminQuery(adminUrl, `create database ${name} template ${TEMPLATE}`);

  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await adminQuery(adminUrl, `drop database if exists ${name} with (force)`);
    },
  };
}

/** Runs `text` as the superuser on the maintenance database of the test cluster, for tests that break connections. */
export async function runAsSuperuser(text: string): Promise<void> {
  const adminUrl = process.env[ADMIN_URL_VARIABLE];
  if (adminUrl === undefined) throw new Error(`${ADMIN_URL_VARIABLE} is not set: the PostgreSQL global setup did not run.`);
  await adminQuery(adminUrl, text);
}

/** The newest PostgreSQL installed by Debian's packages. */
function postgresBinaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name) && existsSync(path.join(root, name, 'bin', 'postgres'))) : [];
  if (versions.length === 0) throw new Error(`${STORAGE_VARIABLE}=postgres needs PostgreSQL's server programs in ${root}/<version>/bin (Debian package postgresql).`);
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0]!;
  return path.join(root, newest, 'bin');
}

/** Hands `folder` to the unprivileged user and returns the command prefix that runs a program as that user. */
function unprivileged(folder: string): string[] {
  chownSync(folder, UNPRIVILEGED_UID, UNPRIVILEGED_GID);
  return ['setpriv', `--reuid=${UNPRIVILEGED_UID}`, `--regid=${UNPRIVILEGED_GID}`, '--clear-groups', '--'];
}

function initCluster(bin: string, dataDir: string, asUser: string[]): void {
  const initdb = path.join(bin, 'initdb');
  const args = ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'];
  const command = [...asUser, initdb, ...args];
  const result = spawnSync(command[0]!, command.slice(1), { encoding: 'utf8', timeout: 60_000 });
  if (result.status !== 0) throw new Error(`initdb failed (${String(result.status ?? result.signal)}): ${result.stderr || String(result.error)}`);
}

/** Settings for a test cluster: loopback only, no durability (the data is thrown away), room for many pools. */
function serverArgs(dataDir: string, socketDir: string, port: number): string[] {
  const settings: Record<string, string> = {
    listen_addresses: '127.0.0.1',
    port: String(port),
    unix_socket_directories: socketDir,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: '400',
    shared_buffers: '128MB',
    log_min_messages: 'fatal',
  };
  return ['-D', dataDir, ...Object.entries(settings).flatMap(([key, value]) => ['-c', `${key}=${value}`])];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilReady(adminUrl: string, child: ChildProcess, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < READY_ATTEMPTS; attempt++) {
    if (child.exitCode !== null) throw new Error(`PostgreSQL exited with code ${child.exitCode} at start: ${log()}`);
    try {
      await adminQuery(adminUrl, 'select 1');
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, READY_INTERVAL_MS));
    }
  }
  throw new Error(`PostgreSQL did not accept connections within ${(READY_ATTEMPTS * READY_INTERVAL_MS) / 1000} s: ${log()}`);
}

async function createTemplate(adminUrl: string): Promise<void> {
  await adminQuery(adminUrl, `create database ${TEMPLATE}`);
  const url = new URL(adminUrl);
  url.pathname = `/${TEMPLATE}`;
  const storage = await openStorage({ driver: 'postgres', url: url.toString(), poolSize: 1 });
  await storage.close();
}

/** Runs `text` on the database of `adminUrl` over a connection of its own. */
export async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** Stops the cluster by its process id (a fast shutdown) and removes its folder. */
async function stopCluster(child: ChildProcess, folder: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    process.kill(child.pid, 'SIGINT');
    const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
  await rm(folder, { recursive: true, force: true });
}
