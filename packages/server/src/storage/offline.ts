import type { Kysely } from 'kysely';

import type { BatchWriter } from './batch-writer.js';
import type { Database } from './schema.js';

/** A stored offline message. */
export interface OfflineMessage {
  /** Strictly increasing across the database, so it orders delivery even within one millisecond. */
  seq: number;
  /** Serialised stanza XML. */
  stanza: string;
  /** Milliseconds since the Unix epoch. */
  storedAt: number;
}

/** Messages stored for accounts while they are offline. */
export class OfflineRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly batch: BatchWriter,
  ) {}

  /** Stores a stanza through the batch writer and returns its sequence number once committed. */
  async store(host: string, username: string, stanza: string, storedAt: number): Promise<number> {
    const row = await this.batch.write((trx) =>
      trx
        .insertInto('offline_messages')
        .values({ host, username, stanza, stored_at: storedAt, bytes: Buffer.byteLength(stanza, 'utf8') })
        .returning('seq')
        .executeTakeFirstOrThrow(),
    );
    return Number(row.seq);
  }

  /** Counts the stored messages of the account. */
  async count(host: string, username: string): Promise<number> {
    const row = await this.db
      .selectFrom('offline_messages')
      .select((eb) => eb.fn.countAll().as('count'))
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Sums the UTF-8 sizes of the account's stored stanzas, in bytes. */
  async totalBytes(host: string, username: string): Promise<number> {
    const row = await this.db
      .selectFrom('offline_messages')
      .select((eb) => eb.fn.sum<number | string | null>('bytes').as('total'))
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirstOrThrow();
    return Number(row.total ?? 0);
  }

  /** Lists the account's messages in storage order, at most `limit` if given. */
  async list(host: string, username: string, limit?: number): Promise<OfflineMessage[]> {
    let query = this.db
      .selectFrom('offline_messages')
      .select(['seq', 'stanza', 'stored_at'])
      .where('host', '=', host)
      .where('username', '=', username)
      .orderBy('seq');
    if (limit !== undefined) {
      query = query.limit(limit);
    }

    const rows = await query.execute();
    return rows.map((row) => ({ seq: Number(row.seq), stanza: row.stanza, storedAt: Number(row.stored_at) }));
  }

  /** Deletes the account's messages with seq <= `seq` (the delivered ones) and returns how many. */
  async deleteUpTo(host: string, username: string, seq: number): Promise<number> {
    const result = await this.db
      .deleteFrom('offline_messages')
      .where('host', '=', host)
      .where('username', '=', username)
      .where('seq', '<=', seq)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Deletes all messages of the account and returns how many. */
  async deleteAll(host: string, username: string): Promise<number> {
    const result = await this.db
      .deleteFrom('offline_messages')
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
