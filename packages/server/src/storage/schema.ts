import type { ColumnType, Generated } from 'kysely';

/**
 * A 64-bit integer column such as a millisecond timestamp. better-sqlite3
 * returns a number, node-postgres returns a string for bigint, so readers
 * convert with Number().
 */
export type BigIntColumn = ColumnType<number | string, number, number>;

/** An auto-increment bigint key, generated on insert. */
export type SerialColumn = ColumnType<number | string, never, never>;

/** A boolean stored as integer 0 or 1, because SQLite has no boolean type. */
export type Flag = 0 | 1;

/** SCRAM hash functions that credentials are stored for. */
export type ScramHash = 'SHA-1' | 'SHA-256';

/** Roster subscription states (RFC 6121 section 2.1.2.5). */
export type Subscription = 'none' | 'to' | 'from' | 'both';

/** Row of `accounts`, keyed by (host, username). */
export interface AccountsTable {
  host: string;
  username: string;
  created_at: BigIntColumn;
  disabled: Flag;
  /** Password hash of an account imported from another server, in that server's format. */
  legacy_hash: string | null;
}

/** Row of `credentials`: one SCRAM credential per account and hash function. */
export interface CredentialsTable {
  host: string;
  username: string;
  hash: ScramHash;
  /** Base64. */
  salt: string;
  iterations: number;
  /** Base64. */
  stored_key: string;
  /** Base64. */
  server_key: string;
}

/** Row of `roster_items`, keyed by (host, username, contact). */
export interface RosterItemsTable {
  host: string;
  username: string;
  /** Bare JID of the contact. */
  contact: string;
  name: string | null;
  subscription: Subscription;
  /** 1 while our outbound subscribe request waits for a reply. */
  ask: Flag;
  /** 1 while the contact's subscribe request waits for our reply. */
  pending_in: Flag;
  /** The contact's subscribe presence, serialised XML, re-delivered at login. */
  pending_in_stanza: string | null;
  /** 1 when we pre-approved the contact's subscription (RFC 6121 section 3.4). */
  approved: Flag;
  /** 1 when the record keeps only an inbound request and is not a roster item. */
  hidden: Flag;
  /** JSON array of group names. */
  groups: string;
  /** Roster version at the item's last change. */
  version: number;
}

/** Row of `roster_tombstones`: the roster version at which a contact was removed. */
export interface RosterTombstonesTable {
  host: string;
  username: string;
  contact: string;
  version: number;
}

/** Row of `roster_versions`: one per account with a roster. */
export interface RosterVersionsTable {
  host: string;
  username: string;
  version: number;
  /** Highest version among pruned tombstones. Diffs from older versions would miss removals. */
  pruned_version: number;
}

/** Row of `offline_messages`. */
export interface OfflineMessagesTable {
  seq: SerialColumn;
  host: string;
  username: string;
  stanza: string;
  stored_at: BigIntColumn;
  /** UTF-8 length of `stanza`. */
  bytes: number;
}

/** Row of `vcards`: one vcard-temp document per account. */
export interface VcardsTable {
  host: string;
  username: string;
  xml: string;
  updated_at: BigIntColumn;
}

/** Row of `private_storage` (XEP-0049), keyed by (host, username, key). */
export interface PrivateStorageTable {
  host: string;
  username: string;
  /** `${namespace} ${elementName}` of the stored fragment. */
  key: string;
  xml: string;
}

/** Row of `invites`, keyed by the SHA-256 hex hash of the invite token. */
export interface InvitesTable {
  token_hash: string;
  host: string;
  created_at: BigIntColumn;
  /** Null when the invite never expires. */
  expires_at: ColumnType<number | string | null, number | null, number | null>;
  max_uses: number;
  uses: Generated<number>;
  created_by: string | null;
  note: string | null;
}

/** Row of `blocklist` (XEP-0191), keyed by (host, username, jid). */
export interface BlocklistTable {
  host: string;
  username: string;
  /** The blocked address, prepared: a full or bare JID, a domain, or domain/resource. */
  jid: string;
  blocked_at: BigIntColumn;
}

