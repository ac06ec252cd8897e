import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import type { NewWebhookEndpoint, QueuedEvent, Storage } from './index.js';

const NOW = 1_700_000_000_000;

let dir: string;
let storage: Storage;

function endpoint(fields: Partial<NewWebhookEndpoint> = {}): NewWebhookEndpoint {
  return { id: 'wh_a', url: 'https://hooks.example/a', secret: 'secret-secret-secret', events: ['*'], description: null, enabled: true, createdAt: NOW, ...fields };
}

function event(type: string, id = `evt-${type}`, createdAt = NOW): QueuedEvent {
  return { id, type, payload: JSON.stringify({ id, type }), createdAt };
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-webhooks-'));
  storage = await openTestStorage(join(dir, 'db.sqlite'));
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('webhook endpoints', () => {
  it('reads back what was created', async () => {
    await storage.webhooks.createEndpoint(endpoint({ events: ['account/created'], description: 'CRM' }));
    expect(await storage.webhooks.getEndpoint('wh_a')).toEqual({ ...endpoint({ events: ['account/created'], description: 'CRM' }), updatedAt: NOW });
  });

  it('lists in id order after the cursor', async () => {
    for (const id of ['wh_c', 'wh_a', 'wh_b']) await storage.webhooks.createEndpoint(endpoint({ id }));
    const first = await storage.webhooks.listEndpoints({ limit: 2 });
    const rest = await storage.webhooks.listEndpoints({ limit: 2, after: first[1]!.id });
    expect([...first, ...rest].map((item) => item.id)).toEqual(['wh_a', 'wh_b', 'wh_c']);
  });

  it('updates only the given fields', async () => {
    await storage.webhooks.createEndpoint(endpoint());
    const updated = await storage.webhooks.updateEndpoint('wh_a', { enabled: false, events: ['account/deleted'] }, NOW + 5);
    expect(updated).toMatchObject({ url: 'https://hooks.example/a', enabled: false, events: ['account/deleted'], updatedAt: NOW + 5 });
  });

  it('reports an update of a missing endpoint', async () => {
    expect(await storage.webhooks.updateEndpoint('wh_none', { enabled: false })).toBeUndefined();
  });

  it('deletes the deliveries with the endpoint', async () => {
    await storage.webhooks.createEndpoint(endpoint());
    await storage.webhooks.enqueue(event('account/created'));
    expect(await storage.webhooks.deleteEndpoint('wh_a')).toBe(true);
    expect(await storage.db.selectFrom('webhook_deliveries').selectAll().execute()).toEqual([]);
  });
});

describe('webhook queue', () => {
  beforeEach(async () => {
    await storage.webhooks.createEndpoint(endpoint({ id: 'wh_all' }));
    await storage.webhooks.createEndpoint(endpoint({ id: 'wh_deleted', events: ['account/deleted'] }));
    await storage.webhooks.createEndpoint(endpoint({ id: 'wh_off', enabled: false }));
  });

  it('queues for enabled endpoints whose filter matches', async () => {
    await storage.webhooks.enqueue(event('account/created'));
    await storage.webhooks.enqueue(event('account/deleted'));
    const due = await storage.webhooks.due(NOW, 10);
    expect(due.map((item) => [item.endpointId, item.eventType])).toEqual([
      ['wh_all', 'account/created'],
      ['wh_all', 'account/deleted'],
      ['wh_deleted', 'account/deleted'],
    ]);
  });

  it('queues a ping for the one endpoint whatever its filter', async () => {
    const ids = await storage.webhooks.enqueue(event('webhook/ping'), 'wh_deleted');
    expect(ids).toHaveLength(1);
    expect((await storage.webhooks.due(NOW, 10)).map((item) => item.endpointId)).toEqual(['wh_deleted']);
  });

  it('holds the deliveries of a disabled endpoint', async () => {
    await storage.webhooks.enqueue(event('account/created'));
    await storage.webhooks.updateEndpoint('wh_all', { enabled: false });
    expect(await storage.webhooks.due(NOW, 10)).toEqual([]);
    expect(await storage.webhooks.nextDueAt()).toBeUndefined();
  });

  it('carries the url and secret with a due delivery', async () => {
    await storage.webhooks.enqueue(event('account/created'));
    expect((await storage.webhooks.due(NOW, 10))[0]).toMatchObject({ url: 'https://hooks.example/a', secret: 'secret-secret-secret', attempts: 0, status: 'pending' });
  });

  it('leaves out skipped ids and deliveries not yet due', async () => {
    const [first] = await storage.webhooks.enqueue(event('account/created', 'e1'));
    await storage.webhooks.enqueue(event('account/updated', 'e2', NOW + 1000));
    expect(await storage.webhooks.due(NOW + 10, 10, [first!])).toEqual([]);
    expect(await storage.webhooks.nextDueAt([first!])).toBe(NOW + 1000);
  });

  it('schedules a failed attempt again', async () => {
    const [id] = await storage.webhooks.enqueue(event('account/created'));
    await storage.webhooks.recordFailure(id!, { status: 500, error: 'HTTP 500', nextAttemptAt: NOW + 60_000 }, NOW + 1);
    const delivery = await storage.webhooks.getDelivery('wh_all', id!);
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: NOW + 60_000, lastStatus: 500, lastError: 'HTTP 500', lastAttemptAt: NOW + 1 });
  });

  it('marks the last failed attempt failed', async () => {
    const [id] = await storage.webhooks.enqueue(event('account/created'));
    await storage.webhooks.recordFailure(id!, { status: null, error: 'ECONNREFUSED', nextAttemptAt: undefined }, NOW + 1);
    expect(await storage.webhooks.getDelivery('wh_all', id!)).toMatchObject({ status: 'failed', attempts: 1, lastStatus: null });
    expect(await storage.webhooks.due(NOW + 10, 10)).toEqual([]);
  });

  it('marks a success delivered and clears the error', async () => {
    const [id] = await storage.webhooks.enqueue(event('account/created'));
    await storage.webhooks.recordFailure(id!, { status: 503, error: 'HTTP 503', nextAttemptAt: NOW });
    await storage.webhooks.recordSuccess(id!, 204);
    expect(await storage.webhooks.getDelivery('wh_all', id!)).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 204, lastError: null });
  });

  it('retries a failed delivery now, keeping its attempt count', async () => {
    const [id] = await storage.webhooks.enqueue(event('account/created'));
    await storage.webhooks.recordFailure(id!, { status: 500, error: 'HTTP 500', nextAttemptAt: undefined });
    const retried = await storage.webhooks.retry('wh_all', id!, NOW + 50);
    expect(retried).toMatchObject({ status: 'pending', attempts: 1, nextAttemptAt: NOW + 50 });
  });

  it('retries only a delivery of the named endpoint', async () => {
    const [id] = await storage.webhooks.enqueue(event('account/created'));
    expect(await storage.webhooks.retry('wh_deleted', id!)).toBeUndefined();
  });

  it('lists deliveries newest first, by status, with a cursor', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push(...(await storage.webhooks.enqueue(event('account/updated', `e${i}`))));
    await storage.webhooks.recordFailure(ids[0]!, { status: 500, error: 'HTTP 500', nextAttemptAt: undefined });
    await storage.webhooks.recordFailure(ids[2]!, { status: 500, error: 'HTTP 500', nextAttemptAt: undefined });

    const failed = await storage.webhooks.listDeliveries('wh_all', { status: 'failed', limit: 1 });
    const next = await storage.webhooks.listDeliveries('wh_all', { status: 'failed', limit: 1, after: String(failed[0]!.id) });
    expect([failed[0]!.id, next[0]!.id]).toEqual([ids[2], ids[0]]);
  });

  it('prunes finished deliveries older than the limit', async () => {
    const [done, waiting] = [...(await storage.webhooks.enqueue(event('account/created', 'e1'))), ...(await storage.webhooks.enqueue(event('account/updated', 'e2')))];
    await storage.webhooks.recordSuccess(done!, 200, NOW);
    expect(await storage.webhooks.prune(NOW + 1)).toBe(1);
    expect(await storage.webhooks.getDelivery('wh_all', waiting!)).toBeDefined();
  });

  it('keeps the queue across a reopen', async () => {
    await storage.webhooks.enqueue(event('account/created'));
    await storage.close();
    storage = await openTestStorage(join(dir, 'db.sqlite'));
    expect(await storage.webhooks.due(NOW, 10)).toHaveLength(1);
  });
});
