import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateConfig } from '../config.js';
import { createLogger } from '../log.js';
import { type Storage, openStorage } from '../storage/index.js';
import { Hooks } from '../core/hooks.js';
import type { ServerEvents } from '../core/events.js';
import { WebhookService } from './service.js';

let dir: string;
let storage: Storage;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-webhook-service-'));
  storage = await openStorage({ driver: 'sqlite', path: join(dir, 'db.sqlite') });
  await storage.webhooks.createEndpoint({ id: 'wh_a', url: 'https://hooks.example/a', secret: 'secret-secret-secret', events: ['*'], description: null, enabled: true });
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

/** Hooks with a webhook service subscribed, as the server has them. */
function subscribedHooks(webhooks: Record<string, unknown> = {}): Hooks<ServerEvents> {
  const log = createLogger('silent');
  const hooks = new Hooks<ServerEvents>(log);
  new WebhookService({ config: validateConfig({ domain: 'example.test', webhooks }), storage, hooks, log }).subscribe();
  return hooks;
}

describe('WebhookService.subscribe', () => {
  it('queues fired account events', async () => {
    const hooks = subscribedHooks();
    await hooks.fire('account/updated', { host: 'example.test', username: 'ann', changed: ['email'] });

    const [delivery] = await storage.webhooks.due(Date.now(), 10);
    expect(delivery?.eventType).toBe('account/updated');
    expect(JSON.parse(delivery!.payload)).toMatchObject({ type: 'account/updated', data: { username: 'ann', jid: 'ann@example.test', changed: ['email'] } });
  });

  it('queues nothing when webhooks are disabled', async () => {
    const hooks = subscribedHooks({ enabled: false });
    await hooks.fire('account/created', { host: 'example.test', username: 'ann' });
    expect(await storage.webhooks.due(Date.now(), 10)).toEqual([]);
  });
});
