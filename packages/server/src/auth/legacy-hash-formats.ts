/**
 * Parsers for the text forms of the legacy password hashes that import accepts. Each
 * returns the parameters a verifier needs, or throws LegacyHashError naming what is wrong.
 * The caps in LEGACY_HASH_LIMITS apply here, so an over-expensive hash never reaches a verifier.
 */

/** Raised for a legacy hash that is unknown, malformed or beyond the cost caps. */
export class LegacyHashError extends Error {
  override readonly name = 'LegacyHashError';
}

/**
 * Cost caps. bcrypt and Argon2 run in WebAssembly on the event loop, so each verification
 * blocks the server for its whole duration, and these caps bound that time. At the caps one
 * verification took about 0.4 s (bcrypt) and 1 s (argon2id, 256 MiB, t=4) with hash-wasm
 * 4.13 on the 2-core development machine.
 */
export const LEGACY_HASH_LIMITS = {
  /** Maximum length of a hash text, in characters. */
  maxLength: 1024,
  /** bcrypt: cost 2^13 rounds. */
  bcryptMaxCost: 13,
  /** Argon2id memory in KiB (256 MiB). */
  argon2MaxMemoryKiB: 262_144,
  argon2MaxTime: 10,
  argon2MaxParallelism: 16,
  /** Argon2id memory times passes, in KiB: 1 GiB, such as 64 MiB with 16 passes. */
  argon2MaxWorkKiB: 1_048_576,
  pbkdf2MaxIterations: 2_000_000,
  /** Maximum salt length of any scheme, in bytes. */
  maxSaltBytes: 128,
} as const;

export interface BcryptParams {
  scheme: 'bcrypt';
  cost: number;
  salt: Buffer;
  /** The 23 digest bytes that the encoded form contains. */
  digest: Buffer;
}

export interface Argon2idParams {
  scheme: 'argon2id';
  memoryKiB: number;
  time: number;
  parallelism: number;
  salt: Buffer;
  digest: Buffer;
}

export interface Pbkdf2Params {
  scheme: 'pbkdf2-sha256';
  iterations: number;
  salt: Buffer;
  digest: Buffer;
}

/** `order` is the order of password and salt in the SHA-256 input. */
export interface SaltedSha256Params {
  scheme: 'salted-sha256';
  order: 'password-salt' | 'salt-password';
  salt: Buffer;
  digest: Buffer;
}

export type ParsedLegacyHash = BcryptParams | Argon2idParams | Pbkdf2Params | SaltedSha256Params;

const BCRYPT = /^\$(2[aby])\$(\d\d)\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})$/;
const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Parses `$2a$`, `$2b$` or `$2y$`, a two-digit cost, 22 characters of salt and 31 of digest. */
export function parseBcrypt(text: string): BcryptParams {
  const match = BCRYPT.exec(text);
  if (match === null) throw new LegacyHashError('Invalid bcrypt hash: expected $2a$, $2b$ or $2y$, a two-digit cost and 53 characters of salt and digest.');

  const cost = Number(match[2]);
  checkRange('bcrypt cost', cost, 4, LEGACY_HASH_LIMITS.bcryptMaxCost);
  return { scheme: 'bcrypt', cost, salt: decodeBcryptBase64(match[3] ?? '', 16), digest: decodeBcryptBase64(match[4] ?? '', 23) };
}

const ARGON2ID = /^\$argon2id\$v=(\d+)\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

/** Parses the PHC string `$argon2id$v=19$m=KiB,t=passes,p=lanes$salt$digest`, in base64 without padding. */
export function parseArgon2id(text: string): Argon2idParams {
  const match = ARGON2ID.exec(text);
  if (match === null) throw new LegacyHashError('Invalid argon2id hash: expected $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<digest>.');
  if (match[1] !== '19') throw new LegacyHashError(`Unsupported argon2id version v=${match[1]}; only v=19 (Argon2 1.3) is accepted.`);

  const [memoryKiB, time, parallelism] = [Number(match[2]), Number(match[3]), Number(match[4])];
  checkRange('argon2id parallelism p', parallelism, 1, LEGACY_HASH_LIMITS.argon2MaxParallelism);
  checkRange('argon2id memory m', memoryKiB, 8 * parallelism, LEGACY_HASH_LIMITS.argon2MaxMemoryKiB);
  checkRange('argon2id passes t', time, 1, LEGACY_HASH_LIMITS.argon2MaxTime);
  if (memoryKiB * time > LEGACY_HASH_LIMITS.argon2MaxWorkKiB) {
    throw new LegacyHashError(`argon2id m*t = ${memoryKiB * time} exceeds the limit of ${LEGACY_HASH_LIMITS.argon2MaxWorkKiB} KiB.`);
  }

  const salt = decodeBase64(match[5] ?? '', 'argon2id salt', 8);
  const digest = decodeBase64(match[6] ?? '', 'argon2id digest', 4);
  return { scheme: 'argon2id', memoryKiB, time, parallelism, salt, digest };
}

