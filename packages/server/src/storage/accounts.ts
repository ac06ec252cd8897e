import type { Kysely } from 'kysely';

import type { CredentialsTable, Database, ScramHash } from './schema.js';
import { containsText } from './text-search.js';

/** A stored SCRAM credential (RFC 5802). It contains derived keys, never the password. */
export interface StoredScramCredential {
  hash: ScramHash;
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** Public account fields. */
export interface AccountInfo {
  username: string;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  disabled: boolean;
}

/** Page request for `AccountRepository.list`. */
export interface AccountListOptions {
  limit: number;
  /** Username to start after, exclusive, for keyset pagination. */
  after?: string;
  /** Substring that every listed username contains. */
  search?: string;
}

/** Raised by `AccountRepository.create` when the account already exists. */
export class AccountExistsError extends Error {
  constructor(
    readonly host: string,
    readonly username: string,
  ) {
    super(`Account ${username}@${host} already exists`);
    this.name = 'AccountExistsError';
  }
}

/** Raised when an update targets an account that does not exist. */
export class AccountNotFoundError extends Error {
  constructor(
    readonly host: string,
    readonly username: string,
  ) {
    super(`Account ${username}@${host} not found`);
    this.name = 'AccountNotFoundError';
  }
}

/** Tables that hold per-account rows, deleted before `accounts` itself. */
const ACCOUNT_DATA_TABLES = [
  'credentials',
  'roster_items',
  'roster_tombstones',
  'roster_versions',
  'offline_messages',
  'vcards',
  'private_storage',
  // Tokens first: they refer to archive rows.
  'archive_tokens',
  'archive_messages',
  'archive_prefs',
  'blocklist',
  // Unread rows first: they refer to inbox entries.
  'inbox_unread',
  'inbox_entries',
] as const;

/** Accounts and their SCRAM credentials, keyed by (host, username). */
export class AccountRepository {
  private readonly dataTables: readonly (typeof ACCOUNT_DATA_TABLES)[number][];

  /** `tokenRows` is false on SQLite, whose search tokens leave with their archive rows (see fts.ts). */
  constructor(
    private readonly db: Kysely<Database>,
    options: { tokenRows: boolean } = { tokenRows: true },
  ) {
    this.dataTables = options.tokenRows ? ACCOUNT_DATA_TABLES : ACCOUNT_DATA_TABLES.filter((table) => table !== 'archive_tokens');
  }

  /** Creates an account with its credentials, or throws AccountExistsError if it exists. */
  async create(host: string, username: string, credentials: StoredScramCredential[], createdAt = Date.now()): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      // ON CONFLICT DO NOTHING detects the duplicate on SQLite and PostgreSQL alike,
      // and the throw rolls the transaction back.
      const result = await trx
        .insertInto('accounts')
        .values({ host, username, created_at: createdAt, disabled: 0, legacy_hash: null })
        .onConflict((oc) => oc.columns(['host', 'username']).doNothing())
        .executeTakeFirst();
      if (Number(result.numInsertedOrUpdatedRows ?? 0) === 0) {
        throw new AccountExistsError(host, username);
      }

