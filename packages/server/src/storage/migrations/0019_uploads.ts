import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/**
 * Creates `uploads` for HTTP file upload (XEP-0363): one row per slot, which becomes the
 * row of its file once the upload is stored. Rows have no foreign key to `accounts`: the
 * upload module deletes an account's files before their rows, so that no file outlives
 * the row that names it.
 */
export function uploadsMigration(_dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('uploads')
        .ifNotExists()
        .addColumn('id', 'text', (col) => col.primaryKey())
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('filename', 'text', (col) => col.notNull())
        .addColumn('size', 'bigint', (col) => col.notNull())
        .addColumn('content_type', 'text', (col) => col.notNull())
        .addColumn('state', 'text', (col) => col.notNull())
        .addColumn('secret_hash', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addColumn('slot_expires_at', 'bigint', (col) => col.notNull())
        .addColumn('stored_at', 'bigint')
        .execute();
      await db.schema.createIndex('uploads_owner').ifNotExists().on('uploads').columns(['host', 'username', 'state']).execute();
      await db.schema.createIndex('uploads_stored_at').ifNotExists().on('uploads').columns(['state', 'stored_at']).execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('uploads').ifExists().execute();
    },
  };
}
