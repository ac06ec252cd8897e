import { createHash, createHmac, pbkdf2, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

import { SaslPrepError } from './errors.js';
import { prepPassword } from './saslprep.js';

const pbkdf2Async = promisify(pbkdf2);

/** A SCRAM hash function: SHA-1 for SCRAM-SHA-1 (RFC 5802), SHA-256 for SCRAM-SHA-256 (RFC 7677). */
export type ScramHash = 'SHA-1' | 'SHA-256';

/** The hashes for which deriveCredentials produces a credential, strongest first. */
export const SCRAM_HASHES: readonly ScramHash[] = ['SHA-256', 'SHA-1'];

/** Minimum PBKDF2 iteration count, from RFC 7677 section 4 and RFC 5802 section 5.1. */
export const MIN_ITERATIONS = 4096;

/** Salt length in bytes for new credentials. */
export const SALT_BYTES = 16;

/** The SCRAM verifier of one account for one hash (RFC 5802 section 3); it does not contain the password. */
export interface ScramCredential {
  hash: ScramHash;
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** Returns the node:crypto digest name of a SCRAM hash. */
export function digestName(hash: ScramHash): 'sha1' | 'sha256' {
  return hash === 'SHA-1' ? 'sha1' : 'sha256';
}

/** Returns the digest length in bytes of a SCRAM hash. */
export function digestLength(hash: ScramHash): number {
  return hash === 'SHA-1' ? 20 : 32;
}

/**
 * Derives one SCRAM credential per hash in SCRAM_HASHES, each with its own random
 * salt. The password goes through SASLprep first, so this throws SaslPrepError for a
 * password that could never log in.
 */
export async function deriveCredentials(password: string, options: { iterations: number }): Promise<ScramCredential[]> {
  checkIterations(options.iterations);
  const prepared = prepPassword(password);

  return Promise.all(
    SCRAM_HASHES.map((hash) => computeCredential(prepared, hash, randomBytes(SALT_BYTES), options.iterations)),
  );
}

/**
 * Computes the SCRAM credential of an already SASLprepped password for a given salt
 * and iteration count (RFC 5802 section 3: SaltedPassword, ClientKey, StoredKey, ServerKey).
 */
export async function computeCredential(
  preparedPassword: string,
  hash: ScramHash,
  salt: Buffer,
  iterations: number,
): Promise<ScramCredential> {
  const digest = digestName(hash);
  const saltedPassword = await pbkdf2Async(Buffer.from(preparedPassword, 'utf8'), salt, iterations, digestLength(hash), digest);

  const clientKey = hmac(hash, saltedPassword, 'Client Key');
  const storedKey = createHash(digest).update(clientKey).digest();
  const serverKey = hmac(hash, saltedPassword, 'Server Key');
  return { hash, salt: Buffer.from(salt), iterations, storedKey, serverKey };
}

/**
 * Checks a plaintext password (from SASL PLAIN) against a stored credential by
 * recomputing StoredKey. A password that fails SASLprep returns false.
 */
export async function verifyPassword(password: string, credential: ScramCredential): Promise<boolean> {
  let prepared: string;
  try {
    prepared = prepPassword(password);
  } catch (error) {
    if (error instanceof SaslPrepError) return false;
    throw error;
  }

  const computed = await computeCredential(prepared, credential.hash, credential.salt, credential.iterations);
  if (computed.storedKey.length !== credential.storedKey.length) return false;
  return timingSafeEqual(computed.storedKey, credential.storedKey);
}

/**
 * Runs the PBKDF2 work of a password check without a stored credential, so that a
 * login attempt for an unknown account takes about as long as one for a real account.
 */
export async function spendPasswordCheckTime(password: string, iterations: number): Promise<void> {
  await pbkdf2Async(Buffer.from(password, 'utf8'), randomBytes(SALT_BYTES), iterations, 32, 'sha256');
}

/** Computes HMAC(key, data) with the digest of a SCRAM hash. */
export function hmac(hash: ScramHash, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(digestName(hash), key).update(data).digest();
}

function checkIterations(iterations: number): void {
  if (!Number.isSafeInteger(iterations) || iterations < MIN_ITERATIONS) {
    throw new RangeError(`SCRAM iteration count ${iterations} is invalid; use an integer of at least ${MIN_ITERATIONS}.`);
  }
}