      await insertCredentials(trx, host, username, credentials);
    });
  }

  /** Returns the account, or null if it does not exist. */
  async get(host: string, username: string): Promise<AccountInfo | null> {
    const row = await this.db
      .selectFrom('accounts')
      .select(['username', 'created_at', 'disabled'])
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirst();
    return row === undefined ? null : toAccountInfo(row);
  }

  /** Returns whether the account exists (disabled accounts included). */
  async exists(host: string, username: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('accounts')
      .select('username')
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Returns the account's credential for `hash`, or null if there is none. */
  async getCredential(host: string, username: string, hash: ScramHash): Promise<StoredScramCredential | null> {
    const row = await this.db
      .selectFrom('credentials')
      .selectAll()
      .where('host', '=', host)
      .where('username', '=', username)
      .where('hash', '=', hash)
      .executeTakeFirst();
    return row === undefined ? null : toCredential(row);
  }

  /** Replaces all credentials of the account, or throws AccountNotFoundError if it does not exist. */
  async setCredentials(host: string, username: string, credentials: StoredScramCredential[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const account = await trx
        .selectFrom('accounts')
        .select('username')
        .where('host', '=', host)
        .where('username', '=', username)
        .executeTakeFirst();
      if (account === undefined) {
        throw new AccountNotFoundError(host, username);
      }

      await trx.deleteFrom('credentials').where('host', '=', host).where('username', '=', username).execute();
      await insertCredentials(trx, host, username, credentials);
      // The new password replaces an imported one too, so the legacy hash must stop working.
      await trx.updateTable('accounts').set({ legacy_hash: null }).where('host', '=', host).where('username', '=', username).execute();
    });
  }

  /** Sets the disabled flag, or throws AccountNotFoundError if the account does not exist. */
  async setDisabled(host: string, username: string, disabled: boolean): Promise<void> {
    const result = await this.db
      .updateTable('accounts')
      .set({ disabled: disabled ? 1 : 0 })
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) {
      throw new AccountNotFoundError(host, username);
    }
  }

  /**
   * Deletes the account and all its rows in this layer, in one transaction.
   * Returns false if it did not exist. Invites it created stay, because they
   * belong to the host. Other accounts' roster items for it are the caller's job.
   */
  async delete(host: string, username: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      // The foreign keys cascade too, but explicit deletes keep the contract
      // independent of the foreign_keys setting.
      for (const table of this.dataTables) {
        await trx.deleteFrom(table).where('host', '=', host).where('username', '=', username).execute();
      }

      const result = await trx
        .deleteFrom('accounts')
        .where('host', '=', host)
        .where('username', '=', username)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  /**
   * Lists accounts of `host` ordered by username. `search` matches a substring.
   * Callers pass it prepared like a username, because LIKE is case-insensitive
   * for ASCII on SQLite but case-sensitive on PostgreSQL.
   */
  async list(host: string, options: AccountListOptions): Promise<AccountInfo[]> {
    let query = this.db
      .selectFrom('accounts')
      .select(['username', 'created_at', 'disabled'])
      .where('host', '=', host)
      .orderBy('username')
      .limit(options.limit);

    if (options.after !== undefined) {
      query = query.where('username', '>', options.after);
    }
    if (options.search !== undefined && options.search !== '') {
      query = query.where(containsText('username', options.search));
    }

    const rows = await query.execute();
    return rows.map(toAccountInfo);
  }

  /** Counts the accounts of `host`. */
  async count(host: string): Promise<number> {
    const row = await this.db
      .selectFrom('accounts')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('host', '=', host)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }
}

/** Inserts the account's SCRAM credentials with `trx`; does nothing for an empty list. */
export async function insertCredentials(
  trx: Kysely<Database>,
  host: string,
  username: string,
  credentials: StoredScramCredential[],
): Promise<void> {
  if (credentials.length === 0) {
    return;
  }
  const rows = credentials.map((credential) => ({
    host,
    username,
    hash: credential.hash,
    salt: credential.salt.toString('base64'),
    iterations: credential.iterations,
    stored_key: credential.storedKey.toString('base64'),
    server_key: credential.serverKey.toString('base64'),
  }));
  await trx.insertInto('credentials').values(rows).execute();
}

function toAccountInfo(row: { username: string; created_at: number | string; disabled: number }): AccountInfo {
  return { username: row.username, createdAt: Number(row.created_at), disabled: row.disabled === 1 };
}

function toCredential(row: CredentialsTable): StoredScramCredential {
  return {
    hash: row.hash,
    salt: Buffer.from(row.salt, 'base64'),
    iterations: row.iterations,
    storedKey: Buffer.from(row.stored_key, 'base64'),
    serverKey: Buffer.from(row.server_key, 'base64'),
  };
}
