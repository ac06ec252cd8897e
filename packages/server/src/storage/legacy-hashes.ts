import type { Kysely } from 'kysely';

import { insertCredentials, type StoredScramCredential } from './accounts.js';
import type { Database } from './schema.js';

/**
 * The password hashes of imported accounts (`accounts.legacy_hash`) and their replacement
 * by SCRAM credentials at the first successful login.
 */
export class LegacyHashRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Returns the account's legacy hash, or null when it has none or does not exist. */
  async get(host: string, username: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('accounts')
      .select('legacy_hash')
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirst();
    return row?.legacy_hash ?? null;
  }

  /**
   * Stores SCRAM credentials for an account that has none and clears its legacy hash, in
   * one transaction. It does nothing and returns false when the account's legacy hash is
   * no longer `expectedHash` (null: no legacy hash) or credentials appeared meanwhile,
   * such as after a concurrent login or a password reset.
   */
  async replaceWithCredentials(host: string, username: string, expectedHash: string | null, credentials: StoredScramCredential[]): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const account = await trx
        .selectFrom('accounts')
        .select('legacy_hash')
        .where('host', '=', host)
        .where('username', '=', username)
        .executeTakeFirst();
      if (account === undefined || account.legacy_hash !== expectedHash) return false;

      const existing = await trx
        .selectFrom('credentials')
        .select('hash')
        .where('host', '=', host)
        .where('username', '=', username)
        .executeTakeFirst();
      if (existing !== undefined) return false;

      await trx.updateTable('accounts').set({ legacy_hash: null }).where('host', '=', host).where('username', '=', username).execute();
      await insertCredentials(trx, host, username, credentials);
      return true;
    });
  }
}
