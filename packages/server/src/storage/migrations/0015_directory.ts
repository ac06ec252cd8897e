import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/**
 * Creates the search index of the organisation directory: `directory_entries` holds what a
 * result shows, `directory_terms` the normalized search terms (text, pinyin, initials) by
 * field. Both cascade from `accounts`; the directory module rebuilds an account's rows
 * whenever its profile or its department's name changes.
 */
export function directoryMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('directory_entries')
        .ifNotExists()
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('display_name', 'text')
        .addColumn('email', 'text')
        .addColumn('title', 'text')
        .addColumn('department_id', 'text')
        .addColumn('department_name', 'text')
        .addColumn('updated_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('directory_entries_pk', ['host', 'username'])
        .addForeignKeyConstraint('directory_entries_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) => fk.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('directory_entries_department_idx').ifNotExists().on('directory_entries').columns(['host', 'department_id']).execute();

      // The primary key serves prefix searches: host and field by equality, term by range.
      // The range needs binary order, which PostgreSQL gives only with the C collation.
      const termType = dialect === 'postgres' ? sql`text collate "C"` : 'text';
      await db.schema
        .createTable('directory_terms')
        .ifNotExists()
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('field', 'text', (col) => col.notNull())
        .addColumn('term', termType, (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addPrimaryKeyConstraint('directory_terms_pk', ['host', 'field', 'term', 'username'])
        .addForeignKeyConstraint('directory_terms_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) => fk.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('directory_terms_account_idx').ifNotExists().on('directory_terms').columns(['host', 'username']).execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('directory_terms_account_idx').ifExists().execute();
      await db.schema.dropTable('directory_terms').ifExists().execute();
      await db.schema.dropIndex('directory_entries_department_idx').ifExists().execute();
      await db.schema.dropTable('directory_entries').ifExists().execute();
    },
  };
}
