import { sql } from 'kysely';
import type { Expression, ExpressionBuilder, Kysely, Selectable, SqlBool } from 'kysely';

import type { ArchiveRewrite } from './archive.js';
import { type ArchivePageRequest, type KeyBounds, type MessagePage, readPage } from './archive-paging.js';
import { type FtsIndex, roomScope } from './fts.js';
import type { Database, MucArchiveMessagesTable } from './schema.js';

/** Kind of an archived room message: history content, a subject change (a subject and no body), or a chat marker (XEP-0333). */
export type MucArchiveKind = 'message' | 'subject' | 'marker';

/** A message to add to one room's archive. */
export interface NewMucArchiveEntry {
  /** The MUC service's domain and the room's localpart: the room's `muc_rooms` key. */
  service: string;
  room: string;
  stanzaId: string;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  kind: MucArchiveKind;
  nick: string;
  /** Real bare JID of the sender. */
  sender: string;
  messageId?: string;
  originId?: string;
  /** Serialised stanza, from the occupant JID. */
  stanza: string;
  /** Full-text search tokens of the message. */
  tokens: string[];
}

/** A message read from a room's archive. */
export interface MucArchivedMessage {
  /** Position in archive order (the table's key). */
  key: number;
  stanzaId: string;
  createdAt: number;
  kind: MucArchiveKind;
  nick: string;
  sender: string;
  messageId: string | null;
  originId: string | null;
  stanza: string;
  editedAt: number | null;
  retractedAt: number | null;
}

/** Conditions on the messages of a room's archive. A message matches when it meets every given condition. */
export interface MucArchiveFilter extends KeyBounds {
  /** The sender's nickname. */
  nick?: string;
  /** The sender's real bare JID. */
  sender?: string;
  /** Inclusive bounds in milliseconds. */
  start?: number;
  end?: number;
  /** Only these keys. */
  keys?: number[];
  /** Search tokens that a message must all contain; an empty list matches nothing. */
  tokens?: string[];
  kind?: MucArchiveKind;
}

/** A room: the MUC service's domain and the room's localpart. */
export interface RoomKey {
  service: string;
  room: string;
}

type Row = Selectable<MucArchiveMessagesTable>;
type MessageBuilder = ExpressionBuilder<Database, 'muc_archive_messages'>;

/** Token rows per INSERT, well below the bound-parameter limits of SQLite and PostgreSQL. */
const TOKEN_CHUNK = 200;

/**
 * The archives of multi-user chat rooms (XEP-0313 for XEP-0045 rooms) with their search
 * tokens (XEP-0431). Rows cascade from the room's row in `muc_rooms`. Writes take the
 * executor to run in, normally a batch writer transaction; reads use the database.
 */
export class MucArchiveRepository {
  private readonly tokens: TokenStore;

  /** On SQLite, the search tokens go to `fts`. Without it (PostgreSQL), they are rows of `muc_archive_tokens`. */
  constructor(
    private readonly db: Kysely<Database>,
    fts?: FtsIndex,
  ) {
    this.tokens = fts ? ftsTokens(fts) : tokenRows;
  }

