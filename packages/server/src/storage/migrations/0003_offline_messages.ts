import type { Kysely, Migration } from 'kysely';

import { addAutoIncrementKey } from '../db.js';
import type { DialectName } from '../db.js';

/** Creates `offline_messages` with an auto-increment `seq` that fixes delivery order. */
export function offlineMessagesMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const table = db.schema.createTable('offline_messages').ifNotExists();
      await addAutoIncrementKey(table, 'seq', dialect)
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('stanza', 'text', (col) => col.notNull())
        .addColumn('stored_at', 'bigint', (col) => col.notNull())
        .addColumn('bytes', 'integer', (col) => col.notNull())
        .addForeignKeyConstraint('offline_messages_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) =>
          fk.onDelete('cascade'),
        )
        .execute();

      await db.schema
        .createIndex('offline_messages_account_seq_idx')
        .ifNotExists()
        .on('offline_messages')
        .columns(['host', 'username', 'seq'])
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('offline_messages_account_seq_idx').ifExists().execute();
      await db.schema.dropTable('offline_messages').ifExists().execute();
    },
  };
}
