/** Rows of `fast_tokens` (XEP-0484): which token slots each account and client holds. */
import type { Kysely } from 'kysely';

import type { Database } from '../storage/schema.js';

/** A token slot (XEP-0484 section 6.1). 'new' contains a token issued and not used yet, 'current' the token the client last used. */
export type FastSlot = 'new' | 'current';

export type FastTokenRow = {
  id: string;
  host: string;
  username: string;
  /** Hex SHA-256 of the SASL2 user-agent id. */
  client: string;
  mechanism: string;
  slot: FastSlot;
  /** The highest replay counter accepted for this token, 0 before any. */
  last_count: number;
  created_at: number;
  expires_at: number;
};

type FastTables = {
  fast_tokens: FastTokenRow;
};

/** The account and client a token belongs to. */
export interface FastOwner {
  host: string;
  username: string;
  client: string;
}

/** Queries on `fast_tokens`; the table is typed here so that the shared schema stays unchanged. */
export class FastTokenStore {
  private readonly db: Kysely<Database & FastTables>;

  constructor(db: Kysely<Database>) {
    this.db = db.withTables<FastTables>();
  }

  /** Lists the client's tokens, 'new' before 'current'. */
  async list(owner: FastOwner): Promise<FastTokenRow[]> {
    const rows = await this.db
      .selectFrom('fast_tokens')
      .selectAll()
      .where('host', '=', owner.host)
      .where('username', '=', owner.username)
      .where('client', '=', owner.client)
      .execute();
    const order: Record<FastSlot, number> = { new: 0, current: 1 };
    return rows.sort((a, b) => order[a.slot] - order[b.slot]);
  }

  /** Stores `row` in the 'new' slot, replacing a 'new' token that was never used. */
  async putNew(row: FastTokenRow): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('fast_tokens')
        .where('host', '=', row.host)
        .where('username', '=', row.username)
        .where('client', '=', row.client)
        .where('slot', '=', 'new')
        .execute();
      await trx.insertInto('fast_tokens').values(row).execute();
    });
  }

  /** Moves a 'new' token to 'current', dropping the token it replaces. */
  async promote(row: FastTokenRow): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('fast_tokens')
        .where('host', '=', row.host)
        .where('username', '=', row.username)
        .where('client', '=', row.client)
        .where('slot', '=', 'current')
        .execute();
      await trx.updateTable('fast_tokens').set({ slot: 'current' }).where('id', '=', row.id).execute();
    });
  }

  /** Records the replay counter of a login with the token. */
  async setCount(id: string, count: number): Promise<void> {
    await this.db.updateTable('fast_tokens').set({ last_count: count }).where('id', '=', id).execute();
  }

  async delete(id: string): Promise<void> {
    await this.db.deleteFrom('fast_tokens').where('id', '=', id).execute();
  }

  /** Deletes every token of the account, for example after a password change. */
  async deleteAccount(host: string, username: string): Promise<void> {
    await this.db.deleteFrom('fast_tokens').where('host', '=', host).where('username', '=', username).execute();
  }

  /** Deletes expired tokens of the account and, beyond `maxClients` clients, those of the clients with the oldest tokens. */
  async prune(host: string, username: string, maxClients: number, now: number): Promise<void> {
    await this.db.deleteFrom('fast_tokens').where('host', '=', host).where('username', '=', username).where('expires_at', '<=', now).execute();
    const clients = await this.db
      .selectFrom('fast_tokens')
      .select('client')
      .select((eb) => eb.fn.max('created_at').as('latest'))
      .where('host', '=', host)
      .where('username', '=', username)
      .groupBy('client')
      .orderBy('latest', 'desc')
      .execute();
    const surplus = clients.slice(maxClients).map((row) => row.client);
    if (surplus.length === 0) return;
    await this.db.deleteFrom('fast_tokens').where('host', '=', host).where('username', '=', username).where('client', 'in', surplus).execute();
  }
}
