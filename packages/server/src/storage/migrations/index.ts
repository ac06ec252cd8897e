import type { Migration } from 'kysely';

import type { DialectName } from '../db.js';
import { accountsMigration } from './0001_accounts.js';
import { rosterMigration } from './0002_roster.js';
import { offlineMessagesMigration } from './0003_offline_messages.js';
import { vcardsMigration } from './0004_vcards.js';
import { privateStorageMigration } from './0005_private_storage.js';
import { invitesMigration } from './0006_invites.js';
import { archiveMigration } from './0007_archive.js';
import { blocklistMigration } from './0008_blocklist.js';
import { mucMigration } from './0009_muc.js';
import { mucArchiveMigration } from './0010_muc_archive.js';
import { pepMigration } from './0011_pep.js';
import { inboxMigration } from './0012_inbox.js';
import { orgMigration } from './0013_org.js';
import { webhooksMigration } from './0014_webhooks.js';
import { directoryMigration } from './0015_directory.js';
import { fastTokensMigration } from './0016_fast_tokens.js';
import { pushMigration } from './0017_push.js';
import { accountOutboxMigration } from './0018_account_outbox.js';
import { uploadsMigration } from './0019_uploads.js';
import { archiveFtsMigration } from './0020_archive_fts.js';

/**
 * Lists every migration for `dialect`. Kysely's Migrator runs them in name
 * order, so a new migration takes the next zero-padded number.
 *
 * Kysely runs SQLite migrations outside a transaction, so each migration
 * uses IF NOT EXISTS and can be rerun after a crash midway.
 */
export function migrations(dialect: DialectName): Record<string, Migration> {
  return {
    '0001_accounts': accountsMigration(dialect),
    '0002_roster': rosterMigration(dialect),
    '0003_offline_messages': offlineMessagesMigration(dialect),
    '0004_vcards': vcardsMigration(dialect),
    '0005_private_storage': privateStorageMigration(dialect),
    '0006_invites': invitesMigration(dialect),
    '0007_archive': archiveMigration(dialect),
    '0008_blocklist': blocklistMigration(dialect),
    '0009_muc': mucMigration(dialect),
    '0010_muc_archive': mucArchiveMigration(dialect),
    '0011_pep': pepMigration(dialect),
    '0012_inbox': inboxMigration(dialect),
    '0013_org': orgMigration(dialect),
    '0014_webhooks': webhooksMigration(dialect),
    '0015_directory': directoryMigration(dialect),
    '0016_fast_tokens': fastTokensMigration(dialect),
    '0017_push': pushMigration(dialect),
    '0018_account_outbox': accountOutboxMigration(dialect),
    '0019_uploads': uploadsMigration(dialect),
    '0020_archive_fts': archiveFtsMigration(dialect),
  };
}
