import type { Kysely, Selectable } from 'kysely';

import type { Database, InvitesTable } from './schema.js';

/** Fields of a new invite. The caller hashes the token (SHA-256 hex). */
export interface NewInvite {
  host: string;
  tokenHash: string;
  /** Milliseconds since the Unix epoch, or null for an invite that never expires. */
  expiresAt: number | null;
  maxUses: number;
  createdBy: string | null;
  note: string | null;
  /** Milliseconds since the Unix epoch. Defaults to now. */
  createdAt?: number;
}

/** A stored invite. */
export interface Invite {
  tokenHash: string;
  host: string;
  createdAt: number;
  expiresAt: number | null;
  maxUses: number;
  uses: number;
  createdBy: string | null;
  note: string | null;
}

/** Registration invites, stored by token hash. Callers hash tokens before every call. */
export class InviteRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Stores a new invite with zero uses. */
  async create(invite: NewInvite): Promise<void> {
    if (!Number.isInteger(invite.maxUses) || invite.maxUses < 1) {
      throw new RangeError(`Invalid invite maxUses ${invite.maxUses}: expected an integer >= 1`);
    }

    await this.db
      .insertInto('invites')
      .values({
        token_hash: invite.tokenHash,
        host: invite.host,
        created_at: invite.createdAt ?? Date.now(),
        expires_at: invite.expiresAt,
        max_uses: invite.maxUses,
        created_by: invite.createdBy,
        note: invite.note,
      })
      .execute();
  }

  /**
   * Uses the invite once if it exists for `host`, has not expired at `now` and
   * has uses left. Returns whether it did. A single guarded UPDATE makes
   * this atomic, so concurrent callers never exceed maxUses.
   */
  async consume(host: string, tokenHash: string, now: number): Promise<boolean> {
    const result = await this.db
      .updateTable('invites')
      .set((eb) => ({ uses: eb('uses', '+', 1) }))
      .where('token_hash', '=', tokenHash)
      .where('host', '=', host)
      .where((eb) => eb('uses', '<', eb.ref('max_uses')))
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Lists the invites of `host`, oldest first, including expired and used-up ones. */
  async list(host: string): Promise<Invite[]> {
    const rows = await this.db
      .selectFrom('invites')
      .selectAll()
      .where('host', '=', host)
      .orderBy('created_at')
      .orderBy('token_hash')
      .execute();
    return rows.map(toInvite);
  }

  /** Deletes the invite and returns false if it did not exist. */
  async revoke(tokenHash: string): Promise<boolean> {
    const result = await this.db.deleteFrom('invites').where('token_hash', '=', tokenHash).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}

function toInvite(row: Selectable<InvitesTable>): Invite {
  return {
    tokenHash: row.token_hash,
    host: row.host,
    createdAt: Number(row.created_at),
    expiresAt: row.expires_at === null ? null : Number(row.expires_at),
    maxUses: row.max_uses,
    uses: row.uses,
    createdBy: row.created_by,
    note: row.note,
  };
}
