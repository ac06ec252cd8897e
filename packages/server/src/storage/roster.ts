import type { Kysely, Selectable, Transaction } from 'kysely';

import type { Database, RosterItemsTable, Subscription } from './schema.js';

/** A roster item (RFC 6121 section 2.1) with its pending subscription state. */
export interface RosterItem {
  /** Bare JID of the contact. */
  contact: string;
  name: string | null;
  subscription: Subscription;
  /** We sent subscribe and wait for the contact's reply ("Pending Out"). */
  ask: boolean;
  /** The contact sent subscribe and waits for our reply ("Pending In"). */
  pendingIn: boolean;
  /** The contact's subscribe presence as XML, re-delivered at login. */
  pendingInStanza: string | null;
  /** We pre-approved the contact's subscription (RFC 6121 section 3.4). */
  approved: boolean;
  /**
   * The record keeps only an inbound request from a contact the user never added
   * ("None + Pending In" without an item, RFC 6121 section 3.1.3); it is not a roster item.
   */
  hidden: boolean;
  groups: string[];
  /** Roster version at the item's last change. Set on read, ignored on write. */
  version?: number;
}

/** Roster changes after the version a client has cached (RFC 6121 section 2.6). */
export interface RosterChanges {
  /** Current roster version. */
  version: number;
  /** Items added or changed after the client's version, oldest change first. */
  items: RosterItem[];
  /** Contacts removed after the client's version. */
  removed: string[];
}

/** Roster items, versions and removal tombstones per account. */
export class RosterRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Lists all items ordered by contact, including items that are only pending in. */
  async list(host: string, username: string): Promise<RosterItem[]> {
    const rows = await this.db
      .selectFrom('roster_items')
      .selectAll()
      .where('host', '=', host)
      .where('username', '=', username)
      .orderBy('contact')
      .execute();
    return rows.map(toRosterItem);
  }

  /** Returns the item for `contact`, or null if there is none. */
  async get(host: string, username: string, contact: string): Promise<RosterItem | null> {
    const row = await this.db
      .selectFrom('roster_items')
      .selectAll()
      .where('host', '=', host)
      .where('username', '=', username)
      .where('contact', '=', contact)
      .executeTakeFirst();
    return row === undefined ? null : toRosterItem(row);
  }

  /** Lists items with subscription 'from' or 'both': the contacts that receive our presence. */
  async listSubscribers(host: string, username: string): Promise<RosterItem[]> {
    return this.listBySubscription(host, username, ['from', 'both']);
  }

  /** Lists items with subscription 'to' or 'both': the contacts whose presence we receive. */
  async listSubscriptions(host: string, username: string): Promise<RosterItem[]> {
    return this.listBySubscription(host, username, ['to', 'both']);
  }

  /** Inserts or replaces the item, bumps the roster version and returns it. */
  async put(host: string, username: string, item: RosterItem): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const version = await bumpVersion(trx, host, username);
      const row = { ...toRow(item), version };

      await trx
        .insertInto('roster_items')
        .values({ host, username, contact: item.contact, ...row })
        .onConflict((oc) => oc.columns(['host', 'username', 'contact']).doUpdateSet(row))
        .execute();

      await trx
        .deleteFrom('roster_tombstones')
        .where('host', '=', host)
        .where('username', '=', username)
        .where('contact', '=', item.contact)
        .execute();

      return version;
    });
  }

  /** Deletes the item, records a tombstone and returns the new roster version, or null if absent. */
  async remove(host: string, username: string, contact: string): Promise<number | null> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx
        .deleteFrom('roster_items')
        .where('host', '=', host)
        .where('username', '=', username)
        .where('contact', '=', contact)
        .executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) {
        return null;
      }

      const version = await bumpVersion(trx, host, username);
      await trx
        .insertInto('roster_tombstones')
        .values({ host, username, contact, version })
        .onConflict((oc) => oc.columns(['host', 'username', 'contact']).doUpdateSet({ version }))
        .execute();
      return version;
    });
  }

  /** Returns the current roster version, which is 0 for a roster never changed. */
  async version(host: string, username: string): Promise<number> {
    const state = await readVersionState(this.db, host, username);
    return state.version;
  }

  /**
   * Returns the changes after `version`, or null when the caller must send the
   * full roster: `version` is newer than the current one, or older than a
   * pruned tombstone, so some removals are no longer known.
   */
  async changesSince(host: string, username: string, version: number): Promise<RosterChanges | null> {
    return this.db.transaction().execute(async (trx) => {
      const state = await readVersionState(trx, host, username);
      if (version > state.version || version < state.prunedVersion) {
        return null;
      }

      const rows = await trx
        .selectFrom('roster_items')
        .selectAll()
        .where('host', '=', host)
        .where('username', '=', username)
        .where('version', '>', version)
        .orderBy('version')
        .execute();

      const tombstones = await trx
        .selectFrom('roster_tombstones')
        .select('contact')
        .where('host', '=', host)
        .where('username', '=', username)
        .where('version', '>', version)
        .orderBy('version')
        .execute();

      return { version: state.version, items: rows.map(toRosterItem), removed: tombstones.map((row) => row.contact) };
    });
  }

  /**
   * Deletes all but the `keep` newest tombstones and returns how many it deleted.
   * Afterwards changesSince returns null for versions older than the newest deleted one.
   */
  async pruneTombstones(host: string, username: string, keep: number): Promise<number> {
    if (!Number.isInteger(keep) || keep < 0) {
      throw new RangeError(`Invalid tombstone count to keep ${keep}: expected an integer >= 0`);
    }

    return this.db.transaction().execute(async (trx) => {
      const newestPruned = await trx
        .selectFrom('roster_tombstones')
        .select('version')
        .where('host', '=', host)
        .where('username', '=', username)
        .orderBy('version', 'desc')
        .limit(1)
        .offset(keep)
        .executeTakeFirst();
      if (newestPruned === undefined) {
        return 0;
      }

      const result = await trx
        .deleteFrom('roster_tombstones')
        .where('host', '=', host)
        .where('username', '=', username)
        .where('version', '<=', newestPruned.version)
        .executeTakeFirst();

      await trx
        .updateTable('roster_versions')
        .set({ pruned_version: newestPruned.version })
        .where('host', '=', host)
        .where('username', '=', username)
        .where('pruned_version', '<', newestPruned.version)
        .execute();

      return Number(result.numDeletedRows);
    });
  }

  private async listBySubscription(host: string, username: string, states: Subscription[]): Promise<RosterItem[]> {
    const rows = await this.db
      .selectFrom('roster_items')
      .selectAll()
      .where('host', '=', host)
      .where('username', '=', username)
      .where('subscription', 'in', states)
      .orderBy('contact')
      .execute();
    return rows.map(toRosterItem);
  }
}