/** Row of `archive_messages`: one message in one account's archive (XEP-0313). */
export interface ArchiveMessagesTable {
  /** Archive order: rows of one archive sort by this key. */
  id: SerialColumn;
  /** Owner of the archive. */
  host: string;
  username: string;
  /** The archive's id for the message (XEP-0359 stanza-id), unique within the archive. */
  stanza_id: string;
  /** Milliseconds since the Unix epoch when the server archived the message. */
  created_at: BigIntColumn;
  /** Bare JID of the other party: the recipient of an outgoing message, the sender of an incoming one. */
  with_bare: string;
  /** Resource of the other party, '' when none. */
  with_resource: string;
  /** Bare JID of the sender, which alone may correct or retract the message. */
  sender: string;
  /** The stanza's 'id' attribute. */
  message_id: string | null;
  /** The sender's XEP-0359 origin-id. */
  origin_id: string | null;
  /** Serialised stanza as archived; a correction or retraction rewrites it. */
  stanza: string;
  /** When a correction (XEP-0308) last rewrote the row. */
  edited_at: ColumnType<number | string | null, number | null | undefined, number | null>;
  /** When a retraction (XEP-0424) replaced the row's content with a tombstone. */
  retracted_at: ColumnType<number | string | null, number | null | undefined, number | null>;
}

/** Row of `archive_tokens`: one search token of one archived message (XEP-0431). */
export interface ArchiveTokensTable {
  host: string;
  username: string;
  token: string;
  /** `archive_messages.id`. */
  message_id: BigIntColumn;
}

/** Row of `archive_prefs`: archiving preferences of one account (XEP-0441). */
export interface ArchivePrefsTable {
  host: string;
  username: string;
  /** 'always', 'never' or 'roster'. */
  default_mode: string;
  /** JSON array of JIDs whose messages are always archived. */
  always_jids: string;
  /** JSON array of JIDs whose messages are never archived. */
  never_jids: string;
}

/** Row of `muc_rooms`: one live multi-user chat room (XEP-0045), temporary or persistent. */
export interface MucRoomsTable {
  /** The MUC service's domain. */
  service: string;
  /** The room's localpart. */
  name: string;
  persistent: Flag;
  /** 1 when the room is listed in the service's disco#items. */
  public: Flag;
  /** JSON of the room configuration. */
  config: string;
  subject: string | null;
  /** Nick of the occupant who set the subject, null when unset or set by the room. */
  subject_nick: string | null;
  /** When the subject was set, in milliseconds since the epoch. */
  subject_at: ColumnType<number | string | null, number | null, number | null>;
  /** Bare JID of the account that created the room. */
  created_by: string;
  created_at: BigIntColumn;
}

/** Row of `muc_affiliations`: the affiliation of one bare JID with one room. */
export interface MucAffiliationsTable {
  service: string;
  name: string;
  /** Bare JID (or a domain, for a ban of a whole server). */
  jid: string;
  /** 'owner', 'admin', 'member' or 'outcast'. */
  affiliation: string;
  /** Reserved nickname, members and above only. */
  nick: string | null;
  reason: string | null;
}

/** Row of `muc_archive_messages`: one message in one room's archive (XEP-0313 for XEP-0045 rooms). */
export interface MucArchiveMessagesTable {
  /** Archive order: rows of one room sort by this key. */
  id: SerialColumn;
  /** The room: `muc_rooms` (service, name). */
  service: string;
  room: string;
  /** The room's id for the message (XEP-0359 stanza-id), unique within the room. */
  stanza_id: string;
  /** Milliseconds since the Unix epoch when the room archived the message. */
  created_at: BigIntColumn;
  /** 'message', or 'subject' for a subject change (a subject and no body). */
  kind: string;
  /** The sender's nickname in the room. */
  nick: string;
  /** Real bare JID of the sender, which alone may correct or retract the message. */
  sender: string;
  /** The stanza's 'id' attribute. */
  message_id: string | null;
  /** The sender's XEP-0359 origin-id. */
  origin_id: string | null;
  /** Serialised stanza as occupants got it, from the occupant JID; a correction or retraction rewrites it. */
  stanza: string;
  /** When a correction (XEP-0308) last rewrote the row. */
  edited_at: ColumnType<number | string | null, number | null | undefined, number | null>;
  /** When a retraction (XEP-0424) replaced the row's content with a tombstone. */
  retracted_at: ColumnType<number | string | null, number | null | undefined, number | null>;
}

/** Row of `muc_archive_tokens`: one search token of one archived room message (XEP-0431). */
export interface MucArchiveTokensTable {
  service: string;
  room: string;
  token: string;
  /** `muc_archive_messages.id`. */
  message_id: BigIntColumn;
}

