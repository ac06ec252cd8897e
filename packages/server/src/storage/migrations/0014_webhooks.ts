import type { Kysely, Migration } from 'kysely';

import { addAutoIncrementKey } from '../db.js';
import type { DialectName } from '../db.js';

/**
 * Creates `webhook_endpoints` (receivers of account events) and `webhook_deliveries`, the
 * durable queue of events to send, one row per event and endpoint. Deliveries cascade from
 * their endpoint.
 */
export function webhooksMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createEndpoints(db);
      await createDeliveries(db, dialect);
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('webhook_deliveries_endpoint_idx').ifExists().execute();
      await db.schema.dropIndex('webhook_deliveries_due_idx').ifExists().execute();
      await db.schema.dropTable('webhook_deliveries').ifExists().execute();
      await db.schema.dropTable('webhook_endpoints').ifExists().execute();
    },
  };
}

async function createEndpoints(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhook_endpoints')
    .ifNotExists()
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('url', 'text', (col) => col.notNull())
    .addColumn('secret', 'text', (col) => col.notNull())
    .addColumn('events', 'text', (col) => col.notNull())
    .addColumn('description', 'text')
    .addColumn('enabled', 'integer', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();
}

async function createDeliveries(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const table = db.schema.createTable('webhook_deliveries').ifNotExists();
  await addAutoIncrementKey(table, 'id', dialect)
    .addColumn('endpoint_id', 'text', (col) => col.notNull().references('webhook_endpoints.id').onDelete('cascade'))
    .addColumn('event_id', 'text', (col) => col.notNull())
    .addColumn('event_type', 'text', (col) => col.notNull())
    .addColumn('payload', 'text', (col) => col.notNull())
    .addColumn('status', 'text', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) => col.notNull())
    .addColumn('next_attempt_at', 'bigint', (col) => col.notNull())
    .addColumn('last_attempt_at', 'bigint')
    .addColumn('last_status', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .execute();

  // The dispatcher looks for due pending deliveries; the API lists them per endpoint.
  await db.schema.createIndex('webhook_deliveries_due_idx').ifNotExists().on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('webhook_deliveries_endpoint_idx').ifNotExists().on('webhook_deliveries').columns(['endpoint_id', 'id']).execute();
}
