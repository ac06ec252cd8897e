import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/**
 * Creates the personal eventing (XEP-0163) tables: `pep_nodes` with each node's
 * configuration, and `pep_items` with the items published to them. Nodes cascade from
 * the account, and items from their node.
 */
export function pepMigration(_dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('pep_nodes')
        .ifNotExists()
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('node', 'text', (col) => col.notNull())
        .addColumn('config', 'text', (col) => col.notNull())
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('pep_nodes_pk', ['host', 'username', 'node'])
        .addForeignKeyConstraint('pep_nodes_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) => fk.onDelete('cascade'))
        .execute();

      await db.schema
        .createTable('pep_items')
        .ifNotExists()
        .addColumn('host', 'text', (col) => col.notNull())
        .addColumn('username', 'text', (col) => col.notNull())
        .addColumn('node', 'text', (col) => col.notNull())
        .addColumn('item_id', 'text', (col) => col.notNull())
        .addColumn('seq', 'bigint', (col) => col.notNull())
        .addColumn('payload', 'text', (col) => col.notNull())
        .addColumn('publisher', 'text', (col) => col.notNull())
        .addColumn('published_at', 'bigint', (col) => col.notNull())
        .addPrimaryKeyConstraint('pep_items_pk', ['host', 'username', 'node', 'item_id'])
        .addForeignKeyConstraint('pep_items_node_fk', ['host', 'username', 'node'], 'pep_nodes', ['host', 'username', 'node'], (fk) =>
          fk.onDelete('cascade'),
        )
        .execute();

      await db.schema.createIndex('pep_items_seq_idx').ifNotExists().on('pep_items').columns(['host', 'username', 'node', 'seq']).execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('pep_items_seq_idx').ifExists().execute();
      await db.schema.dropTable('pep_items').ifExists().execute();
      await db.schema.dropTable('pep_nodes').ifExists().execute();
    },
  };
}