/** Row of `pep_nodes`: one personal eventing node (XEP-0163) of one account. */
export interface PepNodesTable {
  host: string;
  username: string;
  node: string;
  /** JSON of the node configuration (modules/pep/config.ts). */
  config: string;
  created_at: BigIntColumn;
}

/** Row of `pep_items`: one item published to a PEP node, keyed by (host, username, node, item_id). */
export interface PepItemsTable {
  host: string;
  username: string;
  node: string;
  item_id: string;
  /** Publication order within the node: a higher value was published later. */
  seq: BigIntColumn;
  /** Serialized `<item/>` children: the payload, or '' for an item without one. */
  payload: string;
  /** Full JID of the publishing resource. */
  publisher: string;
  published_at: BigIntColumn;
}

/** Kind of an inbox conversation: a 1:1 chat with an account, or a group (a XEP-0045 room). */
export type InboxKind = 'chat' | 'groupchat';

/** Row of `inbox_entries`: one conversation in one account's inbox, keyed by (host, username, conversation). */
export interface InboxEntriesTable {
  host: string;
  username: string;
  /** Bare JID of the contact or room. */
  conversation: string;
  kind: InboxKind;
  /** The room's `muc_rooms` key for a group entry, so that the entry goes with the room; null for chats. */
  room_service: string | null;
  room_name: string | null;
  /** Stanza id of the last message; null while the entry has only a read position. */
  last_stanza_id: string | null;
  /** Time of the last message in milliseconds since the Unix epoch, 0 without one. */
  last_at: BigIntColumn;
  /** Bare JID of the last message's sender. */
  last_sender: string | null;
  last_message_id: string | null;
  last_origin_id: string | null;
  /** Serialized last message. */
  last_message: string | null;
  /** Stanza id of the last message read; null when nothing was read yet. */
  read_id: string | null;
  pinned: Flag;
  archived: Flag;
  /** Milliseconds since the Unix epoch until which the entry is muted; null when not muted. */
  muted_until: ColumnType<number | string | null, number | null, number | null>;
}

/** Row of `inbox_unread`: one message that counts as unread in an inbox entry. */
export interface InboxUnreadTable {
  host: string;
  username: string;
  conversation: string;
  stanza_id: string;
  /** Bare JID of the sender, who alone may retract the message. */
  sender: string;
  message_id: string | null;
  origin_id: string | null;
}

/** Row of `webhook_endpoints`: a receiver of account events. */
export interface WebhookEndpointsTable {
  id: string;
  /** An http or https URL. */
  url: string;
  /** HMAC-SHA256 key for the signature header; kept as given because signing needs it. */
  secret: string;
  /** JSON array of event types, or ["*"] for every type. */
  events: string;
  description: string | null;
  enabled: Flag;
  created_at: BigIntColumn;
  updated_at: BigIntColumn;
}

/** Delivery states: waiting for its (next) attempt, received with a 2xx answer, or given up. */
export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** Row of `webhook_deliveries`: one event queued for one endpoint. */
export interface WebhookDeliveriesTable {
  id: SerialColumn;
  endpoint_id: string;
  /** Shared by the deliveries of one event to several endpoints; receivers deduplicate by it. */
  event_id: string;
  event_type: string;
  /** The JSON body sent, byte for byte, so that every attempt signs the same text. */
  payload: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  next_attempt_at: BigIntColumn;
  last_attempt_at: ColumnType<number | string | null, number | null, number | null>;
  /** HTTP status of the last answer; null when there was none (timeout, refused connection). */
  last_status: number | null;
  last_error: string | null;
  created_at: BigIntColumn;
  updated_at: BigIntColumn;
}

/** Kind of an organisation group: a department (at most one per account) or a plain group. */
export type OrgGroupKind = 'department' | 'group';

/** Row of `org_groups`: a department or group of one host, keyed by (host, id). */
export interface OrgGroupsTable {
  host: string;
  /** The id the organisation's own system uses, or a generated one. */
  id: string;
  kind: OrgGroupKind;
  name: string;
  parent_id: string | null;
  /** 1 when members see each other in their rosters without subscribing. */
  shared_roster: Flag;
  created_at: BigIntColumn;
  updated_at: BigIntColumn;
}

/** Row of `org_group_members`: one account in one department or group. */
export interface OrgGroupMembersTable {
  host: string;
  group_id: string;
  username: string;
}

