import type { Kysely } from 'kysely';

import type { Database } from './schema.js';

/** One contact that a shared roster group puts in an account's roster. */
export interface SharedRosterEntry {
  username: string;
  displayName: string | null;
  groupId: string;
  groupName: string;
}

/** Reads the shared roster groups (org groups with `shared_roster` set) from the organisation tables. */
export class SharedRosterRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Lists the enabled accounts that share a group with `shared_roster` set with the
   * account, one row per contact and group, ordered by contact. The account itself is left out.
   */
  async contactsOf(host: string, username: string): Promise<SharedRosterEntry[]> {
    const rows = await this.db
      .selectFrom('org_group_members as own')
      .innerJoin('org_groups as g', (join) => join.onRef('g.host', '=', 'own.host').onRef('g.id', '=', 'own.group_id'))
      .innerJoin('org_group_members as other', (join) => join.onRef('other.host', '=', 'g.host').onRef('other.group_id', '=', 'g.id'))
      .innerJoin('accounts as a', (join) => join.onRef('a.host', '=', 'other.host').onRef('a.username', '=', 'other.username'))
      .leftJoin('account_profiles as p', (join) => join.onRef('p.host', '=', 'other.host').onRef('p.username', '=', 'other.username'))
      .select(['other.username as username', 'p.display_name as displayName', 'g.id as groupId', 'g.name as groupName'])
      .where('own.host', '=', host)
      .where('own.username', '=', username)
      .where('g.shared_roster', '=', 1)
      .where('a.disabled', '=', 0)
      .where('other.username', '!=', username)
      .orderBy('other.username')
      .orderBy('g.name')
      .execute();
    return rows;
  }
}
