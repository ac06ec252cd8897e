import type { Kysely, Selectable, Transaction } from 'kysely';

import type { Database, OrgGroupKind, OrgGroupsTable } from './schema.js';

/** A department or group of one host. */
export interface OrgGroup {
  host: string;
  id: string;
  kind: OrgGroupKind;
  name: string;
  parentId: string | null;
  /** Whether members see each other in their rosters without subscribing. */
  sharedRoster: boolean;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  updatedAt: number;
}

/** Page request for `OrgGroupRepository.list`, in id order. */
export interface OrgGroupPage {
  limit: number;
  /** Id to start after, exclusive. */
  after?: string;
}

/** Raised by `OrgGroupRepository.delete` for a group that other groups name as their parent. */
export class OrgGroupInUseError extends Error {
  constructor(
    readonly host: string,
    readonly id: string,
  ) {
    super(`Group ${id} of ${host} is the parent of other groups`);
    this.name = 'OrgGroupInUseError';
  }
}

/**
 * Departments and groups with their members. An account's department is both its
 * profile's `department` and a membership row; the account service keeps the two in step,
 * and `delete` clears both. Construct it over a transaction to join that transaction.
 */
export class OrgGroupRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Returns the group, or null when `host` has no group `id`. */
  async get(host: string, id: string): Promise<OrgGroup | null> {
    const row = await this.db.selectFrom('org_groups').selectAll().where('host', '=', host).where('id', '=', id).executeTakeFirst();
    return row === undefined ? null : toGroup(row);
  }

  /** Lists the groups of `host` in id order, of one kind when `kind` is given. */
  async list(host: string, kind?: OrgGroupKind, page?: OrgGroupPage): Promise<OrgGroup[]> {
    let query = this.db.selectFrom('org_groups').selectAll().where('host', '=', host).orderBy('id');
    if (kind !== undefined) query = query.where('kind', '=', kind);
    if (page?.after !== undefined) query = query.where('id', '>', page.after);
    if (page !== undefined) query = query.limit(page.limit);
    const rows = await query.execute();
    return rows.map(toGroup);
  }

  /** Inserts the group or updates its kind, name, parent and shared roster flag; `createdAt` of an existing group stays. */
  async upsert(group: OrgGroup): Promise<void> {
    const values = {
      kind: group.kind,
      name: group.name,
      parent_id: group.parentId,
      shared_roster: group.sharedRoster ? (1 as const) : (0 as const),
      updated_at: group.updatedAt,
    };
    await this.db
      .insertInto('org_groups')
      .values({ host: group.host, id: group.id, created_at: group.createdAt, ...values })
      .onConflict((oc) => oc.columns(['host', 'id']).doUpdateSet(values))
      .execute();
  }

  /**
   * Deletes the group and its memberships, and clears it from the profiles of a
   * department's members. Returns false when it did not exist; throws
   * OrgGroupInUseError when other groups name it as their parent.
   */
  async delete(host: string, id: string): Promise<boolean> {
    return this.inTransaction(async (trx) => {
      const child = await trx.selectFrom('org_groups').select('id').where('host', '=', host).where('parent_id', '=', id).executeTakeFirst();
      if (child !== undefined) throw new OrgGroupInUseError(host, id);

      await trx.updateTable('account_profiles').set({ department: null }).where('host', '=', host).where('department', '=', id).execute();
      await trx.deleteFrom('org_group_members').where('host', '=', host).where('group_id', '=', id).execute();
      const result = await trx.deleteFrom('org_groups').where('host', '=', host).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    });
  }

  /** Returns the usernames of the group's members in order. */
  async members(host: string, id: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('org_group_members')
      .select('username')
      .where('host', '=', host)
      .where('group_id', '=', id)
      .orderBy('username')
      .execute();
    return rows.map((row) => row.username);
  }

  /** Returns the departments and groups the account belongs to, in id order. */
  async groupsOf(host: string, username: string): Promise<OrgGroup[]> {
    const rows = await this.db
      .selectFrom('org_group_members as m')
      .innerJoin('org_groups as g', (join) => join.onRef('g.host', '=', 'm.host').onRef('g.id', '=', 'm.group_id'))
      .selectAll('g')
      .where('m.host', '=', host)
      .where('m.username', '=', username)
      .orderBy('g.id')
      .execute();
    return rows.map(toGroup);
  }

  /** Returns the ids of the groups of `kind` that each of `usernames` belongs to, in id order. */
  async groupIdsOf(host: string, usernames: string[], kind: OrgGroupKind): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>(usernames.map((username) => [username, []]));
    if (usernames.length === 0) return result;

    const rows = await this.db
      .selectFrom('org_group_members as m')
      .innerJoin('org_groups as g', (join) => join.onRef('g.host', '=', 'm.host').onRef('g.id', '=', 'm.group_id'))
      .select(['m.username', 'g.id'])
      .where('m.host', '=', host)
      .where('m.username', 'in', usernames)
      .where('g.kind', '=', kind)
      .orderBy('g.id')
      .execute();
    for (const row of rows) result.get(row.username)?.push(row.id);
    return result;
  }

  /** Replaces the group's members with `usernames`, which must all be accounts of `host`. */
  async setMembers(host: string, id: string, usernames: string[]): Promise<void> {
    await this.inTransaction(async (trx) => {
      await trx.deleteFrom('org_group_members').where('host', '=', host).where('group_id', '=', id).execute();
      const unique = [...new Set(usernames)];
      if (unique.length > 0) {
        await trx
          .insertInto('org_group_members')
          .values(unique.map((username) => ({ host, group_id: id, username })))
          .execute();
      }
    });
  }

  /** Replaces the account's memberships in groups of `kind` with `ids`, which must all exist with that kind. */
  async setGroupsOf(host: string, username: string, kind: OrgGroupKind, ids: string[]): Promise<void> {
    await this.inTransaction(async (trx) => {
      const ofKind = trx.selectFrom('org_groups').select('id').where('host', '=', host).where('kind', '=', kind);
      await trx.deleteFrom('org_group_members').where('host', '=', host).where('username', '=', username).where('group_id', 'in', ofKind).execute();
      const unique = [...new Set(ids)];
      if (unique.length > 0) {
        await trx
          .insertInto('org_group_members')
          .values(unique.map((id) => ({ host, group_id: id, username })))
          .execute();
      }
    });
  }

  /** Adds the account to the group; returns false when it was a member already. */
  async addMember(host: string, id: string, username: string): Promise<boolean> {
    const result = await this.db
      .insertInto('org_group_members')
      .values({ host, group_id: id, username })
      .onConflict((oc) => oc.columns(['host', 'group_id', 'username']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Removes the account from the group; returns false when it was not a member. */
  async removeMember(host: string, id: string, username: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('org_group_members')
      .where('host', '=', host)
      .where('group_id', '=', id)
      .where('username', '=', username)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Runs `work` in the repository's transaction when it has one, otherwise in a new one. */
  private async inTransaction<T>(work: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return work(this.db);
    return this.db.transaction().execute((trx: Transaction<Database>) => work(trx));
  }
}

function toGroup(row: Selectable<OrgGroupsTable>): OrgGroup {
  return {
    host: row.host,
    id: row.id,
    kind: row.kind,
    name: row.name,
    parentId: row.parent_id,
    sharedRoster: row.shared_roster === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