const PASSLIB_PBKDF2 = /^\$pbkdf2-sha256\$(?:i=)?(\d+)\$([./A-Za-z0-9+]*)\$([./A-Za-z0-9+]+)$/;
const DJANGO_PBKDF2 = /^pbkdf2_sha256\$(\d+)\$([^$]+)\$([A-Za-z0-9+/]+={0,2})$/;

/**
 * Parses passlib's `$pbkdf2-sha256$rounds$salt$digest` (also with `i=rounds`), with salt and
 * digest in passlib's base64, which has `.` for `+` and no padding. Also parses Django's
 * `pbkdf2_sha256$iterations$salt$digest`, whose salt is text used as its UTF-8 bytes.
 */
export function parsePbkdf2(text: string): Pbkdf2Params {
  const passlib = PASSLIB_PBKDF2.exec(text);
  const django = passlib === null ? DJANGO_PBKDF2.exec(text) : null;
  const match = passlib ?? django;
  if (match === null) {
    throw new LegacyHashError('Invalid PBKDF2-SHA256 hash: expected $pbkdf2-sha256$<rounds>$<salt>$<digest> or pbkdf2_sha256$<iterations>$<salt>$<digest>.');
  }

  const iterations = Number(match[1]);
  checkRange('PBKDF2 iterations', iterations, 1, LEGACY_HASH_LIMITS.pbkdf2MaxIterations);
  const salt = passlib !== null ? decodeBase64((match[2] ?? '').replaceAll('.', '+'), 'PBKDF2 salt', 0) : Buffer.from(match[2] ?? '', 'utf8');
  if (salt.length > LEGACY_HASH_LIMITS.maxSaltBytes) throw new LegacyHashError(`PBKDF2 salt is longer than ${LEGACY_HASH_LIMITS.maxSaltBytes} bytes.`);
  const digest = decodeBase64((match[3] ?? '').replaceAll('.', '+'), 'PBKDF2 digest', 16);
  if (digest.length > 64) throw new LegacyHashError('PBKDF2 digest is longer than 64 bytes.');
  return { scheme: 'pbkdf2-sha256', iterations, salt, digest };
}

const SSHA256 = /^\{SSHA256\}([A-Za-z0-9+/]+={0,2})$/i;
const SHA256_SALT_HEX = /^sha256\$([^$]+)\$([0-9a-fA-F]{64})$/;

/**
 * Parses `{SSHA256}` + base64(SHA-256(password + salt) + salt), as OpenLDAP's pw-sha2 module
 * writes it. Also parses `sha256$salt$hex` with hex(SHA-256(salt + password)), whose salt is
 * text used as its UTF-8 bytes, in the order of Django's former `sha1$salt$hex`.
 */
export function parseSaltedSha256(text: string): SaltedSha256Params {
  const ldap = SSHA256.exec(text);
  if (ldap !== null) {
    const decoded = decodeBase64(ldap[1] ?? '', '{SSHA256} value', 33);
    const salt = decoded.subarray(32);
    if (salt.length > LEGACY_HASH_LIMITS.maxSaltBytes) throw new LegacyHashError(`{SSHA256} salt is longer than ${LEGACY_HASH_LIMITS.maxSaltBytes} bytes.`);
    return { scheme: 'salted-sha256', order: 'password-salt', salt, digest: decoded.subarray(0, 32) };
  }

  const plain = SHA256_SALT_HEX.exec(text);
  if (plain === null) throw new LegacyHashError('Invalid salted SHA-256 hash: expected {SSHA256}<base64> or sha256$<salt>$<64 hex digits>.');
  const salt = Buffer.from(plain[1] ?? '', 'utf8');
  if (salt.length > LEGACY_HASH_LIMITS.maxSaltBytes) throw new LegacyHashError(`sha256 salt is longer than ${LEGACY_HASH_LIMITS.maxSaltBytes} bytes.`);
  return { scheme: 'salted-sha256', order: 'salt-password', salt, digest: Buffer.from(plain[2] ?? '', 'hex') };
}

function checkRange(what: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new LegacyHashError(`${what} ${value} is outside the accepted range ${min}..${max}.`);
  }
}

function decodeBase64(text: string, what: string, minBytes: number): Buffer {
  const unpadded = text.replace(/=+$/, '');
  if (unpadded.length % 4 === 1) throw new LegacyHashError(`${what} is not valid base64.`);
  const bytes = Buffer.from(unpadded, 'base64');
  if (bytes.length < minBytes) throw new LegacyHashError(`${what} is shorter than ${minBytes} bytes.`);
  return bytes;
}

/** Decodes bcrypt's base64 (alphabet `./A-Za-z0-9`, no padding) into `length` bytes. */
function decodeBcryptBase64(text: string, length: number): Buffer {
  const bytes = Buffer.alloc(length);
  let bits = 0;
  let buffer = 0;
  let index = 0;
  for (const char of text) {
    buffer = (buffer << 6) | BCRYPT_ALPHABET.indexOf(char);
    bits += 6;
    if (bits >= 8 && index < length) {
      bits -= 8;
      bytes[index++] = (buffer >> bits) & 0xff;
      buffer &= (1 << bits) - 1;
    }
  }
  return bytes;
}
