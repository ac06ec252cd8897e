import { JidError, StanzaError, jid } from '@parley/xmpp';
import { deriveCredentials } from './auth/credentials.js';
import { FastTokens } from './auth/fast-tokens.js';
import { SaslPrepError } from './auth/saslprep.js';
import type { ServerContext } from './core/context.js';

/** The server parts account management uses; parleyctl passes them without a running server. */
export type AccountContext = Pick<ServerContext, 'config' | 'storage'> & { hooks?: ServerContext['hooks'] };
import { AccountExistsError, type StoredScramCredential } from './storage/accounts.js';

/** A failure to create an account or change its password, with the XMPP error `condition` to report. */
export class AccountError extends Error {
  constructor(
    message: string,
    readonly condition: 'conflict' | 'jid-malformed' | 'not-acceptable',
  ) {
    super(message);
    this.name = 'AccountError';
  }

  toStanzaError(): StanzaError {
    return new StanzaError(this.condition, this.message);
  }
}

/** Prepares a localpart (UsernameCaseMapped, RFC 7622 3.3) or throws AccountError. */
export function prepareUsername(username: string, domain: string): string {
  try {
    return jid(username, domain).local;
  } catch (err) {
    if (err instanceof JidError) throw new AccountError(`Invalid username "${username}": ${err.message}`, 'jid-malformed');
    throw err;
  }
}

/** Creates an account with SCRAM credentials derived from `password`; the password itself is not stored. */
export async function createAccount(server: AccountContext, username: string, password: string): Promise<string> {
  const host = server.config.domain;
  const prepared = prepareUsername(username, host);
  const credentials = await credentialsFor(server, password);
  try {
    await server.storage.accounts.create(host, prepared, credentials);
  } catch (err) {
    if (err instanceof AccountExistsError) throw new AccountError(`The account ${prepared}@${host} already exists.`, 'conflict');
    throw err;
  }
  await server.hooks?.fire('account/created', { host, username: prepared });
  return prepared;
}

/** Replaces the account's credentials and revokes its FAST tokens; existing sessions stay connected. */
export async function changePassword(server: AccountContext, username: string, password: string): Promise<void> {
  const host = server.config.domain;
  await server.storage.accounts.setCredentials(host, username, await credentialsFor(server, password));
  await FastTokens.revokeAccount(server.storage.db, host, username);
}

/**
 * Deletes the account and everything stored for it. Its sessions stay open: the caller
 * closes them after it has replied to the request for the deletion.
 */
export async function deleteAccount(server: AccountContext, username: string): Promise<void> {
  const host = server.config.domain;
  await server.hooks?.fire('account/deleted', { host, username });
  await server.storage.accounts.delete(host, username);
}

async function credentialsFor(server: AccountContext, password: string): Promise<StoredScramCredential[]> {
  const minimum = server.config.registration.min_password_length;
  if ([...password].length < minimum) {
    throw new AccountError(`The password must have at least ${minimum} characters.`, 'not-acceptable');
  }
  try {
    return await deriveCredentials(password, { iterations: server.config.auth.scram_iterations });
  } catch (err) {
    if (err instanceof SaslPrepError) throw new AccountError(`The password is not allowed: ${err.message}`, 'not-acceptable');
    throw err;
  }
}
