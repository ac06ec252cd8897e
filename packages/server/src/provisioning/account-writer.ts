import { createHash } from 'node:crypto';

import type { Kysely } from 'kysely';

import { ApiProblem, invalidField, notFound } from '../admin/problem.js';
import { FastTokens } from '../auth/fast-tokens.js';
import { insertCredentials, type StoredScramCredential } from '../storage/accounts.js';
import { OrgGroupRepository } from '../storage/org-groups.js';
import { ProfileRepository, type AccountProfile } from '../storage/profiles.js';
import type { Database } from '../storage/schema.js';
import type { ValidAccountInput } from './account-input.js';

/** The write of one upsert: the target account, whether to create it, and the validated fields. */
export interface AccountWritePlan {
  host: string;
  username: string;
  create: boolean;
  input: ValidAccountInput;
  /** New SCRAM credentials when the password changes; undefined keeps the current ones. */
  credentials: StoredScramCredential[] | undefined;
  now: number;
}

/** API names of the fields a write changed; `disabled` and `password` included. */
export type ChangedFields = string[];

/** What one write did: the account's changed fields, and a department it created or renamed on the way. */
export interface AccountWriteResult {
  changed: ChangedFields;
  department?: { id: string; changed: 'created' | 'name' };
}

const PROFILE_FIELDS = [
  ['externalId', 'external_id'],
  ['displayName', 'display_name'],
  ['email', 'email'],
  ['phone', 'phone'],
  ['title', 'title'],
] as const;

/**
 * Writes the account, its credentials or legacy hash, profile, avatar and memberships
 * with `trx`, which must be a transaction. Returns the API names of the changed fields.
 * Throws ApiProblem when the account appeared or vanished since the plan was made, or
 * when a department or group reference is invalid. The transaction then rolls back.
 */
export async function writeAccount(trx: Kysely<Database>, plan: AccountWritePlan): Promise<AccountWriteResult> {
  const { host, username, input } = plan;
  const account = await trx.selectFrom('accounts').select(['disabled', 'legacy_hash']).where('host', '=', host).where('username', '=', username).executeTakeFirst();
  if (plan.create && account !== undefined) throw new ApiProblem(409, 'Conflict', `The account ${username} was created by another request.`, { field: 'username' });
  if (!plan.create && account === undefined) throw notFound(`The account ${username}`);

  const changed: ChangedFields = [];
  if (plan.create) {
    await trx
      .insertInto('accounts')
      .values({ host, username, created_at: plan.now, disabled: input.disabled ? 1 : 0, legacy_hash: input.legacyHash ?? null })
      .execute();
  } else if (input.disabled !== undefined && input.disabled !== (account!.disabled === 1)) {
    await trx.updateTable('accounts').set({ disabled: input.disabled ? 1 : 0 }).where('host', '=', host).where('username', '=', username).execute();
    changed.push('disabled');
  }

  if (await writePassword(trx, plan, account?.legacy_hash ?? null)) changed.push('password');
  // FAST tokens die with the password, and with the account's right to log in.
  if (changed.includes('password') || (changed.includes('disabled') && input.disabled === true)) await FastTokens.revokeAccount(trx, host, username);
  const department = input.department == null ? undefined : await ensureDepartment(trx, host, input.department, input.departmentName, plan.now);
  changed.push(...(await writeProfile(trx, plan)));
  if (input.groups !== undefined && (await writeGroups(trx, host, username, input.groups))) changed.push('groups');
  return { changed: plan.create ? [] : changed, ...(department === undefined ? {} : { department }) };
}

/** Stores new credentials or a new legacy hash; returns whether anything changed. */
async function writePassword(trx: Kysely<Database>, plan: AccountWritePlan, storedLegacyHash: string | null): Promise<boolean> {
  const { host, username } = plan;
  if (plan.credentials !== undefined) {
    await trx.deleteFrom('credentials').where('host', '=', host).where('username', '=', username).execute();
    await insertCredentials(trx, host, username, plan.credentials);
    if (storedLegacyHash !== null) await trx.updateTable('accounts').set({ legacy_hash: null }).where('host', '=', host).where('username', '=', username).execute();
    return !plan.create;
  }
  return writeLegacyHash(trx, plan, storedLegacyHash);
}

/**
 * Stores the input's legacy hash unless it is the one applied last, and records its
 * digest; returns whether the account's password changed.
 */
