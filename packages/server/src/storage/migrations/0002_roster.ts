import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/** Creates `roster_items`, `roster_tombstones` and `roster_versions`. */
export function rosterMigration(_dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('roster_items')
        .ifNotExists()
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('contact', 'text', (col) => col.notNull())
        .addColumn('name', 'text')
        .addColumn('subscription', 'text', (col) => col.notNull().defaultTo('none'))
        .addColumn('ask', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('pending_in', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('pending_in_stanza', 'text')
        .addColumn('approved', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('hidden', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('groups', 'text', (col) => col.notNull().defaultTo('[]'))
        .addColumn('version', 'integer', (col) => col.notNull())
        .addPrimaryKeyConstraint('roster_items_pk', ['host', 'username', 'contact'])
        .addForeignKeyConstraint('roster_items_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) =>
          fk.onDelete('cascade'),
        )
        .execute();

      await db.schema
        .createIndex('roster_items_version_idx')
        .ifNotExists()
        .on('roster_items')
        .columns(['host', 'username', 'version'])
        .execute();

      await db.schema
        .createTable('roster_tombstones')
        .ifNotExists()
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('contact', 'text', (col) => col.notNull())
        .addColumn('version', 'integer', (col) => col.notNull())
        .addPrimaryKeyConstraint('roster_tombstones_pk', ['host', 'username', 'contact'])
        .addForeignKeyConstraint('roster_tombstones_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) =>
          fk.onDelete('cascade'),
        )
        .execute();

      await db.schema
        .createTable('roster_versions')
        .ifNotExists()
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('version', 'integer', (col) => col.notNull())
        .addColumn('pruned_version', 'integer', (col) => col.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('roster_versions_pk', ['host', 'username'])
        .addForeignKeyConstraint('roster_versions_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) =>
          fk.onDelete('cascade'),
        )
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('roster_versions').ifExists().execute();
      await db.schema.dropTable('roster_tombstones').ifExists().execute();
      await db.schema.dropIndex('roster_items_version_idx').ifExists().execute();
      await db.schema.dropTable('roster_items').ifExists().execute();
    },
  };
}
