import type { Kysely } from 'kysely';

import type { Database } from './schema.js';

/** Builds the storage key of an XEP-0049 fragment: its namespace and element name. */
export function privateStorageKey(namespace: string, elementName: string): string {
  return `${namespace} ${elementName}`;
}

/** XEP-0049 private XML storage: one fragment per account, namespace and element name. */
export class PrivateStorageRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Returns the stored fragment XML, or null if none is stored under `key`. */
  async get(host: string, username: string, key: string): Promise<string | null> {
    const row = await this.db
      .selectFrom('private_storage')
      .select('xml')
      .where('host', '=', host)
      .where('username', '=', username)
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.xml ?? null;
  }

  /** Stores or replaces the fragment under `key`. */
  async set(host: string, username: string, key: string, xml: string): Promise<void> {
    await this.db
      .insertInto('private_storage')
      .values({ host, username, key, xml })
      .onConflict((oc) => oc.columns(['host', 'username', 'key']).doUpdateSet({ xml }))
      .execute();
  }

  /** Deletes the fragment under `key` and returns false if none was stored. */
  async delete(host: string, username: string, key: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('private_storage')
      .where('host', '=', host)
      .where('username', '=', username)
      .where('key', '=', key)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }
}