async function writeLegacyHash(trx: Kysely<Database>, plan: AccountWritePlan, storedLegacyHash: string | null): Promise<boolean> {
  const { host, username, input } = plan;
  if (input.legacyHash === undefined) return false;
  const profiles = new ProfileRepository(trx);
  const digest = legacyHashDigest(input.legacyHash);
  if (plan.create) {
    await profiles.setLegacyHashDigest(host, username, digest, plan.now);
    return false;
  }

  // The login upgrade clears accounts.legacy_hash but keeps the digest, so resending the hash
  // applied last changes nothing, even after the account moved to SCRAM keys.
  const applied = await profiles.getLegacyHashDigest(host, username);
  if (applied === digest) return false;
  // A hash stored without a digest (written to accounts.legacy_hash directly) gets one now.
  if (applied === null && input.legacyHash === storedLegacyHash) {
    await profiles.setLegacyHashDigest(host, username, digest, plan.now);
    return false;
  }

  // Another hash means the old system changed the password: it replaces whatever password
  // the account had, SCRAM keys included.
  await trx.deleteFrom('credentials').where('host', '=', host).where('username', '=', username).execute();
  await trx.updateTable('accounts').set({ legacy_hash: input.legacyHash }).where('host', '=', host).where('username', '=', username).execute();
  await profiles.setLegacyHashDigest(host, username, digest, plan.now);
  return true;
}

/** Returns the hex SHA-256 of a normalized legacy hash, the form `account_profiles` keeps. */
function legacyHashDigest(encoded: string): string {
  return createHash('sha256').update(encoded, 'utf8').digest('hex');
}

/** Updates the profile, department membership and avatar; returns the API names of the changed fields. */
async function writeProfile(trx: Kysely<Database>, plan: AccountWritePlan): Promise<ChangedFields> {
  const { host, username, input, now } = plan;
  const profiles = new ProfileRepository(trx);
  const current = (await profiles.get(host, username)) ?? emptyProfile(host, username, now);
  const next: AccountProfile = { ...current };
  const changed: ChangedFields = [];

  for (const [key, apiName] of PROFILE_FIELDS) {
    const value = input[key];
    if (value === undefined || value === current[key]) continue;
    next[key] = value;
    changed.push(apiName);
  }

  if (input.department !== undefined) {
    if (input.department !== current.department) {
      next.department = input.department;
      changed.push('department');
      await new OrgGroupRepository(trx).setGroupsOf(host, username, 'department', input.department === null ? [] : [input.department]);
    }
  }

  if (input.avatar !== undefined && (input.avatar?.sha1 ?? null) !== current.avatarSha1) {
    await profiles.setAvatar(host, username, input.avatar, now);
    next.avatarSha1 = input.avatar?.sha1 ?? null;
    changed.push('avatar');
  }

  if (changed.length > 0) await profiles.upsert({ ...next, updatedAt: now });
  return changed;
}

/**
 * Creates an unknown department, renames a known one to `name`, and rejects an id that
 * belongs to a group. Returns what it did, or undefined when the department was current.
 */
async function ensureDepartment(
  trx: Kysely<Database>,
  host: string,
  id: string,
  name: string | undefined,
  now: number,
): Promise<{ id: string; changed: 'created' | 'name' } | undefined> {
  const groups = new OrgGroupRepository(trx);
  const existing = await groups.get(host, id);
  if (existing?.kind === 'group') throw invalidField('department', `${id} is a group, not a department.`);
  if (existing !== null && (name === undefined || name === existing.name)) return undefined;

  await groups.upsert({
    host,
    id,
    kind: 'department',
    name: name ?? id,
    parentId: existing?.parentId ?? null,
    sharedRoster: existing?.sharedRoster ?? false,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  });
  return { id, changed: existing === null ? 'created' : 'name' };
}

/** Replaces the account's memberships in groups of kind 'group'; returns whether they changed. */
async function writeGroups(trx: Kysely<Database>, host: string, username: string, ids: string[]): Promise<boolean> {
  const groups = new OrgGroupRepository(trx);
  for (const [index, id] of ids.entries()) {
    const group = await groups.get(host, id);
    if (group === null) throw invalidField(`groups/${index}`, `The group ${id} does not exist.`);
    if (group.kind !== 'group') throw invalidField(`groups/${index}`, `${id} is a department; set it as the department instead.`);
  }

  const current = (await groups.groupsOf(host, username)).filter((group) => group.kind === 'group').map((group) => group.id);
  if (current.length === ids.length && current.every((id) => ids.includes(id))) return false;
  await groups.setGroupsOf(host, username, 'group', ids);
  return true;
}

function emptyProfile(host: string, username: string, now: number): AccountProfile {
  return { host, username, externalId: null, displayName: null, email: null, phone: null, title: null, department: null, avatarSha1: null, updatedAt: now };
}
