import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JID } from '../packages/xmpp/src/index.js';
import { ClusterBus } from '../packages/server/src/cluster/bus.js';
import type { ClusterEvent } from '../packages/server/src/cluster/messages.js';
import { ClusterRegistry } from '../packages/server/src/cluster/registry.js';
import { startRedis, type TestRedis } from './support/redis.js';

const EXPIRY_MS = 1000;
const log = pino({ level: 'silent' });

let redis: TestRedis;
const buses: ClusterBus[] = [];

beforeAll(async () => {
  redis = await startRedis();
});

afterAll(async () => {
  for (const bus of buses) await bus.close();
  await redis?.stop();
});

/** Creates a registry for `node` whose copy of the other nodes follows the event channel. */
async function registryFor(node: string): Promise<ClusterRegistry> {
  const holder: { registry?: ClusterRegistry } = {};
  const bus = await ClusterBus.connect(redis.url, node, log, {
    event: (event: ClusterEvent) => holder.registry?.apply(event),
    message: () => undefined,
  });
  buses.push(bus);
  holder.registry = new ClusterRegistry(bus, node, EXPIRY_MS, log);
  return holder.registry;
}

/** Polls `check` every 20 ms until it returns true, at most 2 s. */
async function eventually(check: () => boolean): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('the condition did not hold within 2 s');
}

const entry = (priority: number, since = Date.now()) => ({ priority, available: true, since });

describe('cluster session registry', () => {
  it('copies another node’s resources', async () => {
    const east = await registryFor('east');
    const west = await registryFor('west');
    await east.putOwn('amy@example.test/laptop', entry(3));
    await eventually(() => west.resources(JID.parse('amy@example.test')).length === 1);

    const [found] = west.available(JID.parse('amy@example.test'));
    expect(found?.node).toBe('east');
    expect(found?.priority).toBe(3);
    expect(west.locate(JID.parse('amy@example.test/laptop'))?.node).toBe('east');
    expect(east.resources(JID.parse('amy@example.test'))).toEqual([]);

    await east.removeOwn('amy@example.test/laptop');
    await eventually(() => west.resources(JID.parse('amy@example.test')).length === 0);
  });

  it('reads existing entries at start', async () => {
    const north = await registryFor('north');
    await north.putOwn('ben@example.test/phone', entry(0));
    const south = await registryFor('south');
    await south.loadAll();
    expect(south.locate(JID.parse('ben@example.test/phone'))?.node).toBe('north');
  });

  it('prefers the newer of two equal resources', async () => {
    const older = await registryFor('older');
    const newer = await registryFor('newer');
    const observer = await registryFor('observer');
    await older.putOwn('cai@example.test/desk', entry(0, 1000));
    await newer.putOwn('cai@example.test/desk', entry(0, 2000));
    await eventually(() => observer.resources(JID.parse('cai@example.test')).length === 2);
    expect(observer.locate(JID.parse('cai@example.test/desk'))?.node).toBe('newer');
  });

  it('drops a node without heartbeats', async () => {
    const quiet = await registryFor('quiet');
    const watcher = await registryFor('watcher');
    await quiet.putOwn('dan@example.test/tablet', entry(1));
    await eventually(() => watcher.resources(JID.parse('dan@example.test')).length === 1);

    expect(watcher.sweep(Date.now() + EXPIRY_MS + 1)).toContain('quiet');
    expect(watcher.resources(JID.parse('dan@example.test'))).toEqual([]);
  });

  it('lets a node’s hash expire without heartbeats', async () => {
    const silent = await registryFor('silent');
    await silent.putOwn('fay@example.test/car', entry(0));
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await client.connect();
    try {
      expect(await client.exists('parley:cluster:sessions:silent')).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, EXPIRY_MS + 200));
      expect(await client.exists('parley:cluster:sessions:silent')).toBe(0);
    } finally {
      await client.quit();
    }
  });

  it('removes a node at a clean stop', async () => {
    const leaving = await registryFor('leaving');
    const staying = await registryFor('staying');
    await leaving.putOwn('eva@example.test/web', entry(0));
    await eventually(() => staying.resources(JID.parse('eva@example.test')).length === 1);

    await leaving.clearOwn();
    await eventually(() => staying.resources(JID.parse('eva@example.test')).length === 0);
    expect(await leaving.heartbeat()).toBe(false);
  });
});
