import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/**
 * Creates `fast_tokens` for XEP-0484 tokens: at most two rows per account and client (the
 * 'current' token and a 'new' one not used yet). A row holds no secret: the token is derived
 * from the row id and a key kept outside the database. Rows cascade from the account.
 */
export function fastTokensMigration(_dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('fast_tokens')
        .ifNotExists()
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('client', 'text', (col) => col.notNull())
        .addColumn('mechanism', 'text', (col) => col.notNull())
        .addColumn('slot', 'text', (col) => col.notNull())
        .addColumn('last_count', 'integer', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('expires_at', 'bigint', (col) => col.notNull())
        .addForeignKeyConstraint('fast_tokens_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) => fk.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('fast_tokens_client_idx').ifNotExists().on('fast_tokens').columns(['host', 'username', 'client']).execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('fast_tokens_client_idx').ifExists().execute();
      await db.schema.dropTable('fast_tokens').ifExists().execute();
    },
  };
}
