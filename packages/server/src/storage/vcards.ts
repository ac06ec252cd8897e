import type { Kysely } from 'kysely';

import type { Database } from './schema.js';

/** A stored vcard-temp document (XEP-0054). */
export interface StoredVcard {
  /** Serialised `<vCard xmlns='vcard-temp'/>` element. */
  xml: string;
  /** Milliseconds since the Unix epoch. */
  updatedAt: number;
}

/** One vcard-temp document per account. */
export class VcardRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Returns the account's vCard, or null if none is stored. */
  async get(host: string, username: string): Promise<StoredVcard | null> {
    const row = await this.db
      .selectFrom('vcards')
      .select(['xml', 'updated_at'])
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirst();
    return row === undefined ? null : { xml: row.xml, updatedAt: Number(row.updated_at) };
  }

  /** Stores or replaces the account's vCard. */
  async set(host: string, username: string, xml: string, updatedAt = Date.now()): Promise<void> {
    await this.db
      .insertInto('vcards')
      .values({ host, username, xml, updated_at: updatedAt })
      .onConflict((oc) => oc.columns(['host', 'username']).doUpdateSet({ xml, updated_at: updatedAt }))
      .execute();
  }

  /** Deletes the account's vCard and returns false if none was stored. */
  async delete(host: string, username: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('vcards')
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
