import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';

const SECRET_FILE = 'dialback.secret';

/**
 * Dialback keys as XEP-0185 recommends: the hex HMAC-SHA256 of "receiving originating
 * streamId", keyed with the hex SHA-256 of the secret. Only this server checks its own keys
 * (the receiving server asks it through db:verify), so the format need not match other software.
 */
export class DialbackKeys {
  private readonly hmacKey: string;

  constructor(secret: string) {
    this.hmacKey = createHash('sha256').update(secret, 'utf8').digest('hex');
  }

  /** Returns the key this server sends as the originating server on a stream with `streamId`. */
  generate(receiving: string, originating: string, streamId: string): string {
    return createHmac('sha256', this.hmacKey).update(`${receiving} ${originating} ${streamId}`, 'utf8').digest('hex');
  }

  /** Checks a key received in db:verify, in constant time. */
  verify(receiving: string, originating: string, streamId: string, key: string): boolean {
    const expected = Buffer.from(this.generate(receiving, originating, streamId), 'utf8');
    const given = Buffer.from(key.trim(), 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}

/**
 * Returns `[s2s] dialback_secret`, or the secret in DATA_DIR/dialback.secret, which is
 * created with 32 random bytes (mode 0600) when missing.
 */
export function loadDialbackSecret(configured: string, dataDir: string, log: Logger): string {
  if (configured !== '') return configured;
  const file = path.join(dataDir, SECRET_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    log.info({ file }, 'generated the dialback secret');
  }
  return readFileSync(file, 'utf8').trim();
}
