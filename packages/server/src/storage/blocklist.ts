import type { Kysely } from 'kysely';

import type { Database } from './schema.js';

/**
 * The JIDs an account blocks (XEP-0191), stored as prepared JID strings. Callers
 * prepare the addresses; this layer compares them as plain text.
 */
export class BlocklistRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Returns the blocked JIDs of the account, in text order. */
  async list(host: string, username: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('blocklist')
      .select('jid')
      .where('host', '=', host)
      .where('username', '=', username)
      .orderBy('jid')
      .execute();
    return rows.map((row) => row.jid);
  }

  /** Blocks `jids` and returns those that were not blocked before, in the order given. */
  async add(host: string, username: string, jids: string[], blockedAt: number): Promise<string[]> {
    const wanted = [...new Set(jids)];
    if (wanted.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('blocklist')
        .select('jid')
        .where('host', '=', host)
        .where('username', '=', username)
        .where('jid', 'in', wanted)
        .execute();
      const known = new Set(existing.map((row) => row.jid));
      const added = wanted.filter((jid) => !known.has(jid));
      if (added.length > 0) {
        await trx
          .insertInto('blocklist')
          .values(added.map((jid) => ({ host, username, jid, blocked_at: blockedAt })))
          .execute();
      }
      return added;
    });
  }

  /** Unblocks `jids` and returns those that were blocked, in the order given. */
  async remove(host: string, username: string, jids: string[]): Promise<string[]> {
    const wanted = [...new Set(jids)];
    if (wanted.length === 0) return [];
    return this.db.transaction().execute(async (trx) => {
      const existing = await trx
        .selectFrom('blocklist')
        .select('jid')
        .where('host', '=', host)
        .where('username', '=', username)
        .where('jid', 'in', wanted)
        .execute();
      const known = new Set(existing.map((row) => row.jid));
      const removed = wanted.filter((jid) => known.has(jid));
      if (removed.length > 0) {
        await trx.deleteFrom('blocklist').where('host', '=', host).where('username', '=', username).where('jid', 'in', removed).execute();
      }
      return removed;
    });
  }

  /** Unblocks every JID of the account and returns them, in text order. */
  async clear(host: string, username: string): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('blocklist')
        .select('jid')
        .where('host', '=', host)
        .where('username', '=', username)
        .orderBy('jid')
        .execute();
      await trx.deleteFrom('blocklist').where('host', '=', host).where('username', '=', username).execute();
      return rows.map((row) => row.jid);
    });
  }
}
