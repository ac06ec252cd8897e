import { describe, expect, it } from 'vitest';

import { computeCredential, deriveCredentials, verifyPassword } from './credentials.js';

describe('deriveCredentials', () => {
  it('derives one credential per hash', async () => {
    const credentials = await deriveCredentials('secret', { iterations: 4096 });
    expect(credentials.map((credential) => credential.hash)).toEqual(['SHA-256', 'SHA-1']);
  });

  it('uses 16-byte salts', async () => {
    const credentials = await deriveCredentials('secret', { iterations: 4096 });
    expect(credentials.map((credential) => credential.salt.length)).toEqual([16, 16]);
  });

  it('uses a different salt per hash', async () => {
    const [sha256, sha1] = await deriveCredentials('secret', { iterations: 4096 });
    expect(sha256?.salt.equals(sha1?.salt ?? Buffer.alloc(0))).toBe(false);
  });

  it('uses a different salt per account', async () => {
    const [first] = await deriveCredentials('secret', { iterations: 4096 });
    const [second] = await deriveCredentials('secret', { iterations: 4096 });
    expect(first?.salt.equals(second?.salt ?? Buffer.alloc(0))).toBe(false);
  });

  it('stores the iteration count', async () => {
    const credentials = await deriveCredentials('secret', { iterations: 5000 });
    expect(credentials.map((credential) => credential.iterations)).toEqual([5000, 5000]);
  });

  it('produces keys of the digest length', async () => {
    const credentials = await deriveCredentials('secret', { iterations: 4096 });
    expect(credentials.map((credential) => credential.storedKey.length)).toEqual([32, 20]);
  });

  it('keeps no password', async () => {
    const credentials = await deriveCredentials('pencil-sharpener', { iterations: 4096 });
    expect(JSON.stringify(credentials)).not.toContain('pencil');
  });

  it('rejects fewer than 4096 iterations', async () => {
    await expect(deriveCredentials('secret', { iterations: 4095 })).rejects.toBeInstanceOf(RangeError);
  });

  it('rejects a fractional iteration count', async () => {
    await expect(deriveCredentials('secret', { iterations: 4096.5 })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('computeCredential', () => {
  it('matches the RFC 5802 StoredKey', async () => {
    const credential = await computeCredential('pencil', 'SHA-1', Buffer.from('QSXCR+Q6sek8bf92', 'base64'), 4096);
    // StoredKey = H(HMAC(SaltedPassword, "Client Key")), with SaltedPassword from RFC 5802 section 5.
    expect(credential.storedKey.toString('hex')).toBe('e9d94660c39d65c38fbad91c358f14da0eef2bd6');
  });
});

describe('verifyPassword', () => {
  it('accepts the password', async () => {
    const [credential] = await deriveCredentials('secret', { iterations: 4096 });
    expect(await verifyPassword('secret', credential!)).toBe(true);
  });

  it('rejects another password', async () => {
    const [credential] = await deriveCredentials('secret', { iterations: 4096 });
    expect(await verifyPassword('secreT', credential!)).toBe(false);
  });

  it('returns false for a prohibited password', async () => {
    const credential = await computeCredential('pass\nword', 'SHA-256', Buffer.alloc(16), 4096);
    expect(await verifyPassword('pass\nword', credential)).toBe(false);
  });
});
