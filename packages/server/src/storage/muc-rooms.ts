import type { Kysely, Selectable } from 'kysely';

import type { Database, MucRoomsTable } from './schema.js';

/** A stored room, with its configuration as the JSON the MUC module wrote. */
export interface StoredRoom {
  service: string;
  name: string;
  persistent: boolean;
  public: boolean;
  config: string;
  subject: string | null;
  subjectNick: string | null;
  /** When the subject was set; absent or null when unknown. */
  subjectAt?: number | null;
  createdBy: string;
  createdAt: number;
}

/** One affiliation of a room: a bare JID with its affiliation, reserved nick and reason. */
export interface StoredAffiliation {
  jid: string;
  affiliation: string;
  nick: string | null;
  reason: string | null;
}

/** A room in which a JID has an affiliation. */
export interface AffiliatedRoom {
  service: string;
  name: string;
  affiliation: string;
}

/**
 * Rooms of multi-user chat services (XEP-0045) and their affiliations. Every live room has
 * a row; deleting the row removes its affiliations and, through H2's cascade, its archive.
 */
export class MucRoomRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Inserts or replaces the room row (not its affiliations). */
  async save(room: StoredRoom): Promise<void> {
    const row = {
      service: room.service,
      name: room.name,
      persistent: room.persistent ? (1 as const) : (0 as const),
      public: room.public ? (1 as const) : (0 as const),
      config: room.config,
      subject: room.subject,
      subject_nick: room.subjectNick,
      subject_at: room.subjectAt ?? null,
      created_by: room.createdBy,
      created_at: room.createdAt,
    };
    await this.db
      .insertInto('muc_rooms')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['service', 'name']).doUpdateSet({
          persistent: row.persistent,
          public: row.public,
          config: row.config,
          subject: row.subject,
          subject_nick: row.subject_nick,
          subject_at: row.subject_at,
        }),
      )
      .execute();
  }

  async get(service: string, name: string): Promise<StoredRoom | undefined> {
    const row = await this.db.selectFrom('muc_rooms').selectAll().where('service', '=', service).where('name', '=', name).executeTakeFirst();
    return row && toRoom(row);
  }

  /** Deletes the room with its affiliations (and whatever else cascades from it). */
  async delete(service: string, name: string): Promise<void> {
    await this.db.deleteFrom('muc_rooms').where('service', '=', service).where('name', '=', name).execute();
  }

  /** Deletes the temporary rooms of `service`: none of them outlives the process that hosted it. */
  async deleteTemporary(service: string): Promise<number> {
    const result = await this.db.deleteFrom('muc_rooms').where('service', '=', service).where('persistent', '=', 0).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Lists the public rooms of `service`, by name. */
  async listPublic(service: string): Promise<StoredRoom[]> {
    const rows = await this.db.selectFrom('muc_rooms').selectAll().where('service', '=', service).where('public', '=', 1).orderBy('name').execute();
    return rows.map(toRoom);
  }

  /** Counts the rooms of `service` that `creator` (a bare JID) created and that still exist. */
  async countCreatedBy(service: string, creator: string): Promise<number> {
    const row = await this.db
      .selectFrom('muc_rooms')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('service', '=', service)
      .where('created_by', '=', creator)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async listAffiliations(service: string, name: string): Promise<StoredAffiliation[]> {
    return this.db
      .selectFrom('muc_affiliations')
      .select(['jid', 'affiliation', 'nick', 'reason'])
      .where('service', '=', service)
      .where('name', '=', name)
      .orderBy('jid')
      .execute();
  }

  /** Sets the affiliation of `jid`; affiliation 'none' deletes the row. */
  async setAffiliation(service: string, name: string, entry: StoredAffiliation): Promise<void> {
    if (entry.affiliation === 'none') {
      await this.db.deleteFrom('muc_affiliations').where('service', '=', service).where('name', '=', name).where('jid', '=', entry.jid).execute();
      return;
    }
    const row = { service, name, ...entry };
    await this.db
      .insertInto('muc_affiliations')
      .values(row)
      .onConflict((oc) => oc.columns(['service', 'name', 'jid']).doUpdateSet({ affiliation: row.affiliation, nick: row.nick, reason: row.reason }))
      .execute();
  }

  /** Lists the rooms of `service` in which `jid` has one of `affiliations`, by name. */
  async roomsOf(service: string, jid: string, affiliations: string[]): Promise<AffiliatedRoom[]> {
    if (affiliations.length === 0) return [];
    return this.db
      .selectFrom('muc_affiliations')
      .select(['service', 'name', 'affiliation'])
      .where('service', '=', service)
      .where('jid', '=', jid)
      .where('affiliation', 'in', affiliations)
      .orderBy('name')
      .execute();
  }
}

function toRoom(row: Selectable<MucRoomsTable>): StoredRoom {
  return {
    service: row.service,
    name: row.name,
    persistent: row.persistent === 1,
    public: row.public === 1,
    config: row.config,
    subject: row.subject,
    subjectNick: row.subject_nick,
    subjectAt: row.subject_at === null ? null : Number(row.subject_at),
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
  };
}
