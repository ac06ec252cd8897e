import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/** Creates `vcards`, one vcard-temp document per account. */
export function vcardsMigration(_dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('vcards')
        .ifNotExists()
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('xml', 'text', (col) => col.notNull())
        .addColumn('updated_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('vcards_pk', ['host', 'username'])
        .addForeignKeyConstraint('vcards_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) =>
          fk.onDelete('cascade'),
        )
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('vcards').ifExists().execute();
    },
  };
}
