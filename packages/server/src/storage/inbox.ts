import { sql } from 'kysely';
import type { ExpressionBuilder, Kysely, SelectQueryBuilder, Selectable } from 'kysely';

import type { Database, InboxEntriesTable, InboxKind } from './schema.js';
import type { SqliteHotPath } from './sqlite-hot-path.js';

/** The account an inbox belongs to. */
export interface InboxOwner {
  host: string;
  username: string;
}

/** A conversation of an inbox: a contact's or a room's bare JID, and the room's `muc_rooms` key for groups. */
export interface InboxConversation {
  jid: string;
  kind: InboxKind;
  room?: { service: string; name: string };
}

/** A message recorded in an inbox entry. */
export interface InboxMessage {
  /** The stanza id in the owner's archive (chats) or the room's archive (groups). */
  stanzaId: string;
  /** Milliseconds since the Unix epoch. */
  at: number;
  /** Bare JID of the sender. */
  sender: string;
  messageId?: string;
  originId?: string;
  /** Serialized stanza. */
  stanza: string;
}

/** One inbox entry as readers see it. */
export interface InboxEntry {
  conversation: string;
  kind: InboxKind;
  lastStanzaId: string | null;
  lastAt: number;
  lastSender: string | null;
  lastMessage: string | null;
  readId: string | null;
  unread: number;
  pinned: boolean;
  archived: boolean;
  /** Milliseconds since the Unix epoch; null when not muted. */
  mutedUntil: number | null;
}

/** Flags a user sets on an entry; absent ones stay as they are. */
export interface InboxFlags {
  pinned?: boolean;
  archived?: boolean;
  mutedUntil?: number | null;
}

/** Conditions on the entries of a page. Entries without a message are never listed. */
export interface InboxFilter {
  /** Inclusive bounds on the last message's time, in milliseconds. */
  start?: number;
  end?: number;
  /** 'inbox' lists entries that are not archived, 'archive' the archived ones. */
  box: 'inbox' | 'archive' | 'all';
  /** Leaves out entries with no unread message. */
  hiddenRead: boolean;
  /** 'desc' lists the newest activity first. */
  order: 'asc' | 'desc';
}

/** A page request in entry order; cursors are the opaque uids of `InboxPage`. */
export interface InboxPageRequest {
  max: number;
  after?: string;
  /** '' requests the last page. */
  before?: string;
  index?: number;
}

export interface InboxPage {
  entries: InboxEntry[];
  /** The uid of each entry, in the same order, for result set management (XEP-0059). */
  uids: string[];
  /** Position of the first entry in the full list, when known. */
  firstIndex?: number;
  /** Entries matching the filter. */
  count: number;
  /** Matching entries with at least one unread message. */
  activeCount: number;
  /** Unread messages over the matching entries. */
  unreadCount: number;
}

type EntryRow = Selectable<InboxEntriesTable> & { unread: number | string };

/** Parsed page cursor: the last message's time, then the conversation as the tie breaker. */
interface Cursor {
  at: number;
  conversation: string;
}

/** Returns the uid that pages name an entry by: `<last_at>:<conversation>`. */
export function inboxCursor(entry: Pick<InboxEntry, 'lastAt' | 'conversation'>): string {
  return `${entry.lastAt}:${entry.conversation}`;
}

/** Parses a uid from inboxCursor(); returns undefined for anything else. */
export function parseInboxCursor(uid: string): Cursor | undefined {
  const colon = uid.indexOf(':');
  if (colon <= 0) return undefined;
  const digits = uid.slice(0, colon);
  if (!/^[0-9]+$/.test(digits)) return undefined;
  return { at: Number(digits), conversation: uid.slice(colon + 1) };
}

function toEntry(row: EntryRow): InboxEntry {
  return {
    conversation: row.conversation,
    kind: row.kind,
    lastStanzaId: row.last_stanza_id,
    lastAt: Number(row.last_at),
    lastSender: row.last_sender,
    lastMessage: row.last_message,
    readId: row.read_id,
    unread: Number(row.unread),
    pinned: row.pinned === 1,
    archived: row.archived === 1,
    mutedUntil: row.muted_until === null ? null : Number(row.muted_until),
  };
}

type EntryBuilder = ExpressionBuilder<Database & { e: InboxEntriesTable }, 'e'>;

/** Builds the unread count of the entry `e` as a correlated subquery. */
function unreadCountOf(eb: EntryBuilder) {
  return eb
    .selectFrom('inbox_unread as u')
    .select((inner) => inner.fn.countAll<number>().as('n'))
    .whereRef('u.host', '=', 'e.host')
    .whereRef('u.username', '=', 'e.username')
    .whereRef('u.conversation', '=', 'e.conversation');
}

