import { StreamError, jid } from '@parley/xmpp';

import { deleteAccount as deleteStoredAccount, type AccountContext } from '../accounts.js';
import { ApiProblem, invalidField, notFound } from '../admin/problem.js';
import { deriveCredentials, verifyPassword } from '../auth/credentials.js';
import type { ServerContext } from '../core/context.js';
import { validUsername, validateAccountInput, type AccountInput, type ValidAccountInput } from './account-input.js';
import { writeAccount } from './account-writer.js';

export type { AccountInput } from './account-input.js';

/** The outcome of `upsertAccount`: `changed` lists API field names, empty when nothing changed. */
export interface UpsertResult {
  username: string;
  created: boolean;
  changed: string[];
}

/** Options of `upsertAccount`: how it finds the account and whether it may create or update it. */
export interface UpsertOptions {
  /** Default: 'externalId' when the input has one, 'username' otherwise. */
  match?: 'externalId' | 'username';
  /** Whether a missing account is created (default true). With false, a missing account raises a 404 problem. */
  create?: boolean;
  /** Whether an existing account is updated (default true). With false, an existing account raises a 409 problem. */
  update?: boolean;
}

/** The account service's view of the server: the live parts are there only inside the running server. */
export type ProvisioningContext = AccountContext & Partial<Pick<ServerContext, 'sessions' | 'connections' | 'cluster' | 'log'>>;

/** Profile fields reported in 'account/updated'; `disabled` has its own events and `password` is no profile field. */
const NOT_PROFILE_FIELDS = new Set(['disabled', 'password']);

/**
 * Creates or updates one account: validates every field first (throwing a 400 ApiProblem
 * whose `field` is the input key), then writes the account, its credentials or legacy
 * hash, profile, avatar and memberships in one transaction. After the commit it fires
 * 'account/created' or 'account/updated', and 'account/disabled' or 'account/enabled'.
 * Input that matches the stored account changes nothing and fires nothing.
 */
export async function upsertAccount(server: ProvisioningContext, input: AccountInput, options: UpsertOptions = {}): Promise<UpsertResult> {
  const host = server.config.domain;
  const valid = validateAccountInput(input, server.config);
  const target = await resolveTarget(server, valid, options.match ?? (typeof valid.externalId === 'string' ? 'externalId' : 'username'));
  if (!target.exists && options.create === false) throw notFound(`The account ${target.username}`);
  if (target.exists && options.update === false) throw new ApiProblem(409, 'Conflict', `The account ${target.username} already exists.`, { field: 'username' });

  const credentials = (await passwordChanges(server, target.username, target.exists, valid))
    ? await deriveCredentials(valid.password!, { iterations: server.config.auth.scram_iterations })
    : undefined;
  const now = Date.now();
  const { changed, department } = await server.storage.db.transaction().execute((trx) =>
    writeAccount(trx, { host, username: target.username, create: !target.exists, input: valid, credentials, now }),
  ).catch((err: unknown) => Promise.reject(translateConstraintError(err)));

  if (department !== undefined) await server.hooks?.fire('org/group-changed', { host, id: department.id, changed: [department.changed] });
  await announce(server, target.username, !target.exists, changed, valid.disabled ?? false);
  return { username: target.username, created: !target.exists, changed };
}

/** Disables the account, ends its sessions and refuses its logins; returns false when it was disabled already. */
export async function disableAccount(server: ProvisioningContext, username: string): Promise<boolean> {
  const result = await upsertAccount(server, { username, disabled: true }, { match: 'username', create: false });
  return result.changed.includes('disabled');
}

/** Enables a disabled account; returns false when it was enabled already. */
export async function enableAccount(server: ProvisioningContext, username: string): Promise<boolean> {
  const result = await upsertAccount(server, { username, disabled: false }, { match: 'username', create: false });
  return result.changed.includes('disabled');
}

/** Sets a new password; the account's sessions stay connected. */
export async function resetPassword(server: ProvisioningContext, username: string, password: string): Promise<void> {
  await upsertAccount(server, { username, password }, { match: 'username', create: false });
}

/**
 * Deletes the account and everything stored for it, then ends its sessions. Throws a 404
 * ApiProblem when it does not exist. 'account/deleted' fires before the rows go, because
 * its handlers (presence, PEP) still read them.
 */
export async function deleteAccount(server: ProvisioningContext, username: string): Promise<void> {
  const prepared = validUsername(username, server.config.domain);
  if (!(await server.storage.accounts.exists(server.config.domain, prepared))) throw notFound(`The account ${prepared}`);
  await deleteStoredAccount(server, prepared);
  endSessions(server, prepared, 'The account was deleted.');
}

/** The cluster event that ends an account's sessions on every node; its data is the reason. */
export const END_SESSIONS_EVENT = 'account/end-sessions';

/**
 * Ends every session of the account, in this process and on the other cluster nodes,
 * hibernating ones included, with a `not-authorized` stream error. Does nothing without a
 * running server. Returns the number of sessions ended in this process.
 */
