import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/** Creates `invites`, keyed by the SHA-256 hash of the invite token. */
export function invitesMigration(_dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      // No foreign key on created_by: an invite outlives the account that created it.
      await db.schema
        .createTable('invites')
        .ifNotExists()
        .addColumn('token_hash', 'text', (col) => col.primaryKey())
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('max_uses', 'integer', (col) => col.notNull())
        .addColumn('uses', 'integer', (col) => col.notNull().defaultTo(0))
        .addColumn('created_by', 'text')
        .addColumn('note', 'text')
        .execute();

      await db.schema.createIndex('invites_host_idx').ifNotExists().on('invites').column('host').execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('invites_host_idx').ifExists().execute();
      await db.schema.dropTable('invites').ifExists().execute();
    },
  };
}
