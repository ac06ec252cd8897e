import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/**
 * Creates the inbox (the conversation list of each account): `inbox_entries` with one row
 * per (account, conversation), and `inbox_unread` with one row per message that counts as
 * unread. Entries cascade from the account and, for group entries, from the room in
 * `muc_rooms`, so deleting either removes them. Unread rows cascade from their entry.
 */
export function inboxMigration(_dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createEntries(db);
      await createUnread(db);
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('inbox_unread').ifExists().execute();
      await db.schema.dropIndex('inbox_entries_room_idx').ifExists().execute();
      await db.schema.dropIndex('inbox_entries_activity_idx').ifExists().execute();
      await db.schema.dropTable('inbox_entries').ifExists().execute();
    },
  };
}

async function createEntries(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('inbox_entries')
    .ifNotExists()
    .addColumn('host', 'text', (col) => col.notNull())
    .addColumn('username', 'text', (col) => col.notNull())
    .addColumn('conversation', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('room_service', 'text')
    .addColumn('room_name', 'text')
    .addColumn('last_stanza_id', 'text')
    .addColumn('last_at', 'bigint', (col) => col.notNull())
    .addColumn('last_sender', 'text')
    .addColumn('last_message_id', 'text')
    .addColumn('last_origin_id', 'text')
    .addColumn('last_message', 'text')
    .addColumn('read_id', 'text')
    .addColumn('pinned', 'integer', (col) => col.notNull())
    .addColumn('archived', 'integer', (col) => col.notNull())
    .addColumn('muted_until', 'bigint')
    .addPrimaryKeyConstraint('inbox_entries_pk', ['host', 'username', 'conversation'])
    .addForeignKeyConstraint('inbox_entries_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('inbox_entries_room_fk', ['room_service', 'room_name'], 'muc_rooms', ['service', 'name'], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createIndex('inbox_entries_activity_idx')
    .ifNotExists()
    .on('inbox_entries')
    .columns(['host', 'username', 'last_at', 'conversation'])
    .execute();
  // The cascade from muc_rooms looks entries up by room.
  await db.schema.createIndex('inbox_entries_room_idx').ifNotExists().on('inbox_entries').columns(['room_service', 'room_name']).execute();
}

async function createUnread(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('inbox_unread')
    .ifNotExists()
    .addColumn('host', 'text', (col) => col.notNull())
    .addColumn('username', 'text', (col) => col.notNull())
    .addColumn('conversation', 'text', (col) => col.notNull())
    .addColumn('stanza_id', 'text', (col) => col.notNull())
    .addColumn('sender', 'text', (col) => col.notNull())
    .addColumn('message_id', 'text')
    .addColumn('origin_id', 'text')
    .addPrimaryKeyConstraint('inbox_unread_pk', ['host', 'username', 'conversation', 'stanza_id'])
    .addForeignKeyConstraint('inbox_unread_entry_fk', ['host', 'username', 'conversation'], 'inbox_entries', ['host', 'username', 'conversation'], (fk) =>
      fk.onDelete('cascade'),
    )
    .execute();
}
