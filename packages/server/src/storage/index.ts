import type { Kysely } from 'kysely';

import { AccountOutboxRepository } from './account-outbox.js';
import { AccountRepository } from './accounts.js';
import { ApiTokenRepository } from './api-tokens.js';
import { ArchiveRepository } from './archive.js';
import { BatchWriter } from './batch-writer.js';
import { takeAdvisoryLocks } from './advisory-locks.js';
import { BlocklistRepository } from './blocklist.js';
import { DirectoryRepository } from './directory.js';
import { migrateToLatest, openSqlite } from './db.js';
import type { DialectName, SqliteStatements } from './db.js';
import { FtsIndex } from './fts.js';
import { InboxRepository } from './inbox.js';
import { InviteRepository } from './invites.js';
import { LegacyHashRepository } from './legacy-hashes.js';
import { MucArchiveRepository } from './muc-archive.js';
import { MucRoomRepository } from './muc-rooms.js';
import { OfflineRepository } from './offline.js';
import { OrgGroupRepository } from './org-groups.js';
import { PepRepository } from './pep.js';
import { openPostgres } from './postgres.js';
import type { PostgresConnection } from './postgres.js';
import { PrivateStorageRepository } from './private-storage.js';
import { ProfileRepository } from './profiles.js';
import { RosterRepository } from './roster.js';
import { SharedRosterRepository } from './shared-roster.js';
import { SqliteHotPath } from './sqlite-hot-path.js';
import type { Database } from './schema.js';
import { UploadRepository } from './uploads.js';
import { VcardRepository } from './vcards.js';
import { WebhookRepository } from './webhooks.js';

export { AccountOutboxRepository } from './account-outbox.js';
export type { OutboxEntry } from './account-outbox.js';
export { AccountExistsError, AccountNotFoundError, AccountRepository } from './accounts.js';
export type { AccountInfo, AccountListOptions, StoredScramCredential } from './accounts.js';
export { ApiTokenRepository } from './api-tokens.js';
export type { ApiToken } from './api-tokens.js';
export { ArchiveRepository } from './archive.js';
export { accountLock } from './advisory-locks.js';
export type { MessagePage } from './archive-paging.js';
export type { ArchiveDefault, ArchiveFilter, ArchivePage, ArchivePageRequest, ArchivePrefs, ArchiveRewrite, ArchivedMessage, NewArchiveEntry } from './archive.js';
export { BatchWriter } from './batch-writer.js';
export type { BatchWrite, BatchWriterOptions, BatchWriterStats } from './batch-writer.js';
export { BlocklistRepository } from './blocklist.js';
export type { DialectName } from './db.js';
export { DirectoryRepository } from './directory.js';
export type { DirectoryEntry, DirectoryField, DirectoryPage, DirectoryPageRequest, DirectoryQuery, DirectoryTerms } from './directory.js';
export { InboxRepository, InvalidInboxCursorError, inboxCursor, parseInboxCursor } from './inbox.js';
export type { InboxConversation, InboxEntry, InboxFilter, InboxFlags, InboxMessage, InboxOwner, InboxPage, InboxPageRequest } from './inbox.js';
export { InviteRepository } from './invites.js';
export { LegacyHashRepository } from './legacy-hashes.js';
export type { Invite, NewInvite } from './invites.js';
export { MucArchiveRepository, roomKeyString } from './muc-archive.js';
export type { MucArchiveFilter, MucArchiveKind, MucArchivedMessage, NewMucArchiveEntry, RoomKey } from './muc-archive.js';
export { MucRoomRepository } from './muc-rooms.js';
export type { AffiliatedRoom, StoredAffiliation, StoredRoom } from './muc-rooms.js';
export { OfflineRepository } from './offline.js';
export type { OfflineMessage } from './offline.js';
export { OrgGroupInUseError, OrgGroupRepository } from './org-groups.js';
export type { OrgGroup, OrgGroupPage } from './org-groups.js';
export { PepRepository } from './pep.js';
export { DatabaseUnavailableError, describeTarget } from './postgres.js';
export type { PostgresConnection } from './postgres.js';
export type { PepPublishOptions, StoredPepItem, StoredPepNode } from './pep.js';
export { PrivateStorageRepository, privateStorageKey } from './private-storage.js';
export { ProfileRepository } from './profiles.js';
export type { AccountProfile, ProfileListEntry, ProfileListOptions, StoredAvatar } from './profiles.js';
export { RosterRepository } from './roster.js';
export type { RosterChanges, RosterItem } from './roster.js';
export { SharedRosterRepository } from './shared-roster.js';
export type { SharedRosterEntry } from './shared-roster.js';
export { UploadRepository } from './uploads.js';
export type { NewUploadSlot, StoredFile, UploadRecord, UploadState } from './uploads.js';
export type { Database, InboxKind, OrgGroupKind, ScramHash, Subscription } from './schema.js';
export { VcardRepository } from './vcards.js';
export type { StoredVcard } from './vcards.js';
export { WebhookRepository } from './webhooks.js';
export type { DueDelivery, NewWebhookEndpoint, QueuedEvent, WebhookDelivery, WebhookEndpoint, WebhookEndpointChanges } from './webhooks.js';

