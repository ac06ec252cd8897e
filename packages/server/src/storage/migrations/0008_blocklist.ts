import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/** Creates `blocklist` for the JIDs each account blocks (XEP-0191). */
export function blocklistMigration(_dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('blocklist')
        .ifNotExists()
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('jid', 'text', (col) => col.notNull())
        .addColumn('blocked_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('blocklist_pk', ['host', 'username', 'jid'])
        .addForeignKeyConstraint('blocklist_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) => fk.onDelete('cascade'))
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('blocklist').ifExists().execute();
    },
  };
}
