import type { Kysely, Selectable } from 'kysely';

import type { AccountProfilesTable, Database } from './schema.js';
import { containsText } from './text-search.js';

/** Organisation data of one account: its id in the organisation's own system, contact data and department. */
export interface AccountProfile {
  host: string;
  username: string;
  /** Unique per host when not null. */
  externalId: string | null;
  displayName: string | null;
  email: string | null;
  phone: string | null;
  title: string | null;
  /** Id of the account's department (an org group of kind 'department'). */
  department: string | null;
  /** Hex SHA-1 of the current avatar image. */
  avatarSha1: string | null;
  /** Milliseconds since the Unix epoch. */
  updatedAt: number;
}

/** One account in a listing: its profile (all fields null when it has none) and account state. */
export interface ProfileListEntry extends AccountProfile {
  createdAt: number;
  disabled: boolean;
}

/** Page request for `ProfileRepository.list`, in username order. */
export interface ProfileListOptions {
  limit: number;
  /** Username to start after, exclusive. */
  after?: string;
  /** Only accounts of this department. */
  department?: string;
  /** Text that the username, display name, email or external id contains (ASCII case-insensitive on SQLite). */
  search?: string;
}

/** An account's avatar image. */
export interface StoredAvatar {
  type: string;
  /** Hex SHA-1 of `data`. */
  sha1: string;
  data: Buffer;
  updatedAt: number;
}

/**
 * Account profiles and avatars, keyed by (host, username). Rows cascade from `accounts`.
 * Construct it over a transaction to make its writes part of that transaction.
 */
export class ProfileRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Returns the account's profile, or null when it has none. */
  async get(host: string, username: string): Promise<AccountProfile | null> {
    const row = await this.db
      .selectFrom('account_profiles')
      .selectAll()
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirst();
    return row === undefined ? null : toProfile(row);
  }

  /** Returns the profile with `externalId`, or null when no account of `host` has it. */
  async getByExternalId(host: string, externalId: string): Promise<AccountProfile | null> {
    const row = await this.db
      .selectFrom('account_profiles')
      .selectAll()
      .where('host', '=', host)
      .where('external_id', '=', externalId)
      .executeTakeFirst();
    return row === undefined ? null : toProfile(row);
  }

  /**
   * Inserts or replaces the profile. The account must exist, and `externalId` must not
   * belong to another account of the host (the unique index rejects it otherwise).
   */
  async upsert(profile: AccountProfile): Promise<void> {
    const values = {
      external_id: profile.externalId,
      display_name: profile.displayName,
      email: profile.email,
      phone: profile.phone,
      title: profile.title,
      department: profile.department,
      avatar_sha1: profile.avatarSha1,
      updated_at: profile.updatedAt,
    };
    await this.db
      .insertInto('account_profiles')
      .values({ host: profile.host, username: profile.username, ...values })
      .onConflict((oc) => oc.columns(['host', 'username']).doUpdateSet(values))
      .execute();
  }

  /**
   * Lists the accounts of `host` in username order with their profiles, including
   * accounts without a profile row.
   */
  async list(host: string, options: ProfileListOptions): Promise<ProfileListEntry[]> {
    let query = this.db
      .selectFrom('accounts as a')
      .leftJoin('account_profiles as p', (join) => join.onRef('p.host', '=', 'a.host').onRef('p.username', '=', 'a.username'))
      .select([
        'a.username',
        'a.created_at',
        'a.disabled',
        'p.external_id',
        'p.display_name',
        'p.email',
        'p.phone',
        'p.title',
        'p.department',
        'p.avatar_sha1',
        'p.updated_at',
      ])
      .where('a.host', '=', host)
      .orderBy('a.username')
      .limit(options.limit);

    if (options.after !== undefined) query = query.where('a.username', '>', options.after);
    if (options.department !== undefined) query = query.where('p.department', '=', options.department);
    if (options.search !== undefined && options.search !== '') {
      const search = options.search;
      query = query.where((eb) => eb.or((['a.username', 'p.display_name', 'p.email', 'p.external_id'] as const).map((column) => containsText(column, search))));
    }

    const rows = await query.execute();
    return rows.map((row) => ({
      host,
      username: row.username,
      externalId: row.external_id,
      displayName: row.display_name,
      email: row.email,
      phone: row.phone,
      title: row.title,
      department: row.department,
      avatarSha1: row.avatar_sha1,
      updatedAt: Number(row.updated_at ?? row.created_at),
      createdAt: Number(row.created_at),
      disabled: row.disabled === 1,
    }));
  }

  /** Returns the account's avatar, or null when it has none. */
  async getAvatar(host: string, username: string): Promise<StoredAvatar | null> {
    const row = await this.db
      .selectFrom('account_avatars')
      .select(['type', 'sha1', 'data', 'updated_at'])
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirst();
    if (row === undefined) return null;
    return { type: row.type, sha1: row.sha1, data: Buffer.from(row.data), updatedAt: Number(row.updated_at) };
  }

  /**
   * Stores the account's avatar, or removes it when `avatar` is null, and sets the
   * profile's `avatarSha1` to match (creating an empty profile when there is none).
   * Call it inside a transaction, or over the repository of one, to keep both rows in step.
   */
  async setAvatar(host: string, username: string, avatar: { type: string; sha1: string; data: Buffer } | null, now = Date.now()): Promise<void> {
    if (avatar === null) {
      await this.db.deleteFrom('account_avatars').where('host', '=', host).where('username', '=', username).execute();
    } else {
      const values = { type: avatar.type, sha1: avatar.sha1, data: avatar.data, updated_at: now };
      await this.db
        .insertInto('account_avatars')
        .values({ host, username, ...values })
        .onConflict((oc) => oc.columns(['host', 'username']).doUpdateSet(values))
        .execute();
    }

    const sha1 = avatar?.sha1 ?? null;
    await this.db
      .insertInto('account_profiles')
      .values({ host, username, avatar_sha1: sha1, updated_at: now })
      .onConflict((oc) => oc.columns(['host', 'username']).doUpdateSet({ avatar_sha1: sha1, updated_at: now }))
      .execute();
  }

  /** Returns the hex SHA-256 of the last legacy hash applied to the account, or null when none was. */
  async getLegacyHashDigest(host: string, username: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('account_profiles')
      .select('legacy_hash_sha256')
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirst();
    return row?.legacy_hash_sha256 ?? null;
  }

  /**
   * Records the hex SHA-256 of the legacy hash just applied to the account, creating an
   * empty profile when there is none. The login upgrade leaves it in place.
   */
  async setLegacyHashDigest(host: string, username: string, digest: string, now = Date.now()): Promise<void> {
    await this.db
      .insertInto('account_profiles')
      .values({ host, username, legacy_hash_sha256: digest, updated_at: now })
      .onConflict((oc) => oc.columns(['host', 'username']).doUpdateSet({ legacy_hash_sha256: digest }))
      .execute();
  }
}

function toProfile(row: Selectable<AccountProfilesTable>): AccountProfile {
  return {
    host: row.host,
    username: row.username,
    externalId: row.external_id,
    displayName: row.display_name,
    email: row.email,
    phone: row.phone,
    title: row.title,
    department: row.department,
    avatarSha1: row.avatar_sha1,
    updatedAt: Number(row.updated_at),
  };
}