/** The opened database with one repository per concern. */
export interface Storage {
  db: Kysely<Database>;
  dialect: DialectName;
  /** Group commit for durable writes: archive, offline, inbox and PEP writes go through it. */
  batch: BatchWriter;
  accounts: AccountRepository;
  /** Password hashes of imported accounts until their first login replaces them. */
  legacyHashes: LegacyHashRepository;
  roster: RosterRepository;
  offline: OfflineRepository;
  vcards: VcardRepository;
  privateStorage: PrivateStorageRepository;
  invites: InviteRepository;
  blocklist: BlocklistRepository;
  archive: ArchiveRepository;
  /** Multi-user chat rooms and their affiliations (XEP-0045). */
  mucRooms: MucRoomRepository;
  /** Room message archives (XEP-0313 for XEP-0045 rooms). */
  mucArchive: MucArchiveRepository;
  /** Personal eventing (XEP-0163) nodes and items. */
  pep: PepRepository;
  /** Conversation lists with unread counts (the inbox). */
  inbox: InboxRepository;
  /** Account profiles (external id, contact data, department) and avatars. */
  profiles: ProfileRepository;
  /** Departments and groups with their members. */
  orgGroups: OrgGroupRepository;
  /** Bearer tokens of the admin REST API. */
  apiTokens: ApiTokenRepository;
  /** Webhook endpoints and the queue of their deliveries. */
  webhooks: WebhookRepository;
  /** Search index of the organisation directory (XEP-0055). */
  directory: DirectoryRepository;
  /** Contacts that shared roster groups put in rosters. */
  sharedRoster: SharedRosterRepository;
  /** Account events parleyctl recorded while no server ran, replayed at the next start. */
  accountOutbox: AccountOutboxRepository;
  /** HTTP upload slots and the metadata of uploaded files (XEP-0363). */
  uploads: UploadRepository;
  /** Commits queued batch writes and closes the database. The Storage is unusable afterwards. */
  close(): Promise<void>;
}

/** SQLite storage location: a file path, or ':memory:' for throwaway tests. */
export interface SqliteStorageOptions {
  driver: 'sqlite';
  path: string;
}

/** PostgreSQL connection: a URL, with the password in it or apart. */
export interface PostgresStorageOptions extends PostgresConnection {
  driver: 'postgres';
}

/** Storage backend selection. */
export type StorageOptions = SqliteStorageOptions | PostgresStorageOptions;

/** The `[storage]` section of the configuration. */
export interface StorageConfig {
  driver: DialectName;
  path: string;
  url: string;
  password: string;
  pool_size: number;
}

/** Builds storage options from the `[storage]` configuration section. `onIdleError` receives PostgreSQL's dropped idle connections. */
export function storageOptionsFrom(config: StorageConfig, onIdleError?: (error: Error) => void): StorageOptions {
  if (config.driver === 'sqlite') return { driver: 'sqlite', path: config.path };
  return { driver: 'postgres', url: config.url, password: config.password, poolSize: config.pool_size, onIdleError };
}

/** Opens the database, runs pending migrations and returns the repositories. */
export async function openStorage(options: StorageOptions): Promise<Storage> {
  if (options.driver === 'postgres') {
    const db = await openPostgres(options);
    await migrateOrClose(db, 'postgres');
    return createStorage(db, 'postgres');
  }

  const { db, statements } = openSqlite(options.path);
  await migrateOrClose(db, 'sqlite');
  return createStorage(db, 'sqlite', statements);
}

async function migrateOrClose(db: Kysely<Database>, dialect: DialectName): Promise<void> {
  try {
    await migrateToLatest(db, dialect);
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

/** `statements` serve the hot paths on SQLite; other dialects build every query with Kysely. */
function createStorage(db: Kysely<Database>, dialect: DialectName, statements?: SqliteStatements): Storage {
  // Cluster nodes that share PostgreSQL may write one archive at once; SQLite has one writer.
  const batch = new BatchWriter(db, { statements, lockNames: dialect === 'postgres' ? takeAdvisoryLocks : undefined });
  const archiveFts = dialect === 'sqlite' ? new FtsIndex('archive_fts') : undefined;
  const mucArchiveFts = dialect === 'sqlite' ? new FtsIndex('muc_archive_fts') : undefined;
  const hot = statements && archiveFts && new SqliteHotPath(statements, archiveFts);
  return {
    db,
    dialect,
    batch,
    accounts: new AccountRepository(db, { tokenRows: dialect !== 'sqlite' }),
    legacyHashes: new LegacyHashRepository(db),
    roster: new RosterRepository(db),
    offline: new OfflineRepository(db, batch),
    vcards: new VcardRepository(db),
    privateStorage: new PrivateStorageRepository(db),
    invites: new InviteRepository(db),
    blocklist: new BlocklistRepository(db),
    archive: new ArchiveRepository(db, { hot, fts: archiveFts }),
    mucRooms: new MucRoomRepository(db),
    mucArchive: new MucArchiveRepository(db, mucArchiveFts),
    pep: new PepRepository(db, batch),
    inbox: new InboxRepository(db, hot),
    profiles: new ProfileRepository(db),
    orgGroups: new OrgGroupRepository(db),
    apiTokens: new ApiTokenRepository(db),
    webhooks: new WebhookRepository(db),
    directory: new DirectoryRepository(db),
    sharedRoster: new SharedRosterRepository(db),
    accountOutbox: new AccountOutboxRepository(db),
    uploads: new UploadRepository(db),
    close: async () => {
      await batch.close();
      await db.destroy();
    },
  };
}
