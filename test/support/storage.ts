import { afterAll } from 'vitest';

import { openStorage, type Storage, type StorageOptions } from '../../packages/server/src/storage/index.js';
import { createTestDatabase, testsUsePostgres, type TestDatabase } from './postgres.js';

/** Test databases by the SQLite path they stand for, so that reopening a path reopens its database. */
const databases = new Map<string, TestDatabase>();

// Dropped when the file's tests are done: a test may close its storage and open the same path again.
afterAll(async () => {
  for (const database of databases.values()) await database.drop();
  databases.clear();
});

/**
 * Opens storage for a test: the SQLite file at `path`, or with PARLEY_TEST_STORAGE=postgres a
 * fresh PostgreSQL database that stands for that path for the rest of the test file.
 */
export async function openTestStorage(path: string): Promise<Storage> {
  return openStorage(await testStorageOptions(path));
}

/** Returns the options that openTestStorage opens `path` with, for a test that opens it in another process. */
export async function testStorageOptions(path: string): Promise<StorageOptions> {
  if (!testsUsePostgres()) return { driver: 'sqlite', path };

  // Like SQLite's ':memory:', each open of it is a new, empty database.
  const key = path === ':memory:' ? `:memory:${databases.size}` : path;
  let database = databases.get(key);
  if (database === undefined) {
    database = await createTestDatabase();
    databases.set(key, database);
  }
  return { driver: 'postgres', url: database.url, poolSize: 4 };
}
