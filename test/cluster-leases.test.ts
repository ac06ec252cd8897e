import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Leases } from '../packages/server/src/cluster/leases.js';
import { startRedis, type TestRedis } from './support/redis.js';

const TTL_MS = 5000;

let server: TestRedis;
let redis: Redis;
let counter = 0;

beforeAll(async () => {
  server = await startRedis();
  redis = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
});

afterAll(async () => {
  await redis?.quit();
  await server?.stop();
});

function name(): string {
  return `room${++counter}`;
}

describe('cluster leases', () => {
  it('claim gives the first node', async () => {
    const lease = name();
    expect(await new Leases(redis, 'a', TTL_MS).claim(lease)).toBe('a');
    expect(await new Leases(redis, 'b', TTL_MS).claim(lease)).toBe('a');
    expect(await redis.pttl(`parley:cluster:lease:${lease}`)).toBeGreaterThan(TTL_MS - 1000);
  });

  it('takeOver only from the dead node', async () => {
    const lease = name();
    const [a, b, c] = [new Leases(redis, 'a', TTL_MS), new Leases(redis, 'b', TTL_MS), new Leases(redis, 'c', TTL_MS)];
    await a.claim(lease);
    expect(await c.takeOver(lease, 'b')).toBe(false);
    expect(await b.takeOver(lease, 'a')).toBe(true);
    expect(await c.claim(lease)).toBe('b');
  });

  it('renew reports lost leases', async () => {
    const [kept, taken] = [name(), name()];
    const a = new Leases(redis, 'a', TTL_MS);
    await a.claim(kept);
    await a.claim(taken);
    await new Leases(redis, 'b', TTL_MS).takeOver(taken, 'a');
    await redis.pexpire(`parley:cluster:lease:${kept}`, 100);

    expect(await a.renew([kept, taken])).toEqual([taken]);
    expect(await redis.pttl(`parley:cluster:lease:${kept}`)).toBeGreaterThan(TTL_MS - 1000);
  });

  it('release leaves another holder alone', async () => {
    const lease = name();
    const [a, b] = [new Leases(redis, 'a', TTL_MS), new Leases(redis, 'b', TTL_MS)];
    await a.claim(lease);
    await b.release(lease);
    expect(await b.claim(lease)).toBe('a');
    await a.release(lease);
    expect(await b.claim(lease)).toBe('b');
  });
});
