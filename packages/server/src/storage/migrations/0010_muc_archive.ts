import type { Kysely, Migration } from 'kysely';

import { addAutoIncrementKey } from '../db.js';
import type { DialectName } from '../db.js';

/** Per-room indexes of `muc_archive_messages`, by name. */
const MESSAGE_INDEXES: Record<string, string[]> = {
  muc_archive_messages_room_id_idx: ['service', 'room', 'id'],
  muc_archive_messages_nick_idx: ['service', 'room', 'nick', 'id'],
  muc_archive_messages_sender_idx: ['service', 'room', 'sender', 'id'],
  muc_archive_messages_created_idx: ['service', 'room', 'created_at'],
  muc_archive_messages_origin_idx: ['service', 'room', 'origin_id'],
};

/**
 * Creates the room archives (XEP-0313 for XEP-0045 rooms): `muc_archive_messages` ordered
 * by an auto-increment key, and `muc_archive_tokens` for full-text search (XEP-0431).
 * Messages cascade from their room in `muc_rooms`, so destroying a room removes its
 * archive, and tokens cascade from their message.
 */
export function mucArchiveMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createMessages(db, dialect);
      await createTokens(db);
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('muc_archive_tokens_message_idx').ifExists().execute();
      await db.schema.dropTable('muc_archive_tokens').ifExists().execute();
      for (const name of ['muc_archive_messages_stanza_id_idx', ...Object.keys(MESSAGE_INDEXES)]) {
        await db.schema.dropIndex(name).ifExists().execute();
      }
      await db.schema.dropTable('muc_archive_messages').ifExists().execute();
    },
  };
}

async function createMessages(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const table = db.schema.createTable('muc_archive_messages').ifNotExists();
  await addAutoIncrementKey(table, 'id', dialect)
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('room', 'text', (col) => col.notNull())
    .addColumn('stanza_id', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('nick', 'text', (col) => col.notNull())
    .addColumn('sender', 'text', (col) => col.notNull())
    .addColumn('message_id', 'text')
    .addColumn('origin_id', 'text')
    .addColumn('stanza', 'text', (col) => col.notNull())
    .addColumn('edited_at', 'bigint')
    .addColumn('retracted_at', 'bigint')
    .addForeignKeyConstraint('muc_archive_messages_room_fk', ['service', 'room'], 'muc_rooms', ['service', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createIndex('muc_archive_messages_stanza_id_idx')
    .ifNotExists()
    .unique()
    .on('muc_archive_messages')
    .columns(['service', 'room', 'stanza_id'])
    .execute();
  for (const [name, columns] of Object.entries(MESSAGE_INDEXES)) {
    await db.schema.createIndex(name).ifNotExists().on('muc_archive_messages').columns(columns).execute();
  }
}

export async function createTokens(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('muc_archive_tokens')
    .ifNotExists()
    .addColumn('service', 'text', (col) => col.notNull())
    .addColumn('room', 'text', (col) => col.notNull())
    .addColumn('token', 'text', (col) => col.notNull())
    .addColumn('message_id', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('muc_archive_tokens_pk', ['service', 'room', 'token', 'message_id'])
    .addForeignKeyConstraint('muc_archive_tokens_message_fk', ['message_id'], 'muc_archive_messages', ['id'], (fk) => fk.onDelete('cascade'))
    .execute();

  // The cascade from muc_archive_messages looks tokens up by message.
  await db.schema.createIndex('muc_archive_tokens_message_idx').ifNotExists().on('muc_archive_tokens').column('message_id').execute();
}
