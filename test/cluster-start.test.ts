import { describe, expect, it } from 'vitest';
import { startTestServer } from './support/server.js';
import { freePort } from './support/redis.js';

describe('cluster start', () => {
  it('fails clearly without Redis', async () => {
    const port = await freePort();
    const start = startTestServer({ cluster: { enabled: true, redis_url: `redis://user:secret@127.0.0.1:${port}` } });
    await expect(start).rejects.toThrow(`cluster: connecting to Redis at 127.0.0.1:${port} failed.`);
    await expect(start).rejects.not.toThrow(/secret/);
  });
});
