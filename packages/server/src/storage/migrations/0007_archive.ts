import type { Kysely, Migration } from 'kysely';

import { addAutoIncrementKey } from '../db.js';
import type { DialectName } from '../db.js';

/** Per-owner indexes of `archive_messages`, by name. */
const MESSAGE_INDEXES: Record<string, string[]> = {
  archive_messages_owner_id_idx: ['host', 'username', 'id'],
  archive_messages_with_idx: ['host', 'username', 'with_bare', 'id'],
  archive_messages_created_idx: ['host', 'username', 'created_at'],
  archive_messages_origin_idx: ['host', 'username', 'origin_id'],
};

/**
 * Creates the message archive (XEP-0313): `archive_messages` ordered by an auto-increment
 * key, `archive_tokens` for full-text search (XEP-0431) and `archive_prefs` (XEP-0441).
 * Rows cascade from the account, and tokens from their message.
 */
export function archiveMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createMessages(db, dialect);
      await createTokens(db);
      await createPrefs(db);
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('archive_prefs').ifExists().execute();
      await db.schema.dropIndex('archive_tokens_message_idx').ifExists().execute();
      await db.schema.dropTable('archive_tokens').ifExists().execute();
      for (const name of ['archive_messages_stanza_id_idx', ...Object.keys(MESSAGE_INDEXES)]) {
        await db.schema.dropIndex(name).ifExists().execute();
      }
      await db.schema.dropTable('archive_messages').ifExists().execute();
    },
  };
}

async function createMessages(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const table = db.schema.createTable('archive_messages').ifNotExists();
  await addAutoIncrementKey(table, 'id', dialect)
    .addColumn('host', 'text', (col) => col.notNull())
    .addColumn('username', 'text', (col) => col.notNull())
    .addColumn('stanza_id', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('with_bare', 'text', (col) => col.notNull())
    .addColumn('with_resource', 'text', (col) => col.notNull())
    .addColumn('sender', 'text', (col) => col.notNull())
    .addColumn('message_id', 'text')
    .addColumn('origin_id', 'text')
    .addColumn('stanza', 'text', (col) => col.notNull())
    .addColumn('edited_at', 'bigint')
    .addColumn('retracted_at', 'bigint')
    .addForeignKeyConstraint('archive_messages_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createIndex('archive_messages_stanza_id_idx')
    .ifNotExists()
    .unique()
    .on('archive_messages')
    .columns(['host', 'username', 'stanza_id'])
    .execute();
  for (const [name, columns] of Object.entries(MESSAGE_INDEXES)) {
    await db.schema.createIndex(name).ifNotExists().on('archive_messages').columns(columns).execute();
  }
}

export async function createTokens(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('archive_tokens')
    .ifNotExists()
    .addColumn('host', 'text', (col) => col.notNull())
    .addColumn('username', 'text', (col) => col.notNull())
    .addColumn('token', 'text', (col) => col.notNull())
    .addColumn('message_id', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('archive_tokens_pk', ['host', 'username', 'token', 'message_id'])
    .addForeignKeyConstraint('archive_tokens_message_fk', ['message_id'], 'archive_messages', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();

  // The cascade from archive_messages looks tokens up by message.
  await db.schema.createIndex('archive_tokens_message_idx').ifNotExists().on('archive_tokens').column('message_id').execute();
}

async function createPrefs(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('archive_prefs')
    .ifNotExists()
    .addColumn('host', 'text', (col) => col.notNull())
    .addColumn('username', 'text', (col) => col.notNull())
    .addColumn('default_mode', 'text', (col) => col.notNull())
    .addColumn('always_jids', 'text', (col) => col.notNull())
    .addColumn('never_jids', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('archive_prefs_pk', ['host', 'username'])
    .addForeignKeyConstraint('archive_prefs_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) => fk.onDelete('cascade'))
    .execute();
}