  /** Adds a message and its tokens; returns its key. */
  async append(trx: Kysely<Database>, entry: NewMucArchiveEntry): Promise<number> {
    const row = await trx
      .insertInto('muc_archive_messages')
      .values({
        service: entry.service,
        room: entry.room,
        stanza_id: entry.stanzaId,
        created_at: entry.createdAt,
        kind: entry.kind,
        nick: entry.nick,
        sender: entry.sender,
        message_id: entry.messageId ?? null,
        origin_id: entry.originId ?? null,
        stanza: entry.stanza,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const key = Number(row.id);
    await this.tokens.add(trx, entry, key, entry.tokens);
    return key;
  }

  /** Replaces the stanza and tokens of the message with `key`, keeping its id, time and place. */
  async rewrite(trx: Kysely<Database>, room: RoomKey, key: number, change: ArchiveRewrite): Promise<void> {
    const update: { stanza: string; edited_at?: number; retracted_at?: number } = { stanza: change.stanza };
    if (change.editedAt !== undefined) update.edited_at = change.editedAt;
    if (change.retractedAt !== undefined) update.retracted_at = change.retractedAt;
    await trx.updateTable('muc_archive_messages').set(update).where('id', '=', key).execute();
    await this.tokens.remove(trx, key);
    await this.tokens.add(trx, room, key, change.tokens);
  }

  /**
   * Finds the latest message from `sender` in the room whose 'id' attribute, origin-id or,
   * when `byStanzaId` is set, room stanza id is `ref`: the target of a correction or retraction.
   */
  async findReferenced(trx: Kysely<Database>, room: RoomKey, sender: string, ref: string, byStanzaId: boolean): Promise<MucArchivedMessage | undefined> {
    const row = await trx
      .selectFrom('muc_archive_messages')
      .selectAll()
      .where('service', '=', room.service)
      .where('room', '=', room.room)
      .where('sender', '=', sender)
      .where((eb) => {
        const matches = [eb('message_id', '=', ref), eb('origin_id', '=', ref)];
        if (byStanzaId) matches.push(eb('stanza_id', '=', ref));
        return eb.or(matches);
      })
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : toMessage(row);
  }

  /**
   * Returns the stanza id of the newest message `sender` (a real bare JID) sent to the room
   * with this origin-id (XEP-0359), if any.
   */
  async findByOrigin(room: RoomKey, sender: string, originId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('muc_archive_messages')
      .select('stanza_id')
      .where('service', '=', room.service)
      .where('room', '=', room.room)
      .where('sender', '=', sender)
      .where('origin_id', '=', originId)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row?.stanza_id;
  }

  /** Returns the message with the stanza id the room gave it, within `trx`. */
  async findByStanzaId(trx: Kysely<Database>, room: RoomKey, stanzaId: string): Promise<MucArchivedMessage | undefined> {
    const row = await trx
      .selectFrom('muc_archive_messages')
      .selectAll()
      .where('service', '=', room.service)
      .where('room', '=', room.room)
      .where('stanza_id', '=', stanzaId)
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : toMessage(row);
  }

  /** Maps the stanza ids that exist in the room's archive to their keys. */
  async keysOf(room: RoomKey, stanzaIds: string[]): Promise<Map<string, number>> {
    const keys = new Map<string, number>();
    if (stanzaIds.length === 0) return keys;
    const rows = await this.db
      .selectFrom('muc_archive_messages')
      .select(['id', 'stanza_id'])
      .where('service', '=', room.service)
      .where('room', '=', room.room)
      .where('stanza_id', 'in', stanzaIds)
      .execute();
    for (const row of rows) keys.set(row.stanza_id, Number(row.id));
    return keys;
  }

  /** Returns one page of the messages matching `filter`, in archive order. */
  async page(room: RoomKey, filter: MucArchiveFilter, request: ArchivePageRequest): Promise<MessagePage<MucArchivedMessage>> {
    const reader = {
      count: (bounded: MucArchiveFilter) => this.count(room, bounded),
      select: (bounded: MucArchiveFilter, order: 'asc' | 'desc', limit: number, offset?: number) => this.select(room, bounded, order, limit, offset),
    };
    return readPage(reader, filter, request);
  }

  /** Counts the messages matching `filter`. */
  async count(room: RoomKey, filter: MucArchiveFilter): Promise<number> {
    const row = await this.db
      .selectFrom('muc_archive_messages')
      .select((eb) => eb.fn.countAll().as('n'))
      .where((eb) => eb.and(conditions(eb, this.tokens, room, filter)))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Returns up to `limit` messages matching `filter` in key order, after skipping `offset`. */
  async select(room: RoomKey, filter: MucArchiveFilter, order: 'asc' | 'desc', limit: number, offset?: number): Promise<MucArchivedMessage[]> {
    let query = this.db
      .selectFrom('muc_archive_messages')
      .selectAll()
      .where((eb) => eb.and(conditions(eb, this.tokens, room, filter)))
      .orderBy('id', order)
      .limit(limit);
    if (offset !== undefined) query = query.offset(offset);
    return (await query.execute()).map(toMessage);
  }

  /** Returns the first and last message of the room's archive, or undefined when it is empty. */
  async bounds(room: RoomKey): Promise<{ first: MucArchivedMessage; last: MucArchivedMessage } | undefined> {
    const [first] = await this.select(room, {}, 'asc', 1);
    const [last] = await this.select(room, {}, 'desc', 1);
    if (!first || !last) return undefined;
    return { first, last };
  }

  /** Returns the newest message of each of `rooms` that has one, keyed by `service room`. */
  async latestByRoom(rooms: RoomKey[]): Promise<Map<string, MucArchivedMessage>> {
    const latest = new Map<string, MucArchivedMessage>();
    if (rooms.length === 0) return latest;
    const newestKeys = this.db
      .selectFrom('muc_archive_messages')
      .select((eb) => eb.fn.max('id').as('id'))
      .where((eb) => eb.or(rooms.map((room) => eb.and([eb('service', '=', room.service), eb('room', '=', room.room)]))))
      .groupBy(['service', 'room']);
    const rows = await this.db.selectFrom('muc_archive_messages').selectAll().where('id', 'in', newestKeys).execute();
    for (const row of rows) latest.set(roomKeyString(row), toMessage(row));
    return latest;
  }

  /** Returns the stanza id of the newest message of all room archives, if any. */
  async latestStanzaId(): Promise<string | undefined> {
    const row = await this.db.selectFrom('muc_archive_messages').select('stanza_id').orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row?.stanza_id;
  }
}

/** Returns the string `latestByRoom` keys a room by. */
export function roomKeyString(room: RoomKey): string {
  return `${room.service} ${room.room}`;
}

function conditions(eb: MessageBuilder, tokens: TokenStore, room: RoomKey, filter: MucArchiveFilter): Expression<SqlBool>[] {
  const list: Expression<SqlBool>[] = [eb('service', '=', room.service), eb('room', '=', room.room)];
  if (filter.nick !== undefined) list.push(eb('nick', '=', filter.nick));
  if (filter.sender !== undefined) list.push(eb('sender', '=', filter.sender));
  if (filter.kind !== undefined) list.push(eb('kind', '=', filter.kind));
  if (filter.start !== undefined) list.push(eb('created_at', '>=', filter.start));
  if (filter.end !== undefined) list.push(eb('created_at', '<=', filter.end));
  if (filter.afterKey !== undefined) list.push(eb('id', '>', filter.afterKey));
  if (filter.beforeKey !== undefined) list.push(eb('id', '<', filter.beforeKey));
  if (filter.keys !== undefined) list.push(filter.keys.length === 0 ? sql<SqlBool>`1 = 0` : eb('id', 'in', filter.keys));
  if (filter.tokens !== undefined) list.push(tokens.condition(eb, room, filter.tokens));
  return list;
}

/** Storage of a room archive's search tokens. */
interface TokenStore {
  add(trx: Kysely<Database>, room: RoomKey, key: number, tokens: string[]): Promise<void>;
  remove(trx: Kysely<Database>, key: number): Promise<void>;
  /** Returns a condition for the messages of the room's archive that contain every token, none for no tokens. */
  condition(eb: MessageBuilder, room: RoomKey, tokens: string[]): Expression<SqlBool>;
}

/** Tokens as rows of `muc_archive_tokens`, grouped and counted to match (the key makes each token count once). */
const tokenRows: TokenStore = {
  async add(trx, room, key, tokens) {
    const unique = [...new Set(tokens)];
    for (let start = 0; start < unique.length; start += TOKEN_CHUNK) {
      const rows = unique.slice(start, start + TOKEN_CHUNK).map((token) => ({ service: room.service, room: room.room, token, message_id: key }));
      await trx.insertInto('muc_archive_tokens').values(rows).execute();
    }
  },

  async remove(trx, key) {
    await trx.deleteFrom('muc_archive_tokens').where('message_id', '=', key).execute();
  },

  condition(eb, room, tokens) {
    const unique = [...new Set(tokens)];
    if (unique.length === 0) return sql<SqlBool>`1 = 0`;
    const matching = eb
      .selectFrom('muc_archive_tokens')
      .select('muc_archive_tokens.message_id')
      .where('muc_archive_tokens.service', '=', room.service)
      .where('muc_archive_tokens.room', '=', room.room)
      .where('muc_archive_tokens.token', 'in', unique)
      .groupBy('muc_archive_tokens.message_id')
      .having((having) => having.fn.countAll(), '=', unique.length);
    return eb('muc_archive_messages.id', 'in', matching);
  },
};

/** Tokens in SQLite's FTS5 table `muc_archive_fts`, under the room's bare JID. */
function ftsTokens(fts: FtsIndex): TokenStore {
  const scope = (room: RoomKey) => roomScope(room.service, room.room);
  return {
    add: (trx, room, key, tokens) => fts.add(trx, scope(room), key, tokens),
    remove: (trx, key) => fts.remove(trx, key),
    condition(_eb, room, tokens) {
      if (tokens.length === 0) return sql<SqlBool>`1 = 0`;
      return sql<SqlBool>`${sql.ref('muc_archive_messages.id')} in (${fts.matching(scope(room), tokens)})`;
    },
  };
}

function toMessage(row: Row): MucArchivedMessage {
  return {
    key: Number(row.id),
    stanzaId: row.stanza_id,
    createdAt: Number(row.created_at),
    kind: row.kind === 'subject' ? 'subject' : 'message',
    nick: row.nick,
    sender: row.sender,
    messageId: row.message_id,
    originId: row.origin_id,
    stanza: row.stanza,
    editedAt: row.edited_at === null ? null : Number(row.edited_at),
    retractedAt: row.retracted_at === null ? null : Number(row.retracted_at),
  };
}
