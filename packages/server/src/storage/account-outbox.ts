import type { Kysely } from 'kysely';

import type { Database } from './schema.js';

/** An account event waiting in the outbox: its server event name and the event object. */
export interface OutboxEntry {
  id: number;
  event: string;
  payload: unknown;
  createdAt: number;
}

/** Account events recorded without a running server, oldest first, until the server replays them. */
export class AccountOutboxRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Appends one event; `payload` must be plain JSON data. */
  async append(event: string, payload: unknown, now = Date.now()): Promise<void> {
    await this.db.insertInto('account_outbox').values({ event, payload: JSON.stringify(payload), created_at: now }).execute();
  }

  /** Returns up to `limit` events with ids above `after`, in the order they were appended. */
  async next(limit: number, after = 0): Promise<OutboxEntry[]> {
    const rows = await this.db.selectFrom('account_outbox').selectAll().where('id', '>', after).orderBy('id').limit(limit).execute();
    return rows.map((row) => ({ id: Number(row.id), event: row.event, payload: JSON.parse(row.payload) as unknown, createdAt: Number(row.created_at) }));
  }

  async delete(id: number): Promise<void> {
    await this.db.deleteFrom('account_outbox').where('id', '=', id).execute();
  }

  async count(): Promise<number> {
    const row = await this.db.selectFrom('account_outbox').select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow();
    return Number(row.count);
  }
}
