import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/**
 * Creates `push_registrations` for XEP-0357: one row per account, app server JID and node,
 * with the publish options the client gave (a serialized data form, or null). Rows cascade
 * from the account.
 */
export function pushMigration(_dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('push_registrations')
        .ifNotExists()
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('service', 'text', (col) => col.notNull())
        .addColumn('node', 'text', (col) => col.notNull())
        .addColumn('publish_options', 'text')
        .addColumn('enabled_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('push_registrations_pk', ['host', 'username', 'service', 'node'])
        .addForeignKeyConstraint('push_registrations_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) => fk.onDelete('cascade'))
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('push_registrations').ifExists().execute();
    },
  };
}
