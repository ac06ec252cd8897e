import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { DialbackKeys, loadDialbackSecret } from './dialback-key.js';

describe('dialback keys', () => {
  const keys = new DialbackKeys('s3cr3tf0rd14lb4ck');

  it('key is the HMAC-SHA256 of the domains and stream id', () => {
    // The algorithm XEP-0185 recommends, with the hex SHA-256 of the secret as the HMAC key.
    const hmacKey = createHash('sha256').update('s3cr3tf0rd14lb4ck').digest('hex');
    const expected = createHmac('sha256', hmacKey).update('example.net example.com D60000229F').digest('hex');
    expect(keys.generate('example.net', 'example.com', 'D60000229F')).toBe(expected);
    expect(expected).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verify accepts only the same domains and stream id', () => {
    const key = keys.generate('b.example', 'a.example', 'stream-1');
    expect(keys.verify('b.example', 'a.example', 'stream-1', key)).toBe(true);
    expect(keys.verify('b.example', 'a.example', 'stream-2', key)).toBe(false);
    expect(keys.verify('c.example', 'a.example', 'stream-1', key)).toBe(false);
    expect(keys.verify('b.example', 'a.example', 'stream-1', key.slice(1))).toBe(false);
    expect(new DialbackKeys('other secret').verify('b.example', 'a.example', 'stream-1', key)).toBe(false);
  });

  it('secret file is created once with mode 0600', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'parley-dialback-'));
    try {
      const log = pino({ level: 'silent' });
      const first = loadDialbackSecret('', folder, log);
      expect(first).toMatch(/^[0-9a-f]{64}$/);
      expect(loadDialbackSecret('', folder, log)).toBe(first);
      expect((await stat(path.join(folder, 'dialback.secret'))).mode & 0o777).toBe(0o600);
      expect((await readFile(path.join(folder, 'dialback.secret'), 'utf8')).trim()).toBe(first);
      expect(loadDialbackSecret('configured', folder, log)).toBe('configured');
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });
});