/** Row of `account_profiles`: organisation data of one account, keyed by (host, username). */
export interface AccountProfilesTable {
  host: string;
  username: string;
  /** The account's id in the organisation's own system; unique per host when set. */
  external_id: string | null;
  display_name: string | null;
  email: string | null;
  phone: string | null;
  title: string | null;
  /** `org_groups.id` of the account's department. */
  department: string | null;
  /** Hex SHA-1 of the image in `account_avatars`. */
  avatar_sha1: string | null;
  /**
   * Hex SHA-256 of the last legacy hash an upsert applied (its normalized form). It stays
   * after the login upgrade clears `accounts.legacy_hash`, so sending that hash again is no change.
   */
  legacy_hash_sha256: string | null;
  updated_at: BigIntColumn;
}

/** Row of `account_avatars`: the profile picture of one account. */
export interface AccountAvatarsTable {
  host: string;
  username: string;
  /** Media type: image/png, image/jpeg, image/webp or image/gif. */
  type: string;
  /** Hex SHA-1 of `data`. */
  sha1: string;
  data: Buffer;
  updated_at: BigIntColumn;
}

/** Row of `api_tokens`: a bearer token of the admin REST API. */
export interface ApiTokensTable {
  id: string;
  name: string;
  /** Hex SHA-256 of the token's secret part; the secret itself is never stored. */
  secret_hash: string;
  created_at: BigIntColumn;
  last_used_at: ColumnType<number | string | null, number | null, number | null>;
  revoked_at: ColumnType<number | string | null, number | null, number | null>;
}

/** Row of `directory_entries`: what a directory search result shows of one account. */
export interface DirectoryEntriesTable {
  host: string;
  username: string;
  display_name: string | null;
  email: string | null;
  title: string | null;
  department_id: string | null;
  /** The department's name when the row was written; rewritten when the department is renamed. */
  department_name: string | null;
  updated_at: BigIntColumn;
}

/** Row of `directory_terms`: one normalized search term of one account in one field. */
export interface DirectoryTermsTable {
  host: string;
  /** 'text' (name, username, email), 'department' or 'title'. */
  field: string;
  term: string;
  username: string;
}

/** Row of `account_outbox`: an account event parleyctl recorded while no server ran. */
export interface AccountOutboxTable {
  id: SerialColumn;
  /** The server event name, such as 'account/updated'. */
  event: string;
  /** The event object as JSON. */
  payload: string;
  created_at: BigIntColumn;
}

/** Row of `uploads`: an HTTP upload slot (XEP-0363) and, once uploaded, its file. */
export interface UploadsTable {
  /** The random slot id in the file's URL. */
  id: string;
  host: string;
  username: string;
  filename: string;
  size: BigIntColumn;
  content_type: string;
  /** 'slot' (waiting for its PUT), 'uploading' (a PUT is running) or 'stored'. */
  state: string;
  /** SHA-256 of the PUT secret, base64url. */
  secret_hash: string;
  created_at: BigIntColumn;
  /** Time by which the PUT must start. */
  slot_expires_at: BigIntColumn;
  stored_at: BigIntColumn | null;
}

/** All tables of the storage layer, for `Kysely<Database>`. */
export interface Database {
  accounts: AccountsTable;
  credentials: CredentialsTable;
  roster_items: RosterItemsTable;
  roster_tombstones: RosterTombstonesTable;
  roster_versions: RosterVersionsTable;
  offline_messages: OfflineMessagesTable;
  vcards: VcardsTable;
  private_storage: PrivateStorageTable;
  invites: InvitesTable;
  blocklist: BlocklistTable;
  archive_messages: ArchiveMessagesTable;
  archive_tokens: ArchiveTokensTable;
  archive_prefs: ArchivePrefsTable;
  muc_rooms: MucRoomsTable;
  muc_affiliations: MucAffiliationsTable;
  muc_archive_messages: MucArchiveMessagesTable;
  muc_archive_tokens: MucArchiveTokensTable;
  pep_nodes: PepNodesTable;
  pep_items: PepItemsTable;
  inbox_entries: InboxEntriesTable;
  inbox_unread: InboxUnreadTable;
  org_groups: OrgGroupsTable;
  org_group_members: OrgGroupMembersTable;
  account_profiles: AccountProfilesTable;
  account_avatars: AccountAvatarsTable;
  api_tokens: ApiTokensTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  directory_entries: DirectoryEntriesTable;
  directory_terms: DirectoryTermsTable;
  account_outbox: AccountOutboxTable;
  uploads: UploadsTable;
}