/**
 * The inbox of each account: entries with their last message, read position and flags,
 * and the unread messages that make up each entry's count. A message is never recorded
 * as unread at or below the entry's read position, and the read position only moves
 * forward, so counts never include read messages. Stanza ids of one conversation sort in
 * issue order, so "at or below" is a string comparison.
 */
export class InboxRepository {
  /** `hot` is given on SQLite; writes in a transaction then skip Kysely. */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly hot?: SqliteHotPath,
  ) {}

  /**
   * Records `message` in the owner's entry for `conversation`, within `trx`. It becomes the
   * last message when it is newer than the current one. With `unread` it also counts as
   * unread, unless it is at or below the read position, and it moves an archived entry
   * back to the inbox. Recording the same message twice changes nothing.
   */
  async addMessage(trx: Kysely<Database>, owner: InboxOwner, conversation: InboxConversation, message: InboxMessage, unread: boolean): Promise<void> {
    if (this.hot && trx.isTransaction) {
      this.hot.addInboxMessage(owner, conversation, message, unread);
      return;
    }
    const last = {
      last_stanza_id: message.stanzaId,
      last_at: message.at,
      last_sender: message.sender,
      last_message_id: message.messageId ?? null,
      last_origin_id: message.originId ?? null,
      last_message: message.stanza,
    };
    await trx
      .insertInto('inbox_entries')
      .values({ ...newEntry(owner, conversation), ...last })
      .onConflict((oc) =>
        oc
          .columns(['host', 'username', 'conversation'])
          .doUpdateSet(last)
          .where((eb) => eb.or([eb('inbox_entries.last_stanza_id', 'is', null), eb('inbox_entries.last_stanza_id', '<', message.stanzaId)])),
      )
      .execute();
    if (!unread) return;

    const added = await trx
      .insertInto('inbox_unread')
      .columns(['host', 'username', 'conversation', 'stanza_id', 'sender', 'message_id', 'origin_id'])
      .expression((eb) =>
        eb
          .selectFrom('inbox_entries')
          .select([
            'host',
            'username',
            'conversation',
            eb.val(message.stanzaId).as('stanza_id'),
            eb.val(message.sender).as('sender'),
            eb.val(message.messageId ?? null).as('message_id'),
            eb.val(message.originId ?? null).as('origin_id'),
          ])
          .where((inner) => inner.and(keyOf(owner, conversation.jid)))
          .where((inner) => inner.or([inner('read_id', 'is', null), inner('read_id', '<', message.stanzaId)])),
      )
      .onConflict((oc) => oc.columns(['host', 'username', 'conversation', 'stanza_id']).doNothing())
      .executeTakeFirst();
    if (Number(added.numInsertedOrUpdatedRows ?? 0) === 0) return;
    await trx
      .updateTable('inbox_entries')
      .where((eb) => eb.and(keyOf(owner, conversation.jid)))
      .where('archived', '=', 1)
      .set({ archived: 0 })
      .execute();
  }

  /**
   * Moves the read position of the owner's entry forward to `stanzaId`, within `trx`, and
   * drops the unread messages at or below it. Returns how many unread messages it dropped,
   * or undefined when the position is there or beyond already, so that a repeated or older
   * position changes nothing.
   */
  async moveRead(trx: Kysely<Database>, owner: InboxOwner, conversation: InboxConversation, stanzaId: string): Promise<number | undefined> {
    if (this.hot && trx.isTransaction) return this.hot.moveInboxRead(owner, conversation, stanzaId);
    const moved = await trx
      .insertInto('inbox_entries')
      .values({ ...newEntry(owner, conversation), read_id: stanzaId })
      .onConflict((oc) =>
        oc
          .columns(['host', 'username', 'conversation'])
          .doUpdateSet({ read_id: stanzaId })
          .where((eb) => eb.or([eb('inbox_entries.read_id', 'is', null), eb('inbox_entries.read_id', '<', stanzaId)])),
      )
      .executeTakeFirst();
    if (Number(moved.numInsertedOrUpdatedRows ?? 0) === 0) return undefined;

    const cleared = await trx
      .deleteFrom('inbox_unread')
      .where((eb) => eb.and(keyOf(owner, conversation.jid)))
      .where('stanza_id', '<=', stanzaId)
      .executeTakeFirst();
    return Number(cleared.numDeletedRows);
  }

  /**
   * Replaces the last message with `stanza` when it is the message of `sender` that `ref`
   * names (by 'id', origin-id or stanza id), as a correction or retraction of it does.
   * Returns whether it did.
   */
  async replaceLast(trx: Kysely<Database>, owner: InboxOwner, conversation: string, sender: string, ref: string, stanza: string): Promise<boolean> {
    const result = await trx
      .updateTable('inbox_entries')
      .where((eb) => eb.and(keyOf(owner, conversation)))
      .set({ last_message: stanza })
      .where('last_sender', '=', sender)
      .where((eb) => eb.or([eb('last_message_id', '=', ref), eb('last_origin_id', '=', ref), eb('last_stanza_id', '=', ref)]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Returns the serialized last message when it is the message of `sender` that `ref` names. */
  async lastMessageIf(trx: Kysely<Database>, owner: InboxOwner, conversation: string, sender: string, ref: string): Promise<string | undefined> {
    const row = await trx
      .selectFrom('inbox_entries')
      .where((eb) => eb.and(keyOf(owner, conversation)))
      .select('last_message')
      .where('last_sender', '=', sender)
      .where((eb) => eb.or([eb('last_message_id', '=', ref), eb('last_origin_id', '=', ref), eb('last_stanza_id', '=', ref)]))
      .executeTakeFirst();
    return row?.last_message ?? undefined;
  }

  /** Drops the unread message of `sender` that `ref` names (by 'id', origin-id or stanza id); returns how many rows went. */
  async removeUnread(trx: Kysely<Database>, owner: InboxOwner, conversation: string, sender: string, ref: string): Promise<number> {
    const result = await trx
      .deleteFrom('inbox_unread')
      .where((eb) => eb.and(keyOf(owner, conversation)))
      .where('sender', '=', sender)
      .where((eb) => eb.or([eb('message_id', '=', ref), eb('origin_id', '=', ref), eb('stanza_id', '=', ref)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** Returns the owner's entry for `conversation` with its unread count, or undefined. */
  async get(owner: InboxOwner, conversation: string, trx: Kysely<Database> = this.db): Promise<InboxEntry | undefined> {
    const row = await trx
      .selectFrom('inbox_entries as e')
      .selectAll('e')
      .select((eb) => unreadCountOf(eb).as('unread'))
      .where('e.host', '=', owner.host)
      .where('e.username', '=', owner.username)
      .where('e.conversation', '=', conversation)
      .executeTakeFirst();
    return row === undefined ? undefined : toEntry(row as EntryRow);
  }

  /** Sets flags of an existing entry; returns false when the owner has no entry for `conversation`. */
  async setFlags(owner: InboxOwner, conversation: string, flags: InboxFlags): Promise<boolean> {
    const values: {
      pinned?: 0 | 1;
      archived?: 0 | 1;
      muted_until?: number | null;
    } = {};
    if (flags.pinned !== undefined) values.pinned = flags.pinned ? 1 : 0;
    if (flags.archived !== undefined) values.archived = flags.archived ? 1 : 0;
    if (flags.mutedUntil !== undefined) values.muted_until = flags.mutedUntil;
    if (Object.keys(values).length === 0) return (await this.get(owner, conversation)) !== undefined;

    const result = await this.db
      .updateTable('inbox_entries')
      .where((eb) => eb.and(keyOf(owner, conversation)))
      .set(values)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Returns one page of the owner's entries that match `filter`, in `filter.order` of last activity. */
  async page(owner: InboxOwner, filter: InboxFilter, request: InboxPageRequest): Promise<InboxPage> {
    const totals = await this.totals(owner, filter);
    const forward = filter.order;
    const backward = forward === 'desc' ? 'asc' : 'desc';

    let rows: EntryRow[];
    let firstIndex: number | undefined;
    if (request.before !== undefined) {
      const cursor = request.before === '' ? undefined : requireCursor(request.before);
      rows = (await this.select(owner, filter, backward, request.max, cursor)).reverse();
    } else if (request.after !== undefined) {
      rows = await this.select(owner, filter, forward, request.max, requireCursor(request.after));
    } else {
      firstIndex = request.index ?? 0;
      rows = await this.select(owner, filter, forward, request.max, undefined, firstIndex);
    }

    const entries = rows.map(toEntry);
    return {
      entries,
      uids: entries.map(inboxCursor),
      firstIndex: entries.length > 0 ? firstIndex : undefined,
      ...totals,
    };
  }

  /** Returns the read positions of `owners` (bare JIDs on `host`) in `conversation`; owners without one are left out. */
  async readPositions(host: string, conversation: string, owners: string[]): Promise<Map<string, string>> {
    const usernames = owners.flatMap((jid) => {
      const at = jid.lastIndexOf('@');
      return at > 0 && jid.slice(at + 1) === host ? [jid.slice(0, at)] : [];
    });
    const positions = new Map<string, string>();
    if (usernames.length === 0) return positions;

    const rows = await this.db
      .selectFrom('inbox_entries')
      .select(['username', 'read_id'])
      .where('host', '=', host)
      .where('conversation', '=', conversation)
      .where('username', 'in', usernames)
      .where('read_id', 'is not', null)
      .execute();
    for (const row of rows) positions.set(`${row.username}@${host}`, row.read_id!);
    return positions;
  }

  private async totals(owner: InboxOwner, filter: InboxFilter): Promise<Pick<InboxPage, 'count' | 'activeCount' | 'unreadCount'>> {
    const row = await this.filtered(owner, filter)
      .select((eb) => [
        eb.fn.countAll<number>().as('count'),
        eb.fn.sum<number>(eb.case().when(unreadCountOf(eb), '>', 0).then(1).else(0).end()).as('active'),
        eb.fn.sum<number>(unreadCountOf(eb)).as('unread'),
      ])
      .executeTakeFirstOrThrow();
    return { count: Number(row.count), activeCount: Number(row.active ?? 0), unreadCount: Number(row.unread ?? 0) };
  }

  private filtered(owner: InboxOwner, filter: InboxFilter): SelectQueryBuilder<Database & { e: InboxEntriesTable }, 'e', object> {
    return this.db
      .selectFrom('inbox_entries as e')
      .where('e.host', '=', owner.host)
      .where('e.username', '=', owner.username)
      .where((eb) => filterCondition(eb, filter));
  }

  private async select(owner: InboxOwner, filter: InboxFilter, order: 'asc' | 'desc', limit: number, cursor?: Cursor, offset?: number): Promise<EntryRow[]> {
    let query = this.filtered(owner, filter)
      .selectAll('e')
      .select((eb) => unreadCountOf(eb).as('unread'));
    if (cursor) {
      const op = order === 'desc' ? '<' : '>';
      query = query.where((eb) =>
        eb.or([eb('e.last_at', op, cursor.at), eb.and([eb('e.last_at', '=', cursor.at), eb('e.conversation', op, cursor.conversation)])]),
      );
    }
    query = query.orderBy('e.last_at', order).orderBy('e.conversation', order).limit(limit);
    if (offset !== undefined && offset > 0) query = query.offset(offset);
    return (await query.execute()) as EntryRow[];
  }
}

/** Returns the key columns of one entry, which also select the entry's unread rows. */
function keyOf(owner: InboxOwner, conversation: string): { host: string; username: string; conversation: string } {
  return { host: owner.host, username: owner.username, conversation };
}

/** Builds the row of an entry without a message, read position or flags. */
function newEntry(owner: InboxOwner, conversation: InboxConversation) {
  return {
    host: owner.host,
    username: owner.username,
    conversation: conversation.jid,
    kind: conversation.kind,
    room_service: conversation.room?.service ?? null,
    room_name: conversation.room?.name ?? null,
    last_stanza_id: null,
    last_at: 0,
    last_sender: null,
    last_message_id: null,
    last_origin_id: null,
    last_message: null,
    read_id: null,
    pinned: 0,
    archived: 0,
    muted_until: null,
  } as const;
}

function filterCondition(eb: EntryBuilder, filter: InboxFilter) {
  const conditions = [eb('e.last_stanza_id', 'is not', null)];
  if (filter.start !== undefined) conditions.push(eb('e.last_at', '>=', filter.start));
  if (filter.end !== undefined) conditions.push(eb('e.last_at', '<=', filter.end));
  if (filter.box === 'inbox') conditions.push(eb('e.archived', '=', 0));
  if (filter.box === 'archive') conditions.push(eb('e.archived', '=', 1));
  if (filter.hiddenRead) conditions.push(eb(unreadCountOf(eb), '>', sql.lit(0)));
  return eb.and(conditions);
}

function requireCursor(uid: string): Cursor {
  const cursor = parseInboxCursor(uid);
  if (!cursor) throw new InvalidInboxCursorError(uid);
  return cursor;
}

/** Raised for a page request naming a uid that no inbox page handed out. */
export class InvalidInboxCursorError extends Error {
  constructor(readonly uid: string) {
    super(`Invalid inbox page uid "${uid}"`);
    this.name = 'InvalidInboxCursorError';
  }
}