interface VersionState {
  version: number;
  prunedVersion: number;
}

async function readVersionState(db: Kysely<Database>, host: string, username: string): Promise<VersionState> {
  const row = await db
    .selectFrom('roster_versions')
    .select(['version', 'pruned_version'])
    .where('host', '=', host)
    .where('username', '=', username)
    .executeTakeFirst();
  return { version: Number(row?.version ?? 0), prunedVersion: Number(row?.pruned_version ?? 0) };
}

/** Increments the account's roster version (starting at 1) and returns the new value. */
async function bumpVersion(trx: Transaction<Database>, host: string, username: string): Promise<number> {
  const row = await trx
    .insertInto('roster_versions')
    .values({ host, username, version: 1, pruned_version: 0 })
    .onConflict((oc) =>
      oc.columns(['host', 'username']).doUpdateSet((eb) => ({ version: eb('roster_versions.version', '+', 1) })),
    )
    .returning('version')
    .executeTakeFirstOrThrow();
  return Number(row.version);
}

function toRow(item: RosterItem) {
  return {
    name: item.name,
    subscription: item.subscription,
    ask: flag(item.ask),
    pending_in: flag(item.pendingIn),
    pending_in_stanza: item.pendingInStanza,
    approved: flag(item.approved),
    hidden: flag(item.hidden),
    groups: JSON.stringify(item.groups),
  };
}

function toRosterItem(row: Selectable<RosterItemsTable>): RosterItem {
  return {
    contact: row.contact,
    name: row.name,
    subscription: row.subscription,
    ask: row.ask === 1,
    pendingIn: row.pending_in === 1,
    pendingInStanza: row.pending_in_stanza,
    approved: row.approved === 1,
    hidden: row.hidden === 1,
    groups: parseGroups(row.groups),
    version: Number(row.version),
  };
}

/** Parses the stored JSON group list, skipping anything that is not a string. */
function parseGroups(json: string): string[] {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value)) {
    return [];
  }
  return value.filter((group): group is string => typeof group === 'string');
}

function flag(value: boolean): 0 | 1 {
  return value ? 1 : 0;
}
