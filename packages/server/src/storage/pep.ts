import { type Kysely, sql, type Transaction } from 'kysely';

import { accountLock } from './advisory-locks.js';
import type { BatchWriter } from './batch-writer.js';
import type { Database } from './schema.js';

/** A PEP node of one account, with its configuration as stored JSON. */
export interface StoredPepNode {
  node: string;
  config: string;
}

/** An item of a PEP node. */
export interface StoredPepItem {
  id: string;
  /** Serialized payload XML, '' when the item has none. */
  payload: string;
  /** Full JID of the resource that published it. */
  publisher: string;
  /** Milliseconds since the Unix epoch. */
  publishedAt: number;
}

/** Storage options of a publish: the node's configuration and item limit. */
export interface PepPublishOptions {
  /** Configuration JSON for the node when it does not exist yet. */
  createConfig: string;
  /** Items the node keeps; older ones are dropped after the insert. */
  maxItems: number;
  /** When false, nothing is stored: the item is only sent as a notification. */
  persist: boolean;
  /**
   * Whether the caller has just read the node; the publish then skips creating it.
   * NOTE: a node deleted after that read makes the publish fail instead of recreating it.
   */
  nodeExists?: boolean;
}

type ItemRow = { item_id: string; payload: string; publisher: string; published_at: number | string };

function toItem(row: ItemRow): StoredPepItem {
  return { id: row.item_id, payload: row.payload, publisher: row.publisher, publishedAt: Number(row.published_at) };
}

