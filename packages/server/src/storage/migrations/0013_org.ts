import type { Kysely, Migration } from 'kysely';

import type { DialectName } from '../db.js';

/**
 * Creates the organisation model: `org_groups` (departments and groups) with their
 * `org_group_members`, `account_profiles` and `account_avatars` (one row per account,
 * cascading from `accounts`), and `api_tokens` for the admin REST API.
 */
export function orgMigration(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await createGroups(db);
      await createProfiles(db);
      await createAvatars(db, dialect);
      await createTokens(db);
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('api_tokens').ifExists().execute();
      await db.schema.dropTable('account_avatars').ifExists().execute();
      await db.schema.dropIndex('account_profiles_department_idx').ifExists().execute();
      await db.schema.dropIndex('account_profiles_external_id_idx').ifExists().execute();
      await db.schema.dropTable('account_profiles').ifExists().execute();
      await db.schema.dropIndex('org_group_members_account_idx').ifExists().execute();
      await db.schema.dropTable('org_group_members').ifExists().execute();
      await db.schema.dropIndex('org_groups_parent_idx').ifExists().execute();
      await db.schema.dropTable('org_groups').ifExists().execute();
    },
  };
}

async function createGroups(db: Kysely<unknown>): Promise<void> {
  // The parent reference has no ON DELETE action: the repository refuses to delete a group with children.
  await db.schema
    .createTable('org_groups')
    .ifNotExists()
    .addColumn('host', 'text', (col) => col.notNull())
    .addColumn('id', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('parent_id', 'text')
    .addColumn('shared_roster', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('org_groups_pk', ['host', 'id'])
    .addForeignKeyConstraint('org_groups_parent_fk', ['host', 'parent_id'], 'org_groups', ['host', 'id'])
    .execute();
  await db.schema.createIndex('org_groups_parent_idx').ifNotExists().on('org_groups').columns(['host', 'parent_id']).execute();

  await db.schema
    .createTable('org_group_members')
    .ifNotExists()
    .addColumn('host', 'text', (col) => col.notNull())
    .addColumn('group_id', 'text', (col) => col.notNull())
    .addColumn('username', 'text', (col) => col.notNull())
    .addPrimaryKeyConstraint('org_group_members_pk', ['host', 'group_id', 'username'])
    .addForeignKeyConstraint('org_group_members_group_fk', ['host', 'group_id'], 'org_groups', ['host', 'id'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('org_group_members_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('org_group_members_account_idx').ifNotExists().on('org_group_members').columns(['host', 'username']).execute();
}

async function createProfiles(db: Kysely<unknown>): Promise<void> {
  // The department reference has no ON DELETE action, because SET NULL would null the host
  // too: the repository clears the profiles before it deletes a department.
  await db.schema
    .createTable('account_profiles')
    .ifNotExists()
    .addColumn('host', 'text', (col) => col.notNull())
    .addColumn('username', 'text', (col) => col.notNull())
    .addColumn('external_id', 'text')
    .addColumn('display_name', 'text')
    .addColumn('email', 'text')
    .addColumn('phone', 'text')
    .addColumn('title', 'text')
    .addColumn('department', 'text')
    .addColumn('avatar_sha1', 'text')
    .addColumn('legacy_hash_sha256', 'text')
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('account_profiles_pk', ['host', 'username'])
    .addForeignKeyConstraint('account_profiles_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) => fk.onDelete('cascade'))
    .addForeignKeyConstraint('account_profiles_department_fk', ['host', 'department'], 'org_groups', ['host', 'id'])
    .execute();

  // SQLite and PostgreSQL both let a unique index hold many NULLs, so only set ids must be unique.
  await db.schema
    .createIndex('account_profiles_external_id_idx')
    .ifNotExists()
    .unique()
    .on('account_profiles')
    .columns(['host', 'external_id'])
    .execute();
  await db.schema
    .createIndex('account_profiles_department_idx')
    .ifNotExists()
    .on('account_profiles')
    .columns(['host', 'department', 'username'])
    .execute();
}

async function createAvatars(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  // PostgreSQL has no blob type; bytea is its binary column.
  const binary = dialect === 'postgres' ? 'bytea' : 'blob';
  await db.schema
    .createTable('account_avatars')
    .ifNotExists()
    .addColumn('host', 'text', (col) => col.notNull())
    .addColumn('username', 'text', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('sha1', 'text', (col) => col.notNull())
    .addColumn('data', binary, (col) => col.notNull())
    .addColumn('updated_at', 'bigint', (col) => col.notNull())
    .addPrimaryKeyConstraint('account_avatars_pk', ['host', 'username'])
    .addForeignKeyConstraint('account_avatars_account_fk', ['host', 'username'], 'accounts', ['host', 'username'], (fk) => fk.onDelete('cascade'))
    .execute();
}

async function createTokens(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('api_tokens')
    .ifNotExists()
    .addColumn('id', 'text', (col) => col.primaryKey())
    .addColumn('name', 'text', (col) => col.notNull())
    .addColumn('secret_hash', 'text', (col) => col.notNull())
    .addColumn('created_at', 'bigint', (col) => col.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
}
