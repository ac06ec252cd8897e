import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/** Creates `private_storage` for XEP-0049 fragments. */
export function privateStorageMigration(_dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('private_storage')
        .ifNotExists()
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('key', 'text', (col) => col.notNull())
        .addColumn('xml', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('private_storage_pk', ['host', 'username', 'key'])
        .addForeignKeyConstraint('private_storage_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) =>
          fk.onDelete('cascade'),
        )
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('private_storage').ifExists().execute();
    },
  };
}
