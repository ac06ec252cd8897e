import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';

import { argon2id, bcrypt } from 'hash-wasm';
import { describe, expect, it } from 'vitest';

import { LEGACY_HASH_LIMITS, LegacyHashError, parseLegacyHash, verifyLegacyHash } from './legacy-hash.js';

// Hashes published by each scheme's own sources, so the verifiers are checked against
// an implementation other than the one they use.
const PUBLISHED = [
  // Openwall crypt_blowfish wrapper.c test vectors (also in John the Ripper).
  { scheme: 'bcrypt', password: 'U*U', hash: '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW' },
  {
    scheme: 'bcrypt',
    password: '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored',
    hash: '$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui',
  },
  // libar2's test suite, an Argon2 implementation independent of hash-wasm: password "password", salt "somesalt".
  { scheme: 'argon2id', password: 'password', hash: '$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4' },
  { scheme: 'argon2id', password: 'password', hash: '$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc' },
  // passlib documentation of passlib.hash.pbkdf2_sha256.
  { scheme: 'pbkdf2-sha256', password: 'password', hash: '$pbkdf2-sha256$6400$0ZrzXitFSGltTQnBWOsdAw$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M' },
  { scheme: 'pbkdf2-sha256', password: 'password', hash: '$pbkdf2-sha256$8000$XAuBMIYQQogxRg$tRRlz8hYn63B9LYiCd6PRo6FMiunY9ozmMMI3srxeRE' },
  // Django tests/auth_tests/test_hashers.py (Django 4.1, 390,000 iterations).
  { scheme: 'pbkdf2-sha256', password: 'lètmein', hash: 'pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=' },
  // openssl_slappasswd.sh README, a pw-sha2 compatible generator: secret "pass", salt "foobar".
  { scheme: 'salted-sha256', password: 'pass', hash: '{SSHA256}Yuz0lZnd9xxLQhxgOSuV8b4GlTzeOWKriq9ay51aoLxmb29iYXI=' },
  // FIPS 180-2 appendix B.1: SHA-256("abc"), here salt "a" + password "bc".
  { scheme: 'salted-sha256', password: 'bc', hash: 'sha256$a$ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
] as const;

describe('verifyLegacyHash with published hashes', () => {
  for (const vector of PUBLISHED) {
    it(`accepts ${vector.hash.slice(0, 24)}`, async () => {
      expect(parseLegacyHash(vector.hash).scheme).toBe(vector.scheme);
      expect(await verifyLegacyHash(vector.hash, vector.password)).toBe(true);
    });

    it(`rejects a wrong password for ${vector.hash.slice(0, 24)}`, async () => {
      expect(await verifyLegacyHash(vector.hash, `${vector.password}x`.slice(1))).toBe(false);
    });
  }
});

describe('verifyLegacyHash with generated hashes', () => {
  const password = 'Pässword 1';
  const bytes = Buffer.from(password, 'utf8');
  const salt = randomBytes(16);

  it('verifies bcrypt $2b$ and $2y$', async () => {
    const encoded = await bcrypt({ password: bytes, salt, costFactor: 4, outputType: 'encoded' });
    expect(await verifyLegacyHash(encoded, password)).toBe(true);
    expect(await verifyLegacyHash(encoded.replace('$2b$', '$2y$'), password)).toBe(true);
    expect(await verifyLegacyHash(encoded, 'Password 1')).toBe(false);
  });

  it('verifies argon2id', async () => {
    const encoded = await argon2id({ password: bytes, salt, iterations: 2, memorySize: 64, parallelism: 2, hashLength: 32, outputType: 'encoded' });
    expect(await verifyLegacyHash(encoded, password)).toBe(true);
    expect(await verifyLegacyHash(encoded, 'Password 1')).toBe(false);
  });

  it('verifies passlib and Django PBKDF2', async () => {
    const digest = pbkdf2Sync(bytes, salt, 1000, 32, 'sha256');
    const ab64 = (data: Buffer) => data.toString('base64').replace(/=+$/, '').replaceAll('+', '.');
    const passlib = `$pbkdf2-sha256$1000$${ab64(salt)}$${ab64(digest)}`;
    const phc = `$pbkdf2-sha256$i=1000$${ab64(salt)}$${ab64(digest)}`;
    const django = `pbkdf2_sha256$1000$NaCl$${pbkdf2Sync(bytes, 'NaCl', 1000, 32, 'sha256').toString('base64')}`;
    for (const encoded of [passlib, phc, django]) {
      expect(await verifyLegacyHash(encoded, password)).toBe(true);
      expect(await verifyLegacyHash(encoded, 'Password 1')).toBe(false);
    }
  });

  it('verifies {SSHA256} with password before salt', async () => {
    const digest = createHash('sha256').update(bytes).update(salt).digest();
    const encoded = `{SSHA256}${Buffer.concat([digest, salt]).toString('base64')}`;
    const swapped = createHash('sha256').update(salt).update(bytes).digest();
    expect(await verifyLegacyHash(encoded, password)).toBe(true);
    expect(await verifyLegacyHash(`{ssha256}${encoded.slice(9)}`, password)).toBe(true);
    expect(await verifyLegacyHash(`{SSHA256}${Buffer.concat([swapped, salt]).toString('base64')}`, password)).toBe(false);
  });

  it('verifies sha256$salt$hex with salt before password', async () => {
    const hex = createHash('sha256').update('pepper').update(bytes).digest('hex');
    expect(await verifyLegacyHash(`sha256$pepper$${hex}`, password)).toBe(true);
    expect(await verifyLegacyHash(`sha256$pepper$${hex.toUpperCase()}`, password)).toBe(true);
    expect(await verifyLegacyHash(`sha256$pepper$${hex}`, 'Password 1')).toBe(false);
  });

  it('rejects an empty password', async () => {
    const hex = createHash('sha256').update('salt').digest('hex');
    expect(await verifyLegacyHash(`sha256$salt$${hex}`, '')).toBe(false);
  });
});

describe('parseLegacyHash', () => {
  it('trims and normalizes the stored form', () => {
    const hex = 'BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD';
    expect(parseLegacyHash(`  sha256$a$${hex}\n`)).toEqual({ scheme: 'salted-sha256', encoded: `sha256$a$${hex.toLowerCase()}` });
    expect(parseLegacyHash('{ssha256}Yuz0lZnd9xxLQhxgOSuV8b4GlTzeOWKriq9ay51aoLxmb29iYXI=').encoded).toBe(
      '{SSHA256}Yuz0lZnd9xxLQhxgOSuV8b4GlTzeOWKriq9ay51aoLxmb29iYXI=',
    );
  });

  const invalid: Array<[string, string, RegExp]> = [
    ['empty', '', /empty/],
    ['unknown scheme', '$1$abcdefgh$0123456789012345678901', /Unknown password hash format/],
    ['bcrypt $2x$', '$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', /Invalid bcrypt/],
    ['bcrypt cost too high', '$2b$14$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', /bcrypt cost 14 is outside/],
    ['bcrypt cost too low', '$2b$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW', /bcrypt cost 3/],
    ['bcrypt truncated', '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe', /Invalid bcrypt/],
    ['argon2i', '$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4', /Invalid argon2id/],
    ['argon2id v=16', '$argon2id$v=16$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4', /v=16/],
    ['argon2id memory', '$argon2id$v=19$m=262145,t=1,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4', /memory m 262145/],
    ['argon2id passes', '$argon2id$v=19$m=256,t=11,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4', /passes t 11/],
    ['argon2id work', '$argon2id$v=19$m=262144,t=5,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4', /m\*t/],
    ['argon2id short salt', '$argon2id$v=19$m=256,t=2,p=1$c29tZQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4', /salt is shorter/],
    ['pbkdf2 iterations', '$pbkdf2-sha256$2000001$0ZrzXitFSGltTQnBWOsdAw$Y11AchqV4b0sUisdZd0Xr97KWoymNE0LNNrnEgY4H9M', /iterations 2000001/],
    ['pbkdf2 zero iterations', 'pbkdf2_sha256$0$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=', /iterations 0/],
    ['pbkdf2 short digest', '$pbkdf2-sha256$6400$0ZrzXitFSGltTQnBWOsdAw$Y11AchqV4b0', /digest is shorter/],
    ['django missing salt', 'pbkdf2_sha256$1000$$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=', /Invalid PBKDF2/],
    ['ssha256 without salt', `{SSHA256}${Buffer.alloc(32).toString('base64')}`, /shorter than 33/],
    ['sha256 short hex', 'sha256$a$ba7816bf', /Invalid salted SHA-256/],
    ['too long', `sha256$${'s'.repeat(1100)}$${'0'.repeat(64)}`, /longer than 1024/],
  ];
  for (const [name, text, message] of invalid) {
    it(`rejects ${name}`, () => {
      expect(() => parseLegacyHash(text)).toThrow(LegacyHashError);
      expect(() => parseLegacyHash(text)).toThrow(message);
    });
  }

  it('accepts the caps themselves', () => {
    const salt = 'c29tZXNhbHQ';
    const digest = 'nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4';
    expect(parseLegacyHash(`$argon2id$v=19$m=${LEGACY_HASH_LIMITS.argon2MaxMemoryKiB},t=4,p=1$${salt}$${digest}`).scheme).toBe('argon2id');
    expect(parseLegacyHash('$2b$13$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW').scheme).toBe('bcrypt');
  });

  it('makes verifyLegacyHash throw for a malformed stored hash', async () => {
    await expect(verifyLegacyHash('$2b$99$nonsense', 'x')).rejects.toThrow(LegacyHashError);
  });
});
