import { createHash } from 'node:crypto';
import { type Transaction, sql } from 'kysely';
import type { Database } from './schema.js';

/**
 * Takes PostgreSQL advisory locks on `names` for the rest of the transaction. Every caller
 * takes its locks in the order of their ids, so two transactions that lock overlapping names
 * cannot wait for each other in a cycle over these locks.
 */
export async function takeAdvisoryLocks(trx: Transaction<Database>, names: string[]): Promise<void> {
  const ids = [...new Set(names.map(lockId))].sort(compareIds);
  // unnest yields the ids in array order, and each row's lock is taken as the row is produced.
  await sql`select pg_advisory_xact_lock(id) from unnest(${ids.map(String)}::bigint[]) as locks(id)`.execute(trx);
}

/**
 * Returns the batch lock name of an account, for writes to its rows (archive, inbox, PEP).
 * When every batch write to those rows names this lock, two batches that write rows of the same
 * two accounts lock both first, in one order, so their row locks cannot deadlock, and archive
 * keys of one account commit in order.
 */
export function accountLock(host: string, username: string): string {
  return `account:${host}/${username}`;
}

/** Returns the 64-bit lock id of `name`: the first 8 bytes of its SHA-256, signed. */
export function lockId(name: string): bigint {
  return createHash('sha256').update(name, 'utf8').digest().readBigInt64BE(0);
}

function compareIds(a: bigint, b: bigint): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
