import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/**
 * Creates the multi-user chat tables (XEP-0045): `muc_rooms`, one row per live room
 * (temporary rooms too) with its configuration and subject, and `muc_affiliations`, the
 * affiliations of each room with an optional reserved nick and reason. Affiliations
 * cascade from their room.
 */
export function mucMigration(_dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('muc_rooms')
        .ifNotExists()
        .addColumn('service', 'text', (col) => col.notNull())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('persistent', 'integer', (col) => col.notNull())
        .addColumn('public', 'integer', (col) => col.notNull())
        .addColumn('config', 'text', (col) => col.notNull())
        .addColumn('subject', 'text')
        .addColumn('subject_nick', 'text')
        .addColumn('subject_at', 'bigint')
        .addColumn('created_by', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('muc_rooms_pk', ['service', 'name'])
        .execute();
      await db.schema.createIndex('muc_rooms_creator_idx').ifNotExists().on('muc_rooms').columns(['created_by']).execute();

      await db.schema
        .createTable('muc_affiliations')
        .ifNotExists()
        .addColumn('service', 'text', (col) => col.notNull())
        .addColumn('name', 'text', (col) => col.notNull())
        .addColumn('jid', 'text', (col) => col.notNull())
        .addColumn('affiliation', 'text', (col) => col.notNull())
        .addColumn('nick', 'text')
        .addColumn('reason', 'text')
        .addPrimaryKeyConstraint('muc_affiliations_pk', ['service', 'name', 'jid'])
        .addForeignKeyConstraint('muc_affiliations_room_fk', ['service', 'name'], 'muc_rooms', ['service', 'name'], (fk) => fk.onDelete('cascade'))
        .execute();
      await db.schema.createIndex('muc_affiliations_jid_idx').ifNotExists().on('muc_affiliations').columns(['jid']).execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('muc_affiliations_jid_idx').ifExists().execute();
      await db.schema.dropTable('muc_affiliations').ifExists().execute();
      await db.schema.dropIndex('muc_rooms_creator_idx').ifExists().execute();
      await db.schema.dropTable('muc_rooms').ifExists().execute();
    },
  };
}
