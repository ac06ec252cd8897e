import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/** Creates `accounts` and their SCRAM `credentials`. */
export function accountsMigration(_dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('accounts')
        .ifNotExists()
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('disabled', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('legacy_hash', 'text')
        .addPrimaryKeyConstraint('accounts_pk', ['host', 'username'])
        .execute();

      await db.schema
        .createTable('credentials')
        .ifNotExists()
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('hash', 'text', (col) => col.notNull())
        .addColumn('salt', 'text', (col) => col.notNull())
        .addColumn('iterations', 'integer', (col) => col.notNull())
        .addColumn('stored_key', 'text', (col) => col.notNull())
        .addColumn('server_key', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('credentials_pk', ['host', 'username', 'hash'])
        .addForeignKeyConstraint('credentials_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) =>
          fk.onDelete('cascade'),
        )
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('credentials').ifExists().execute();
      await db.schema.dropTable('accounts').ifExists().execute();
    },
  };
}
