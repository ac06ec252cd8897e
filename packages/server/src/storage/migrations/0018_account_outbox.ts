import type { Kysely, Migration } from 'kysely';

import { addAutoIncrementKey } from '../db.js';
import type { DialectName } from '../db.js';

/**
 * Creates `account_outbox`: account events that parleyctl recorded while no server ran,
 * in the order they happened. The server replays them through its hooks when it starts
 * and deletes each row it replayed.
 */
export function accountOutboxMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      const table = db.schema.createTable('account_outbox').ifNotExists();
      await addAutoIncrementKey(table, 'id', dialect)
        .addColumn('event', 'text', (col) => col.notNull())
        .addColumn('payload', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('account_outbox').ifExists().execute();
    },
  };
}
