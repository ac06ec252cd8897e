import type { Kysely, Selectable } from 'kysely';

import type { ApiTokensTable, Database } from './schema.js';

/** A bearer token of the admin REST API, without its secret. */
export interface ApiToken {
  id: string;
  name: string;
  /** Hex SHA-256 of the token's secret part. */
  secretHash: string;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  lastUsedAt: number | null;
  /** Set once the token is revoked; a revoked token never authenticates again. */
  revokedAt: number | null;
}

/** Admin API tokens, stored by id with the hash of their secret. */
export class ApiTokenRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a new token. */
  async create(token: { id: string; name: string; secretHash: string; createdAt: number }): Promise<void> {
    await this.db
      .insertInto('api_tokens')
      .values({ id: token.id, name: token.name, secret_hash: token.secretHash, created_at: token.createdAt, last_used_at: null, revoked_at: null })
      .execute();
  }

  /** Returns the token, revoked or not, or null when there is none with `id`. */
  async get(id: string): Promise<ApiToken | null> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? null : toToken(row);
  }

  /** Lists every token, revoked ones included, oldest first. */
  async list(): Promise<ApiToken[]> {
    const rows = await this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').orderBy('id').execute();
    return rows.map(toToken);
  }

  /** Marks the token revoked at `at`; returns false when it does not exist or was revoked before. */
  async revoke(id: string, at = Date.now()): Promise<boolean> {
    const result = await this.db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Records that the token authenticated a request at `at`. */
  async touch(id: string, at: number): Promise<void> {
    await this.db.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }
}

function toToken(row: Selectable<ApiTokensTable>): ApiToken {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secret_hash,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
  };
}
