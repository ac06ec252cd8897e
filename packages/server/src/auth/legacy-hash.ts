import { createHash, pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

import { argon2id, bcrypt } from 'hash-wasm';

import {
  type Argon2idParams,
  type BcryptParams,
  LegacyHashError,
  type ParsedLegacyHash,
  type Pbkdf2Params,
  type SaltedSha256Params,
  LEGACY_HASH_LIMITS,
  parseArgon2id,
  parseBcrypt,
  parsePbkdf2,
  parseSaltedSha256,
} from './legacy-hash-formats.js';

export { LEGACY_HASH_LIMITS, LegacyHashError };

const pbkdf2Async = promisify(pbkdf2);

/** Password hash schemes that imported accounts may carry until their first login. */
export type LegacyHashScheme = 'bcrypt' | 'argon2id' | 'pbkdf2-sha256' | 'salted-sha256';

/** A validated legacy hash; `encoded` is the text stored in `accounts.legacy_hash`. */
export interface LegacyHash {
  scheme: LegacyHashScheme;
  encoded: string;
}

/** bcrypt uses at most this many password bytes; longer passwords are cut, as OpenBSD's bcrypt does. */
const BCRYPT_MAX_PASSWORD_BYTES = 72;

/**
 * Validates a legacy hash and returns its scheme and stored form. Accepted forms:
 * - bcrypt: `$2a$`, `$2b$`, `$2y$` with cost 4..13;
 * - argon2id: `$argon2id$v=19$m=..,t=..,p=..$salt$digest` (PHC string format);
 * - pbkdf2-sha256: passlib's `$pbkdf2-sha256$rounds$salt$digest` (or `i=rounds`) and
 *   Django's `pbkdf2_sha256$iterations$salt$digest`;
 * - salted-sha256: `{SSHA256}base64(SHA-256(password + salt) + salt)` and
 *   `sha256$salt$hex(SHA-256(salt + password))`.
 * Throws LegacyHashError for anything else, including costs beyond LEGACY_HASH_LIMITS.
 */
export function parseLegacyHash(text: string): LegacyHash {
  const trimmed = text.trim();
  const parsed = parseEncoded(trimmed);
  const encoded = parsed.scheme === 'salted-sha256' ? normalizeSaltedSha256(trimmed) : trimmed;
  return { scheme: parsed.scheme, encoded };
}

/**
 * Checks a password against a stored legacy hash with a constant-time comparison.
 * The password is used as UTF-8 bytes exactly as given, without SASLprep, because the
 * old system hashed it that way. Throws LegacyHashError if `encoded` is not a valid hash.
 */
export async function verifyLegacyHash(encoded: string, password: string): Promise<boolean> {
  const parsed = parseEncoded(encoded.trim());
  const passwordBytes = Buffer.from(password, 'utf8');
  if (passwordBytes.length === 0) return false;

  const computed = await computeDigest(parsed, passwordBytes);
  return computed.length === parsed.digest.length && timingSafeEqual(computed, parsed.digest);
}

function parseEncoded(text: string): ParsedLegacyHash {
  if (text.length === 0) throw new LegacyHashError('The password hash is empty.');
  if (text.length > LEGACY_HASH_LIMITS.maxLength) throw new LegacyHashError(`The password hash is longer than ${LEGACY_HASH_LIMITS.maxLength} characters.`);

  if (text.startsWith('$2')) return parseBcrypt(text);
  if (text.startsWith('$argon2')) return parseArgon2id(text);
  if (text.startsWith('$pbkdf2-sha256$') || text.startsWith('pbkdf2_sha256$')) return parsePbkdf2(text);
  if (/^\{SSHA256\}/i.test(text) || text.startsWith('sha256$')) return parseSaltedSha256(text);
  throw new LegacyHashError('Unknown password hash format; accepted are bcrypt, argon2id, PBKDF2-SHA256 (passlib or Django) and salted SHA-256 ({SSHA256} or sha256$salt$hex).');
}

/** RFC 2307 scheme names are case-insensitive and hex digits may be upper case; store one spelling. */
function normalizeSaltedSha256(text: string): string {
  if (text.startsWith('sha256$')) return text.replace(/[0-9A-F]{64}$/i, (hex) => hex.toLowerCase());
  return `{SSHA256}${text.slice('{SSHA256}'.length)}`;
}

function computeDigest(parsed: ParsedLegacyHash, password: Buffer): Promise<Buffer> {
  switch (parsed.scheme) {
    case 'bcrypt':
      return computeBcrypt(parsed, password);
    case 'argon2id':
      return computeArgon2id(parsed, password);
    case 'pbkdf2-sha256':
      return computePbkdf2(parsed, password);
    case 'salted-sha256':
      return Promise.resolve(computeSaltedSha256(parsed, password));
  }
}

// TODO: bcrypt and Argon2 run on the event loop; a worker thread would keep a slow
// verification from delaying other sessions. The cost caps bound the delay meanwhile.
async function computeBcrypt(params: BcryptParams, password: Buffer): Promise<Buffer> {
  const output = await bcrypt({
    password: password.subarray(0, BCRYPT_MAX_PASSWORD_BYTES),
    salt: params.salt,
    costFactor: params.cost,
    outputType: 'binary',
  });
  return Buffer.from(output).subarray(0, params.digest.length);
}

async function computeArgon2id(params: Argon2idParams, password: Buffer): Promise<Buffer> {
  const output = await argon2id({
    password,
    salt: params.salt,
    iterations: params.time,
    memorySize: params.memoryKiB,
    parallelism: params.parallelism,
    hashLength: params.digest.length,
    outputType: 'binary',
  });
  return Buffer.from(output);
}

function computePbkdf2(params: Pbkdf2Params, password: Buffer): Promise<Buffer> {
  return pbkdf2Async(password, params.salt, params.iterations, params.digest.length, 'sha256');
}

function computeSaltedSha256(params: SaltedSha256Params, password: Buffer): Buffer {
  const hash = createHash('sha256');
  if (params.order === 'password-salt') hash.update(password).update(params.salt);
  else hash.update(params.salt).update(password);
  return hash.digest();
}