/** Personal eventing (XEP-0163) nodes and items, keyed by account and node name. */
export class PepRepository {
  /** Publishes go through `batch`, so that they share the commit of the messages that cause most of them. */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly batch: BatchWriter,
  ) {}

  /** Returns the node, or null if the account has no node of that name. */
  async getNode(host: string, username: string, node: string): Promise<StoredPepNode | null> {
    const row = await this.db
      .selectFrom('pep_nodes')
      .select(['node', 'config'])
      .where('host', '=', host)
      .where('username', '=', username)
      .where('node', '=', node)
      .executeTakeFirst();
    return row ?? null;
  }

  /** Returns every node of the account, in name order. */
  async listNodes(host: string, username: string): Promise<StoredPepNode[]> {
    return this.db.selectFrom('pep_nodes').select(['node', 'config']).where('host', '=', host).where('username', '=', username).orderBy('node').execute();
  }

  /** Returns the number of nodes the account has. */
  async countNodes(host: string, username: string): Promise<number> {
    const row = await this.db
      .selectFrom('pep_nodes')
      .select((eb) => eb.fn.countAll<number | string>().as('count'))
      .where('host', '=', host)
      .where('username', '=', username)
      .executeTakeFirstOrThrow();
    return Number(row.count);
  }

  /** Creates the node and returns false if it existed already. */
  async createNode(host: string, username: string, node: string, config: string, now = Date.now()): Promise<boolean> {
    const result = await this.db
      .insertInto('pep_nodes')
      .values({ host, username, node, config, created_at: now })
      .onConflict((oc) => oc.columns(['host', 'username', 'node']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Replaces the configuration of an existing node and trims its items to `maxItems`. */
  async configureNode(host: string, username: string, node: string, config: string, maxItems: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.updateTable('pep_nodes').set({ config }).where('host', '=', host).where('username', '=', username).where('node', '=', node).execute();
      await trimItems(trx, host, username, node, maxItems);
    });
  }

  /** Deletes the node with its items and returns false if it did not exist. */
  async deleteNode(host: string, username: string, node: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('pep_items').where('host', '=', host).where('username', '=', username).where('node', '=', node).execute();
      const result = await trx.deleteFrom('pep_nodes').where('host', '=', host).where('username', '=', username).where('node', '=', node).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  /** Deletes every item of the node. */
  async purge(host: string, username: string, node: string): Promise<void> {
    await this.db.deleteFrom('pep_items').where('host', '=', host).where('username', '=', username).where('node', '=', node).execute();
  }

  /**
   * Stores `item` as the newest item of the node, creating the node first when it does not
   * exist, as one batch write. An item with the same id is replaced and becomes the newest.
   * Returns true when the node was created.
   */
  async publish(host: string, username: string, node: string, item: StoredPepItem, options: PepPublishOptions): Promise<boolean> {
    return this.batch.write(async (trx) => {
      const created = options.nodeExists ? false : await createNode(trx, host, username, node, options.createConfig, item.publishedAt);
      if (!options.persist) return created;

      // One statement: the next sequence number comes from a subquery, and an item with the same id is replaced.
      const nextSeq = sql<number>`(select coalesce(max(seq), 0) + 1 from pep_items where host = ${host} and username = ${username} and node = ${node})`;
      await trx
        .insertInto('pep_items')
        .values({ host, username, node, item_id: item.id, seq: nextSeq, payload: item.payload, publisher: item.publisher, published_at: item.publishedAt })
        .onConflict((oc) =>
          oc.columns(['host', 'username', 'node', 'item_id']).doUpdateSet((eb) => ({
            seq: eb.ref('excluded.seq'),
            payload: eb.ref('excluded.payload'),
            publisher: eb.ref('excluded.publisher'),
            published_at: eb.ref('excluded.published_at'),
          })),
        )
        .execute();
      await trimItems(trx, host, username, node, options.maxItems);
      return created;
    }, { locks: [accountLock(host, username)] });
  }

  /** Returns the newest `max` items (all when undefined), oldest first. */
  async items(host: string, username: string, node: string, max?: number): Promise<StoredPepItem[]> {
    let query = this.db
      .selectFrom('pep_items')
      .select(['item_id', 'payload', 'publisher', 'published_at'])
      .where('host', '=', host)
      .where('username', '=', username)
      .where('node', '=', node)
      .orderBy('seq', 'desc');
    if (max !== undefined) query = query.limit(max);
    const rows = await query.execute();
    return rows.reverse().map(toItem);
  }

  /** Returns the items with the given ids that exist, oldest first. */
  async itemsById(host: string, username: string, node: string, ids: string[]): Promise<StoredPepItem[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('pep_items')
      .select(['item_id', 'payload', 'publisher', 'published_at'])
      .where('host', '=', host)
      .where('username', '=', username)
      .where('node', '=', node)
      .where('item_id', 'in', ids)
      .orderBy('seq', 'asc')
      .execute();
    return rows.map(toItem);
  }

  /** Returns the newest item of the node, or null when it has none. */
  async lastItem(host: string, username: string, node: string): Promise<StoredPepItem | null> {
    return (await this.items(host, username, node, 1))[0] ?? null;
  }

  /** Deletes an item and returns false if it did not exist. */
  async retract(host: string, username: string, node: string, id: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('pep_items')
      .where('host', '=', host)
      .where('username', '=', username)
      .where('node', '=', node)
      .where('item_id', '=', id)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Deletes every node and item of the account. */
  async deleteAccount(host: string, username: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('pep_items').where('host', '=', host).where('username', '=', username).execute();
      await trx.deleteFrom('pep_nodes').where('host', '=', host).where('username', '=', username).execute();
    });
  }
}

/** Deletes all but the newest `maxItems` items of the node. */
/** Creates the node unless it exists, and returns whether it did. */
async function createNode(trx: Transaction<Database>, host: string, username: string, node: string, config: string, createdAt: number): Promise<boolean> {
  const created = await trx
    .insertInto('pep_nodes')
    .values({ host, username, node, config, created_at: createdAt })
    .onConflict((oc) => oc.columns(['host', 'username', 'node']).doNothing())
    .executeTakeFirst();
  return Number(created.numInsertedOrUpdatedRows ?? 0) > 0;
}

async function trimItems(trx: Transaction<Database>, host: string, username: string, node: string, maxItems: number): Promise<void> {
  const boundary = await trx
    .selectFrom('pep_items')
    .select('seq')
    .where('host', '=', host)
    .where('username', '=', username)
    .where('node', '=', node)
    .orderBy('seq', 'desc')
    .offset(maxItems)
    .limit(1)
    .executeTakeFirst();
  if (boundary === undefined) return;
  await trx
    .deleteFrom('pep_items')
    .where('host', '=', host)
    .where('username', '=', username)
    .where('node', '=', node)
    .where('seq', '<=', Number(boundary.seq))
    .execute();
}
