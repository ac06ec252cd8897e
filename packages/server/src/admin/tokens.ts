import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

import type { ApiToken } from '../storage/api-tokens.js';
import type { Storage } from '../storage/index.js';

/** Tokens read `parley_<id>_<secret>`: 12 hex digits of id, then 32 random bytes in base64url. */
const TOKEN_PATTERN = /^parley_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const MAX_NAME_CHARS = 100;
/** Minimum interval between two writes of a token's `last_used_at`, in milliseconds; verifyApiToken enforces it. */
export const LAST_USED_RESOLUTION_MS = 60_000;

/** A token just created: `token` is the bearer secret, shown once and never stored. */
export interface CreatedToken {
  id: string;
  name: string;
  token: string;
}

/** Creates an admin API token and stores only the SHA-256 hash of its secret. */
export async function createApiToken(storage: Storage, name: string, now = Date.now()): Promise<CreatedToken> {
  const trimmed = name.trim();
  if (trimmed === '' || [...trimmed].length > MAX_NAME_CHARS || /\p{Cc}/u.test(trimmed)) {
    throw new RangeError(`Invalid token name "${name}": use 1 to ${MAX_NAME_CHARS} characters without control characters.`);
  }

  const id = randomBytes(6).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  await storage.apiTokens.create({ id, name: trimmed, secretHash: hashSecret(secret), createdAt: now });
  return { id, name: trimmed, token: `parley_${id}_${secret}` };
}

/**
 * Returns the stored token that `bearer` proves, or null for a malformed, unknown, wrong
 * or revoked token. The secret's hash is compared in constant time, and an unknown id
 * costs the same comparison, so the response time reveals nothing about the secret.
 */
export async function verifyApiToken(storage: Storage, bearer: string, now = Date.now()): Promise<ApiToken | null> {
  const match = TOKEN_PATTERN.exec(bearer);
  if (!match) return null;
  const [, id, secret] = match;

  const stored = await storage.apiTokens.get(id!);
  const expected = Buffer.from(stored?.secretHash ?? '0'.repeat(64), 'hex');
  const matches = timingSafeEqual(Buffer.from(hashSecret(secret!), 'hex'), expected);
  if (!stored || !matches || stored.revokedAt !== null) return null;

  if (stored.lastUsedAt === null || now - stored.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
    await storage.apiTokens.touch(stored.id, now);
  }
  return stored;
}

function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
