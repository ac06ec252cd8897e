import type { NewArchiveEntry } from './archive.js';
import type { SqliteStatements } from './db.js';
import { accountScope, type FtsIndex, ftsTerms } from './fts.js';
import type { InboxConversation, InboxMessage, InboxOwner } from './inbox.js';

const INSERT_ARCHIVE = `insert into archive_messages
  (host, username, stanza_id, created_at, with_bare, with_resource, sender, message_id, origin_id, stanza)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const UPSERT_INBOX_LAST = `insert into inbox_entries
  (host, username, conversation, kind, room_service, room_name,
   last_stanza_id, last_at, last_sender, last_message_id, last_origin_id, last_message,
   read_id, pinned, archived, muted_until)
  values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null, 0, 0, null)
  on conflict (host, username, conversation) do update set
    last_stanza_id = excluded.last_stanza_id, last_at = excluded.last_at, last_sender = excluded.last_sender,
    last_message_id = excluded.last_message_id, last_origin_id = excluded.last_origin_id, last_message = excluded.last_message
  where inbox_entries.last_stanza_id is null or inbox_entries.last_stanza_id < excluded.last_stanza_id
  returning archived`;

const INSERT_INBOX_UNREAD = `insert into inbox_unread (host, username, conversation, stanza_id, sender, message_id, origin_id)
  select host, username, conversation, ?, ?, ?, ? from inbox_entries
  where host = ? and username = ? and conversation = ? and (read_id is null or read_id < ?)
  on conflict (host, username, conversation, stanza_id) do nothing`;

const UNARCHIVE_INBOX = `update inbox_entries set archived = 0
  where host = ? and username = ? and conversation = ? and archived = 1`;

const UPSERT_INBOX_READ = `insert into inbox_entries
  (host, username, conversation, kind, room_service, room_name,
   last_stanza_id, last_at, last_sender, last_message_id, last_origin_id, last_message,
   read_id, pinned, archived, muted_until)
  values (?, ?, ?, ?, ?, ?, null, 0, null, null, null, null, ?, 0, 0, null)
  on conflict (host, username, conversation) do update set read_id = excluded.read_id
  where inbox_entries.read_id is null or inbox_entries.read_id < excluded.read_id`;

const CLEAR_INBOX_UNREAD = `delete from inbox_unread
  where host = ? and username = ? and conversation = ? and stanza_id <= ?`;

/**
 * The hottest writes of a 1:1 message as cached prepared statements, for SQLite only:
 * building them with Kysely cost more CPU than running them. Each method does what the
 * repository method of the same job does on the Kysely path, and must run inside the
 * transaction that its caller holds on the connection (see SqliteStatements).
 */
export class SqliteHotPath {
  constructor(
    private readonly statements: SqliteStatements,
    private readonly fts: FtsIndex,
  ) {}

  /** Adds an archive row and its tokens, and returns the row's key. */
  appendArchive(entry: NewArchiveEntry): number {
    const result = this.statements
      .prepare(INSERT_ARCHIVE)
      .run(
        entry.host,
        entry.username,
        entry.stanzaId,
        entry.createdAt,
        entry.withBare,
        entry.withResource,
        entry.sender,
        entry.messageId ?? null,
        entry.originId ?? null,
        entry.stanza,
      );
    const key = Number(result.lastInsertRowid);
    this.insertTokens(entry.host, entry.username, key, entry.tokens);
    return key;
  }

  /** Indexes the `tokens` of message `key` for search. */
  insertTokens(host: string, username: string, key: number, tokens: string[]): void {
    if (tokens.length === 0) return;
    this.statements.prepare(this.fts.insertSql).run(key, ftsTerms(accountScope(host, username), tokens));
  }

  /** InboxRepository.addMessage on SQLite. */
  addInboxMessage(owner: InboxOwner, conversation: InboxConversation, message: InboxMessage, unread: boolean): void {
    const key = [owner.host, owner.username, conversation.jid];
    const messageId = message.messageId ?? null;
    const originId = message.originId ?? null;
    const upserted = this.statements
      .prepare(UPSERT_INBOX_LAST)
      .get(...entryKey(owner, conversation), message.stanzaId, message.at, message.sender, messageId, originId, message.stanza) as { archived: number } | undefined;
    if (!unread) return;

    const added = this.statements.prepare(INSERT_INBOX_UNREAD).run(message.stanzaId, message.sender, messageId, originId, ...key, message.stanzaId);
    if (added.changes === 0) return;
    // The upsert returns no row when it kept a newer last message, so the flag is unknown then.
    if (upserted?.archived === 0) return;
    this.statements.prepare(UNARCHIVE_INBOX).run(...key);
  }

  /** InboxRepository.moveRead on SQLite. */
  moveInboxRead(owner: InboxOwner, conversation: InboxConversation, stanzaId: string): number | undefined {
    const moved = this.statements.prepare(UPSERT_INBOX_READ).run(...entryKey(owner, conversation), stanzaId);
    if (moved.changes === 0) return undefined;
    return this.statements.prepare(CLEAR_INBOX_UNREAD).run(owner.host, owner.username, conversation.jid, stanzaId).changes;
  }
}

/** Lists the columns that identify and describe an entry, in the order the inbox upserts bind them. */
function entryKey(owner: InboxOwner, conversation: InboxConversation): [string, string, string, string, string | null, string | null] {
  return [owner.host, owner.username, conversation.jid, conversation.kind, conversation.room?.service ?? null, conversation.room?.name ?? null];
}
