import { sql } from 'kysely';
import type { Expression, ExpressionBuilder, Kysely, Selectable, SqlBool } from 'kysely';

import { type ArchivePageRequest, type MessagePage, readPage } from './archive-paging.js';
import { accountScope, type FtsIndex } from './fts.js';
import type { ArchiveMessagesTable, Database } from './schema.js';
import type { SqliteHotPath } from './sqlite-hot-path.js';

export type { ArchivePageRequest } from './archive-paging.js';

/** A message to add to one account's archive. */
export interface NewArchiveEntry {
  host: string;
  username: string;
  stanzaId: string;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  withBare: string;
  /** '' when the other party's address has no resource. */
  withResource: string;
  /** Bare JID of the sender. */
  sender: string;
  messageId?: string;
  originId?: string;
  /** Serialised stanza. */
  stanza: string;
  /** Full-text search tokens of the message. */
  tokens: string[];
}

/** A message read from an archive. */
export interface ArchivedMessage {
  /** Position in archive order (the table's key). */
  key: number;
  stanzaId: string;
  createdAt: number;
  withBare: string;
  withResource: string;
  sender: string;
  messageId: string | null;
  originId: string | null;
  stanza: string;
  editedAt: number | null;
  retractedAt: number | null;
}

/** Conditions on the messages of an archive. A message matches when it meets every given condition. */
export interface ArchiveFilter {
  /** The other party; without `resource` any resource of `bare` matches. */
  with?: { bare: string; resource?: string };
  /** Inclusive bounds in milliseconds. */
  start?: number;
  end?: number;
  /** Exclusive bounds in archive order (keys). */
  afterKey?: number;
  beforeKey?: number;
  /** Only these keys. */
  keys?: number[];
  /** Search tokens that a message must all contain; an empty list matches nothing. */
  tokens?: string[];
}

/** A page of one account's archive. */
export type ArchivePage = MessagePage<ArchivedMessage>;

/** Default archiving rule for contacts in neither list (XEP-0441). */
export type ArchiveDefault = 'always' | 'never' | 'roster';

/** Archiving preferences of one account (XEP-0441). */
export interface ArchivePrefs {
  default: ArchiveDefault;
  always: string[];
  never: string[];
}

/** New content for an archived message: a correction or a retraction tombstone. */
export interface ArchiveRewrite {
  stanza: string;
  tokens: string[];
  editedAt?: number;
  retractedAt?: number;
}

type Row = Selectable<ArchiveMessagesTable>;
type MessageBuilder = ExpressionBuilder<Database, 'archive_messages'>;

/** Token rows per INSERT. Each row binds 4 parameters, so a chunk stays well below PostgreSQL's limit of 65,535. */
const TOKEN_CHUNK = 200;

/**
 * The per-account message archives (XEP-0313) with their search tokens (XEP-0431) and
 * preferences (XEP-0441). Writes take the executor to run in, normally a batch writer
 * transaction; reads use the database.
 */
export class ArchiveRepository {
  private readonly hot: SqliteHotPath | undefined;
  private readonly tokens: TokenStore;

  /**
   * On SQLite, the search tokens go to `fts`, and with `hot` the writes in a transaction skip
   * Kysely. Without `fts` (PostgreSQL), tokens are rows of `archive_tokens`.
   */
  constructor(
    private readonly db: Kysely<Database>,
    sqlite: { hot?: SqliteHotPath; fts?: FtsIndex } = {},
  ) {
    this.hot = sqlite.hot;
    this.tokens = sqlite.fts ? ftsTokens(sqlite.fts) : tokenRows;
  }

