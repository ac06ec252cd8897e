import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

import type { Database } from './schema.js';

/** Maximum open connections to PostgreSQL when the configuration sets none. */
export const DEFAULT_POOL_SIZE = 10;

/** How long opening a connection may take before a query fails. */
const CONNECT_TIMEOUT_MS = 10_000;

/** PostgreSQL type ids whose text the pool parses into numbers. */
const INT8_OID = 20;
const NUMERIC_OID = 1700;

/** How to reach a PostgreSQL database. */
export interface PostgresConnection {
  /** A `postgres://` URL. Its user information may contain the password. */
  url: string;
  /** Overrides the URL's password, so that it can come from the environment. */
  password?: string;
  /** Maximum number of open connections. */
  poolSize?: number;
  /** Receives errors of idle connections, which the pool then replaces. */
  onIdleError?: (error: Error) => void;
}

/** Error for a database that cannot be reached. Its message names the server and database, never the password. */
export class DatabaseUnavailableError extends Error {
  constructor(target: string, cause: unknown) {
    super(`Cannot connect to PostgreSQL database ${target}: ${errorText(cause)}`, { cause });
    this.name = 'DatabaseUnavailableError';
  }
}

/**
 * Opens a pool to the database and checks one connection, so that a wrong address or
 * password stops the start with a clear error instead of failing the first stanza.
 */
export async function openPostgres(connection: PostgresConnection): Promise<Kysely<Database>> {
  const pool = new pg.Pool(poolConfig(connection));

  // The pool emits this when the server closes an idle connection. Without a listener the process would exit.
  pool.on('error', (error) => connection.onIdleError?.(error));

  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new DatabaseUnavailableError(describeTarget(connection.url), error);
  }

  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Formats a URL as `user@host:port/database`, without the password. */
export function describeTarget(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(unparseable storage.url)';
  }

  const user = parsed.username === '' ? '' : `${decodeURIComponent(parsed.username)}@`;
  const host = parsed.hostname === '' ? 'localhost' : parsed.hostname;
  const port = parsed.port === '' ? '5432' : parsed.port;
  return `${user}${host}:${port}${parsed.pathname}`;
}

function poolConfig(connection: PostgresConnection): pg.PoolConfig {
  const config: pg.PoolConfig = {
    connectionString: connection.url,
    max: connection.poolSize ?? DEFAULT_POOL_SIZE,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types: { getTypeParser: typeParser },
  };
  if (connection.password !== undefined && connection.password !== '') config.password = connection.password;
  return config;
}

/**
 * Reads bigint and numeric values as JavaScript numbers. The stored values (millisecond
 * times, row keys, byte counts) stay far below 2^53, and the repositories expect numbers,
 * as better-sqlite3 returns them.
 */
const typeParser = ((oid: number, format?: string) => {
  if (format !== 'binary' && (oid === INT8_OID || oid === NUMERIC_OID)) return (text: string) => Number(text);
  return pg.types.getTypeParser(oid, format as 'text');
}) as typeof pg.types.getTypeParser;

function errorText(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) return errorText(error.errors[0]);
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