export function endSessions(server: ProvisioningContext, username: string, reason: string): number {
  server.cluster
    ?.relayToAccount(END_SESSIONS_EVENT, jid(username, server.config.domain), reason, true)
    .catch((err: unknown) => server.log?.warn({ err, username }, 'asking the other nodes to end the sessions of an account failed'));
  return endLocalSessions(server, username, reason);
}

/** Ends the account's sessions and authenticated connections in this process. */
export function endLocalSessions(server: ProvisioningContext, username: string, reason: string): number {
  const ended = new Set(server.sessions?.resources(jid(username, server.config.domain)) ?? []);
  // Connections that authenticated but did not bind a resource yet are not in the registry.
  for (const connection of server.connections ?? []) {
    if (connection.username === username) ended.add(connection);
  }
  for (const session of ended) session.closeWithError(new StreamError('not-authorized', reason));
  return ended.size;
}

/** Finds the account the input names, and whether it exists. */
async function resolveTarget(server: ProvisioningContext, valid: ValidAccountInput, match: 'externalId' | 'username'): Promise<{ username: string; exists: boolean }> {
  const host = server.config.domain;
  if (match === 'externalId') {
    if (typeof valid.externalId !== 'string') throw invalidField('externalId', 'An external id is required to match accounts by external id.');
    const linked = await server.storage.profiles.getByExternalId(host, valid.externalId);
    if (linked !== null) {
      if (valid.username !== undefined && valid.username !== linked.username) {
        throw invalidField('username', `The external id ${valid.externalId} belongs to the account ${linked.username}; usernames cannot change.`);
      }
      return { username: linked.username, exists: true };
    }
  }

  const username = valid.username ?? usernameFromExternalId(valid, host);
  const exists = await server.storage.accounts.exists(host, username);
  if (exists && typeof valid.externalId === 'string') {
    const profile = await server.storage.profiles.get(host, username);
    if (profile?.externalId != null && profile.externalId !== valid.externalId && match === 'externalId') {
      throw new ApiProblem(409, 'Conflict', `The account ${username} has the external id ${profile.externalId}.`, { field: 'username' });
    }
  }
  if (typeof valid.externalId === 'string') {
    const other = await server.storage.profiles.getByExternalId(host, valid.externalId);
    if (other !== null && other.username !== username) {
      throw new ApiProblem(409, 'Conflict', `The external id ${valid.externalId} belongs to the account ${other.username}.`, { field: 'externalId' });
    }
  }
  return { username, exists };
}

function usernameFromExternalId(valid: ValidAccountInput, host: string): string {
  if (typeof valid.externalId !== 'string') throw invalidField('username', 'A username is required.');
  try {
    return validUsername(valid.externalId, host);
  } catch {
    throw invalidField('username', `A username is required: the external id ${valid.externalId} is not a valid username.`);
  }
}

/**
 * Returns whether the input's password must be stored: always for a new account or one
 * with a legacy hash, otherwise only when it does not match the stored SCRAM key, so that
 * repeating an upsert changes nothing.
 */
async function passwordChanges(server: ProvisioningContext, username: string, exists: boolean, valid: ValidAccountInput): Promise<boolean> {
  if (valid.password === undefined) return false;
  if (!exists) return true;
  const host = server.config.domain;
  if ((await server.storage.legacyHashes.get(host, username)) !== null) return true;
  const stored = await server.storage.accounts.getCredential(host, username, 'SHA-256');
  return stored === null || !(await verifyPassword(valid.password, stored));
}

/** Fires the account events after the commit and ends the sessions of a disabled account. */
async function announce(server: ProvisioningContext, username: string, created: boolean, changed: string[], disabled: boolean): Promise<void> {
  const host = server.config.domain;
  if (created) {
    await server.hooks?.fire('account/created', { host, username });
    return;
  }

  const profileChanges = changed.filter((field) => !NOT_PROFILE_FIELDS.has(field));
  if (profileChanges.length > 0) await server.hooks?.fire('account/updated', { host, username, changed: profileChanges });
  if (!changed.includes('disabled')) return;

  if (disabled) {
    endSessions(server, username, 'The account was disabled.');
    await server.hooks?.fire('account/disabled', { host, username });
  } else {
    await server.hooks?.fire('account/enabled', { host, username });
  }
}

/** Turns a unique-index violation from a concurrent write into a 409 problem. */
function translateConstraintError(err: unknown): unknown {
  if (err instanceof Error && /UNIQUE constraint failed: account_profiles/.test(err.message)) {
    return new ApiProblem(409, 'Conflict', 'Another account has this external id.', { field: 'externalId' });
  }
  if (err instanceof Error && /FOREIGN KEY constraint failed/.test(err.message)) {
    return new ApiProblem(409, 'Conflict', 'A referenced account, department or group was deleted meanwhile.');
  }
  return err;
}