  /** Adds a message and its tokens; returns its key. */
  async append(trx: Kysely<Database>, entry: NewArchiveEntry): Promise<number> {
    if (this.hot && trx.isTransaction) return this.hot.appendArchive(entry);
    // Two cluster nodes on PostgreSQL could commit keys of one archive out of order, and a
    // reader paging by key in between would skip the lower one. Writers lock the account
    // (`accountLock`) until their batch commits, so its keys commit in order.
    const row = await trx
      .insertInto('archive_messages')
      .values({
        host: entry.host,
        username: entry.username,
        stanza_id: entry.stanzaId,
        created_at: entry.createdAt,
        with_bare: entry.withBare,
        with_resource: entry.withResource,
        sender: entry.sender,
        message_id: entry.messageId ?? null,
        origin_id: entry.originId ?? null,
        stanza: entry.stanza,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const key = Number(row.id);
    await this.tokens.add(trx, entry.host, entry.username, key, entry.tokens);
    return key;
  }

  /** Replaces the stanza and tokens of the message with `key`, keeping its id, time and place. */
  async rewrite(trx: Kysely<Database>, host: string, username: string, key: number, change: ArchiveRewrite): Promise<void> {
    const update: { stanza: string; edited_at?: number; retracted_at?: number } = { stanza: change.stanza };
    if (change.editedAt !== undefined) update.edited_at = change.editedAt;
    if (change.retractedAt !== undefined) update.retracted_at = change.retractedAt;
    await trx.updateTable('archive_messages').set(update).where('id', '=', key).execute();
    await this.tokens.remove(trx, key);
    await this.tokens.add(trx, host, username, key, change.tokens);
  }

  /**
   * Finds the latest message from `sender` in the conversation with `withBare` whose 'id'
   * attribute or origin-id is `ref`: the target of a correction or retraction.
   */
  async findReferenced(trx: Kysely<Database>, host: string, username: string, withBare: string, sender: string, ref: string): Promise<ArchivedMessage | undefined> {
    const row = await trx
      .selectFrom('archive_messages')
      .selectAll()
      .where('host', '=', host)
      .where('username', '=', username)
      .where('with_bare', '=', withBare)
      .where('sender', '=', sender)
      .where((eb) => eb.or([eb('message_id', '=', ref), eb('origin_id', '=', ref)]))
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row === undefined ? undefined : toMessage(row);
  }

  /** Returns true when the archive contains a message from `sender` with this origin-id. */
  async hasOriginId(host: string, username: string, sender: string, originId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('archive_messages')
      .select('id')
      .where('host', '=', host)
      .where('username', '=', username)
      .where('origin_id', '=', originId)
      .where('sender', '=', sender)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** Maps the stanza ids that exist in the archive to their keys. */
  async keysOf(host: string, username: string, stanzaIds: string[]): Promise<Map<string, number>> {
    const keys = new Map<string, number>();
    if (stanzaIds.length === 0) return keys;
    const rows = await this.db
      .selectFrom('archive_messages')
      .select(['id', 'stanza_id'])
      .where('host', '=', host)
      .where('username', '=', username)
      .where('stanza_id', 'in', stanzaIds)
      .execute();
    for (const row of rows) keys.set(row.stanza_id, Number(row.id));
    return keys;
  }

  /** Returns one page of the messages matching `filter`, in archive order. */
  async page(host: string, username: string, filter: ArchiveFilter, request: ArchivePageRequest): Promise<ArchivePage> {
    const reader = {
      count: (bounded: ArchiveFilter) => this.count(host, username, bounded),
      select: async (bounded: ArchiveFilter, order: 'asc' | 'desc', limit: number, offset?: number) => {
        let query = this.db
          .selectFrom('archive_messages')
          .selectAll()
          .where((eb) => eb.and(conditions(eb, this.tokens, host, username, bounded)))
          .orderBy('id', order)
          .limit(limit);
        if (offset !== undefined) query = query.offset(offset);
        return (await query.execute()).map(toMessage);
      },
    };
    return readPage(reader, filter, request);
  }

  /** Counts the messages matching `filter`. */
  async count(host: string, username: string, filter: ArchiveFilter): Promise<number> {
    const row = await this.db
      .selectFrom('archive_messages')
      .select((eb) => eb.fn.countAll().as('n'))
      .where((eb) => eb.and(conditions(eb, this.tokens, host, username, filter)))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Returns the first and last message of the archive, or undefined when it is empty. */
  async bounds(host: string, username: string): Promise<{ first: ArchivedMessage; last: ArchivedMessage } | undefined> {
    const edge = (direction: 'asc' | 'desc') =>
      this.db.selectFrom('archive_messages').selectAll().where('host', '=', host).where('username', '=', username).orderBy('id', direction).limit(1).executeTakeFirst();
    const first = await edge('asc');
    const last = await edge('desc');
    if (!first || !last) return undefined;
    return { first: toMessage(first), last: toMessage(last) };
  }

  /** Returns the stanza id of the newest message of all archives, if any. */
  async latestStanzaId(): Promise<string | undefined> {
    const row = await this.db.selectFrom('archive_messages').select('stanza_id').orderBy('id', 'desc').limit(1).executeTakeFirst();
    return row?.stanza_id;
  }

  /** Returns the account's preferences, or undefined when it never set any. */
  async getPrefs(host: string, username: string): Promise<ArchivePrefs | undefined> {
    const row = await this.db.selectFrom('archive_prefs').selectAll().where('host', '=', host).where('username', '=', username).executeTakeFirst();
    if (!row) return undefined;
    return { default: row.default_mode as ArchiveDefault, always: parseJidList(row.always_jids), never: parseJidList(row.never_jids) };
  }

  /** Stores the account's preferences, replacing earlier ones. */
  async setPrefs(host: string, username: string, prefs: ArchivePrefs): Promise<void> {
    const values = { default_mode: prefs.default, always_jids: JSON.stringify(prefs.always), never_jids: JSON.stringify(prefs.never) };
    await this.db
      .insertInto('archive_prefs')
      .values({ host, username, ...values })
      .onConflict((oc) => oc.columns(['host', 'username']).doUpdateSet(values))
      .execute();
  }
}

function conditions(eb: MessageBuilder, tokens: TokenStore, host: string, username: string, filter: ArchiveFilter): Expression<SqlBool>[] {
  const list: Expression<SqlBool>[] = [eb('host', '=', host), eb('username', '=', username)];
  if (filter.with) {
    list.push(eb('with_bare', '=', filter.with.bare));
    if (filter.with.resource !== undefined) list.push(eb('with_resource', '=', filter.with.resource));
  }
  if (filter.start !== undefined) list.push(eb('created_at', '>=', filter.start));
  if (filter.end !== undefined) list.push(eb('created_at', '<=', filter.end));
  if (filter.afterKey !== undefined) list.push(eb('id', '>', filter.afterKey));
  if (filter.beforeKey !== undefined) list.push(eb('id', '<', filter.beforeKey));
  if (filter.keys !== undefined) list.push(filter.keys.length === 0 ? sql<SqlBool>`1 = 0` : eb('id', 'in', filter.keys));
  if (filter.tokens !== undefined) list.push(tokens.condition(eb, host, username, filter.tokens));
  return list;
}

/** Storage of an archive's search tokens. */
interface TokenStore {
  add(trx: Kysely<Database>, host: string, username: string, key: number, tokens: string[]): Promise<void>;
  remove(trx: Kysely<Database>, key: number): Promise<void>;
  /** Returns a condition for the messages of the archive that contain every token, none for no tokens. */
  condition(eb: MessageBuilder, host: string, username: string, tokens: string[]): Expression<SqlBool>;
}

/** Tokens as rows of `archive_tokens`, grouped and counted to match (the key makes each token count once). */
const tokenRows: TokenStore = {
  async add(trx, host, username, key, tokens) {
    const unique = [...new Set(tokens)];
    for (let start = 0; start < unique.length; start += TOKEN_CHUNK) {
      const rows = unique.slice(start, start + TOKEN_CHUNK).map((token) => ({ host, username, token, message_id: key }));
      await trx.insertInto('archive_tokens').values(rows).execute();
    }
  },

  async remove(trx, key) {
    await trx.deleteFrom('archive_tokens').where('message_id', '=', key).execute();
  },

  condition(eb, host, username, tokens) {
    const unique = [...new Set(tokens)];
    if (unique.length === 0) return sql<SqlBool>`1 = 0`;
    const matching = eb
      .selectFrom('archive_tokens')
      .select('archive_tokens.message_id')
      .where('archive_tokens.host', '=', host)
      .where('archive_tokens.username', '=', username)
      .where('archive_tokens.token', 'in', unique)
      .groupBy('archive_tokens.message_id')
      .having((having) => having.fn.countAll(), '=', unique.length);
    return eb('archive_messages.id', 'in', matching);
  },
};

/** Tokens in SQLite's FTS5 table `archive_fts`, under the owner's bare JID. */
function ftsTokens(fts: FtsIndex): TokenStore {
  return {
    add: (trx, host, username, key, tokens) => fts.add(trx, accountScope(host, username), key, tokens),
    remove: (trx, key) => fts.remove(trx, key),
    condition(_eb, host, username, tokens) {
      if (tokens.length === 0) return sql<SqlBool>`1 = 0`;
      return sql<SqlBool>`${sql.ref('archive_messages.id')} in (${fts.matching(accountScope(host, username), tokens)})`;
    },
  };
}

function toMessage(row: Row): ArchivedMessage {
  return {
    key: Number(row.id),
    stanzaId: row.stanza_id,
    createdAt: Number(row.created_at),
    withBare: row.with_bare,
    withResource: row.with_resource,
    sender: row.sender,
    messageId: row.message_id,
    originId: row.origin_id,
    stanza: row.stanza,
    editedAt: row.edited_at === null ? null : Number(row.edited_at),
    retractedAt: row.retracted_at === null ? null : Number(row.retracted_at),
  };
}

function parseJidList(json: string): string[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
