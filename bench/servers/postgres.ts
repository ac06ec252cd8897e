/**
 * PostgreSQL for `bench/run.ts --cluster`: a throwaway cluster on 127.0.0.1, started as the
 * tests start theirs (test/support/postgres.ts, durability off), with one database per
 * Parley configuration. Snapshots of a database are copies made by CREATE DATABASE ... TEMPLATE.
 */
import { chmodSync } from 'node:fs';

import pg from 'pg';

import { TEMPLATE, adminQuery, startPostgresCluster } from '../../test/support/postgres.js';
import type { DatabaseSnapshots } from './types.js';

/** Database names this module creates: lower-case letters, digits and underscores, so they need no quoting. */
const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/;

/** One database of the benchmark's PostgreSQL. */
export interface BenchDatabase {
  url: string;
  snapshots: DatabaseSnapshots;
}

/** The benchmark's PostgreSQL cluster. */
export interface BenchPostgres {
  /** The server's version (`server_version`), for the notes. */
  version: string;
  /** Creates database `name` as a copy of the migrated template. */
  createDatabase(name: string): Promise<BenchDatabase>;
  /** Stops the cluster and removes its folder. */
  stop(): Promise<void>;
}

/** Starts PostgreSQL in a folder under `parentDir` and returns it once it accepts connections. */
export async function startBenchPostgres(parentDir: string): Promise<BenchPostgres> {
  // As root, PostgreSQL runs as an unprivileged user, which must be able to enter parentDir.
  if (process.getuid?.() === 0) chmodSync(parentDir, 0o711);
  const cluster = await startPostgresCluster(parentDir);

  let version: string;
  try {
    version = await serverVersion(cluster.adminUrl);
  } catch (err) {
    await cluster.stop();
    throw err;
  }

  return {
    version,
    async createDatabase(name) {
      await adminQuery(cluster.adminUrl, `create database ${checked(name)} template ${TEMPLATE}`);
      return { url: databaseUrl(cluster.adminUrl, name), snapshots: snapshotsOf(cluster.adminUrl, name) };
    },
    stop: () => cluster.stop(),
  };
}

/**
 * Snapshot `name` of `database` is the database `<database>__<name>`. CREATE DATABASE waits
 * up to 5 s for the connections of a stopped server to close, then fails
 * (`CountOtherDBBackends` in PostgreSQL 15).
 */
function snapshotsOf(adminUrl: string, database: string): DatabaseSnapshots {
  const copyName = (name: string) => checked(`${database}__${name}`);
  return {
    async save(name) {
      await adminQuery(adminUrl, `drop database if exists ${copyName(name)}`);
      await adminQuery(adminUrl, `create database ${copyName(name)} template ${database}`);
    },
    async restore(name) {
      await adminQuery(adminUrl, `drop database if exists ${database} with (force)`);
      await adminQuery(adminUrl, `create database ${database} template ${copyName(name)}`);
    },
    async discard(name) {
      await adminQuery(adminUrl, `drop database if exists ${copyName(name)}`);
    },
  };
}

function checked(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`invalid benchmark database name "${name}": expected ${IDENTIFIER.source}`);
  return name;
}

function databaseUrl(adminUrl: string, name: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function serverVersion(adminUrl: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const result = await client.query<{ server_version: string }>('show server_version');
    return result.rows[0]?.server_version ?? '?';
  } finally {
    await client.end();
  }
}
