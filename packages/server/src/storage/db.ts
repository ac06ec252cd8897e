import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, type DatabaseConnection, type Driver, Kysely, Migrator, SqliteDialect, type SqliteDialectConfig, SqliteDriver } from 'kysely';
import type { ColumnDefinitionBuilder, CreateTableBuilder, MigrationProvider } from 'kysely';

import { migrations } from './migrations/index.js';
import type { Database } from './schema.js';

/** SQL dialects the storage layer targets. */
export type DialectName = 'sqlite' | 'postgres';

/** Busy timeout in milliseconds, so a writer in another process is waited for instead of failing at once. */
const BUSY_TIMEOUT_MS = 5000;

/** WAL pages (4 KiB each) after which a commit checkpoints the WAL into the database file. */
export const WAL_CHECKPOINT_PAGES = 10_000;

/** Prepared statements kept per connection; the server's queries have far fewer distinct texts. */
const STATEMENT_CACHE_SIZE = 1000;

/**
 * Prepared statements on the SQLite connection that Kysely uses, cached by SQL text. A
 * statement run through it joins whatever transaction the connection has open, so while
 * one is open, only the code that opened it (a batch write) may use the statements.
 */
export interface SqliteStatements {
  prepare(sql: string): SqliteDatabase.Statement;
}

/** An opened SQLite database: Kysely over it, and its statement cache for hot paths. */
export interface SqliteHandle {
  db: Kysely<Database>;
  statements: SqliteStatements;
}

/** Opens the SQLite database at `path` or ':memory:', creating a missing folder and file. */
export function openSqlite(path: string): SqliteHandle {
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true });
  }

  const database = new SqliteDatabase(path);
  try {
    applyPragmas(database, path);
  } catch (error) {
    database.close();
    throw error;
  }

  const statements = withStatementCache(database);
  return { db: new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: statements }) }), statements };
}

/**
 * Starts transactions with BEGIN IMMEDIATE, which takes the write lock at once. With a plain
 * BEGIN, a transaction that reads and then writes fails with SQLITE_BUSY when another
 * process wrote to the file meanwhile (cluster nodes that share one file), instead of
 * waiting for the busy timeout. One process has one connection, so it loses nothing.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.settings);
  }
}

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/**
 * Wraps the connection so that Kysely reuses prepared statements. Kysely prepares every
 * query anew, and preparing took about a fifth of the server's CPU time under message
 * load. Statements are reused only one at a time: Kysely runs each query to completion
 * before the next, and Parley does not use Kysely's streaming queries. The hot paths that
 * use the cache directly run each statement to completion synchronously.
 */
function withStatementCache(database: SqliteDatabase.Database) {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => database.close(),
    prepare(sql: string): SqliteDatabase.Statement {
      let statement = cache.get(sql);
      if (statement) {
        cache.delete(sql);
      } else {
        statement = database.prepare(sql);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
}

function applyPragmas(database: SqliteDatabase.Database, path: string): void {
  const journalMode: unknown = database.pragma('journal_mode = WAL', { simple: true });
  if (path !== ':memory:' && journalMode !== 'wal') {
    throw new Error(`Failed to enable WAL journal mode on ${path}, SQLite kept '${String(journalMode)}'. WAL needs a local file system.`);
  }

  // FULL syncs the WAL on every commit. NORMAL would survive a process crash
  // but may lose the last commits on power loss.
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  // Rarer checkpoints than SQLite's default (1,000 pages) copy pages written again and again
  // (archive indexes, inbox rows) fewer times: about 9% more 1:1 messages per second.
  database.pragma(`wal_autocheckpoint = ${WAL_CHECKPOINT_PAGES}`);
  database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
}

/** Runs every pending migration for `dialect` and throws the first migration error. */
export async function migrateToLatest(db: Kysely<Database>, dialect: DialectName): Promise<void> {
  const provider: MigrationProvider = { getMigrations: () => Promise.resolve(migrations(dialect)) };
  const migrator = new Migrator({ db, provider });

  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    const failed = results?.find((result) => result.status === 'Error');
    const name = failed === undefined ? 'unknown migration' : `migration ${failed.migrationName}`;
    throw new Error(`Database ${name} failed: ${String(error)}`, { cause: error });
  }
}

/**
 * Adds an auto-increment primary key column: `integer primary key autoincrement`
 * on SQLite (AUTOINCREMENT never reuses the key of a deleted last row), and
 * `bigint generated by default as identity primary key` on PostgreSQL.
 */
export function addAutoIncrementKey<TableName extends string, Columns extends string, Column extends string>(
  table: CreateTableBuilder<TableName, Columns>,
  column: Column,
  dialect: DialectName,
): CreateTableBuilder<TableName, Columns | Column> {
  if (dialect === 'sqlite') {
    return table.addColumn(column, 'integer', (col: ColumnDefinitionBuilder) => col.primaryKey().autoIncrement());
  }
  return table.addColumn(column, 'bigint', (col: ColumnDefinitionBuilder) => col.generatedByDefaultAsIdentity().primaryKey());
}
