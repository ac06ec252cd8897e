import type { Logger } from 'pino';

import type { Config } from '../config.js';
import type { Storage } from '../storage/index.js';
import { deriveCredentials, verifyPassword } from './credentials.js';
import { SaslPrepError } from './errors.js';
import { externalAuthFor } from './external.js';
import { LegacyHashError, verifyLegacyHash } from './legacy-hash.js';
import type { PlainVerdict } from './plain.js';

/** Server parts that a PLAIN password check reads and writes. */
export interface PasswordCheckContext {
  config: Pick<Config, 'domain' | 'auth'>;
  storage: Pick<Storage, 'accounts' | 'legacyHashes'>;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/**
 * Checks the password of a local account (a prepared localpart) sent with SASL PLAIN.
 * The SCRAM-SHA-256 credential decides when there is one. Otherwise the imported legacy
 * hash decides, and a success replaces it with SCRAM credentials. An account with neither
 * asks the external endpoint in mode 'fallback', whose success stores SCRAM credentials too.
 * In mode 'always' only the endpoint decides. Every check gets the password as sent.
 *
 * A disabled account gets 'disabled' before any check: RFC 6120 6.5.1 lets the server answer
 * `account-disabled` to the `<auth/>` itself, the answer is the same for any password, so
 * it reveals nothing about the password, and no endpoint request or slow legacy hash runs
 * for a login that cannot succeed.
 */
export async function checkPlainPassword(server: PasswordCheckContext, username: string, password: string): Promise<PlainVerdict> {
  const host = server.config.domain;
  if ((await server.storage.accounts.get(host, username))?.disabled === true) return 'disabled';
  const external = externalAuthFor(server.config.auth, server.log);
  if (external !== null && server.config.auth.external_mode === 'always') {
    if (!(await server.storage.accounts.exists(host, username))) return 'unknown';
    const verdict = await external.check(username, host, password);
    return verdict === 'rejected' ? 'wrong' : verdict;
  }

  const credential = await server.storage.accounts.getCredential(host, username, 'SHA-256');
  if (credential !== null) return (await verifyPassword(password, credential)) ? 'ok' : 'wrong';

  const legacyHash = await server.storage.legacyHashes.get(host, username);
  if (legacyHash !== null) return checkLegacyHash(server, username, password, legacyHash);

  if (!(await server.storage.accounts.exists(host, username))) return 'unknown';
  if (external === null) return 'wrong';

  const verdict = await external.check(username, host, password);
  if (verdict !== 'ok') return verdict === 'rejected' ? 'wrong' : verdict;
  await storeCredentials(server, username, password, null);
  return 'ok';
}

async function checkLegacyHash(server: PasswordCheckContext, username: string, password: string, legacyHash: string): Promise<PlainVerdict> {
  let matches: boolean;
  try {
    matches = await verifyLegacyHash(legacyHash, password);
  } catch (error) {
    if (!(error instanceof LegacyHashError)) throw error;
    server.log.error({ user: username, reason: error.message }, 'stored legacy password hash is invalid');
    return 'wrong';
  }

  if (!matches) return 'wrong';
  await storeCredentials(server, username, password, legacyHash);
  return 'ok';
}

/**
 * Derives SCRAM credentials from a password that just checked out and stores them in
 * place of `legacyHash`. A password that SASLprep rejects cannot have SCRAM credentials,
 * so such an account keeps its legacy hash and logs in with PLAIN only.
 */
async function storeCredentials(server: PasswordCheckContext, username: string, password: string, legacyHash: string | null): Promise<void> {
  let credentials;
  try {
    credentials = await deriveCredentials(password, { iterations: server.config.auth.scram_iterations });
  } catch (error) {
    if (!(error instanceof SaslPrepError)) throw error;
    server.log.warn({ user: username, reason: error.message }, 'password not upgraded to SCRAM');
    return;
  }

  const stored = await server.storage.legacyHashes.replaceWithCredentials(server.config.domain, username, legacyHash, credentials);
  if (stored) server.log.info({ user: username, from: legacyHash === null ? 'external' : 'legacy-hash' }, 'password upgraded to SCRAM');
}
