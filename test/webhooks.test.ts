import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { createApiToken } from '../packages/server/src/admin/tokens.js';
import { openStorage, storageOptionsFrom } from '../packages/server/src/storage/index.js';
import { enqueueAccountEvent } from '../packages/server/src/webhooks/index.js';
import { openClientStream } from './support/client.js';
import { type TestServer, startTestServer } from './support/server.js';
import { type ReceivedRequest, WebhookReceiver, hasValidSignature } from './support/webhook-receiver.js';

const PASSWORD = 'secret-pw';

/** Fast retries for tests: 3 attempts, 100 to 400 ms apart, 500 ms per attempt. */
const WEBHOOKS = { allow_private_addresses: true, timeout_ms: 500, max_attempts: 3, backoff_base_ms: 100, backoff_max_ms: 400, concurrency: 4 };

interface ApiResponse {
  status: number;
  headers: Headers;
  json: Record<string, unknown> & { items?: Record<string, unknown>[] };
}

/** Calls the admin API of `server` with a fresh bearer token. */
async function apiClient(server: TestServer): Promise<(method: string, path: string, body?: unknown) => Promise<ApiResponse>> {
  const { token } = await createApiToken(server.server.storage, 'webhook tests');
  return async (method, path, body) => {
    const response = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, json: text === '' ? {} : (JSON.parse(text) as ApiResponse['json']) };
  };
}

/** Registers in-band (XEP-0077) over a fresh connection and returns the reply's type. */
async function registerInBand(server: TestServer, username: string): Promise<string | undefined> {
  const { connection } = await openClientStream(server, 'starttls');
  try {
    const reply = connection.next((el) => el.name === 'iq' && el.attr('id') === 'reg', 5000);
    connection.send(x('iq', NS.CLIENT, { type: 'set', id: 'reg' }, x('query', NS.REGISTER, {}, x('username', NS.REGISTER, {}, username), x('password', NS.REGISTER, {}, PASSWORD))));
    return (await reply).attr('type');
  } finally {
    connection.destroy();
  }
}

/** Polls `read` every 50 ms until `done` holds for its result; fails after `timeoutMs`. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function eventsFor(requests: ReceivedRequest[], username: string): string[] {
  return requests.filter((request) => request.json.data.username === username).map((request) => request.json.type);
}

describe('webhooks', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let api: Awaited<ReturnType<typeof apiClient>>;

  /** Adds an endpoint for `path` on the receiver and returns its id and secret. */
  async function addEndpoint(path: string, events: string[] = ['*']): Promise<{ id: string; secret: string }> {
    const created = await api('POST', '/webhooks', { url: receiver.url(path), events });
    expect(created.status).toBe(201);
    return { id: created.json.id as string, secret: created.json.secret as string };
  }

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    server = await startTestServer({ webhooks: WEBHOOKS, registration: { policy: 'open', max_per_ip_per_hour: 1000 } });
    api = await apiClient(server);
  });

  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it('shows the secret only in the creation response', async () => {
    const created = await api('POST', '/webhooks', { url: receiver.url('/secret'), events: ['account/deleted'], description: 'CRM sync' });
    expect(created.json.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.headers.get('location')).toBe(`/api/v1/webhooks/${created.json.id as string}`);

    const read = await api('GET', `/webhooks/${created.json.id as string}`);
    expect(read.json).toMatchObject({ id: created.json.id, url: receiver.url('/secret'), events: ['account/deleted'], description: 'CRM sync', enabled: true });
    expect(read.json).not.toHaveProperty('secret');
    const listed = await api('GET', '/webhooks');
    expect(listed.json.items?.find((item) => item.id === created.json.id)).not.toHaveProperty('secret');
  });

  it('sends each account event, signed', async () => {
    const { secret } = await addEndpoint('/events');
    expect((await api('POST', '/accounts', { username: 'ann', password: PASSWORD })).status).toBe(201);
    expect((await api('PATCH', '/accounts/ann', { display_name: 'Ann Example' })).status).toBe(200);
    expect((await api('POST', '/accounts/ann:disable')).status).toBe(204);
    expect((await api('POST', '/accounts/ann:enable')).status).toBe(204);
    expect((await api('DELETE', '/accounts/ann')).status).toBe(204);

    const requests = await receiver.waitForCount('/events', 5);
    await eventually(async () => eventsFor(receiver.requests('/events'), 'ann'), (types) => types.includes('account/deleted'));
    expect(new Set(eventsFor(receiver.requests('/events'), 'ann'))).toEqual(
      new Set(['account/created', 'account/updated', 'account/disabled', 'account/enabled', 'account/deleted']),
    );
    for (const request of requests) {
      expect(hasValidSignature(request, secret)).toBe(true);
      expect(request.headers['parley-event-id']).toBe(request.json.id);
      expect(request.headers['parley-event']).toBe(request.json.type);
      expect(request.headers['content-type']).toBe('application/json');
    }
    const updated = receiver.requests('/events').find((request) => request.json.type === 'account/updated' && request.json.data.username === 'ann');
    expect(updated?.json.data).toMatchObject({ jid: `ann@${server.domain}`, changed: ['display_name'] });
  });

  it('sends account/registered after account/created for both registration paths', async () => {
    const { secret } = await addEndpoint('/registered', ['account/created', 'account/registered']);
    expect(await registerInBand(server, 'bea')).toBe('result');
    const http = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/registration`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'cal', password: PASSWORD }),
    });
    expect(http.status).toBe(201);

    const requests = await receiver.waitForCount('/registered', 4);
    const registered = requests.filter((request) => request.json.type === 'account/registered').map((request) => request.json.data);
    expect(registered).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ username: 'bea', via: 'xmpp', invited: false }),
        expect.objectContaining({ username: 'cal', via: 'http', invited: false }),
      ]),
    );
    // Created and registered are queued in that order, so the ids sort the same way.
    const ids = (username: string, type: string) => requests.find((request) => request.json.data.username === username && request.json.type === type)!.headers['parley-delivery'];
    expect(Number(ids('bea', 'account/created'))).toBeLessThan(Number(ids('bea', 'account/registered')));
    expect(requests.every((request) => hasValidSignature(request, secret))).toBe(true);
  });

  it('sends only the event types of the filter', async () => {
    await addEndpoint('/only-deleted', ['account/deleted']);
    await server.createAccount('dee', PASSWORD);
    expect((await api('DELETE', '/accounts/dee')).status).toBe(204);

    const [first] = await receiver.waitForCount('/only-deleted', 1);
    expect(first?.json).toMatchObject({ type: 'account/deleted', data: { username: 'dee' } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests('/only-deleted').map((request) => request.json.type)).toEqual(['account/deleted']);
  });

  it('retries after a 500 and then delivers', async () => {
    receiver.script('/flaky', [500]);
    const { id, secret } = await addEndpoint('/flaky', ['account/created']);
    await server.createAccount('eve', PASSWORD);

    const [first, second] = await receiver.waitForCount('/flaky', 2);
    expect(second!.json.id).toBe(first!.json.id);
    expect([first!.headers['parley-attempt'], second!.headers['parley-attempt']]).toEqual(['1', '2']);
    expect(hasValidSignature(second!, secret)).toBe(true);

    const delivered = await eventually(
      () => api('GET', `/webhooks/${id}/deliveries`),
      (page) => page.json.items?.[0]?.status === 'delivered',
    );
    expect(delivered.json.items?.[0]).toMatchObject({ attempts: 2, last_status: 200, last_error: null, event_type: 'account/created' });
  });

  it('retries after a timeout and then delivers', async () => {
    receiver.script('/slow', ['hang']);
    const { id } = await addEndpoint('/slow', ['account/created']);
    await server.createAccount('fay', PASSWORD);

    const [first, second] = await receiver.waitForCount('/slow', 2);
    expect(second!.json.id).toBe(first!.json.id);
    const page = await eventually(() => api('GET', `/webhooks/${id}/deliveries`), (result) => result.json.items?.[0]?.status === 'delivered');
    expect(page.json.items?.[0]?.attempts).toBe(2);
  });

  it('lists exhausted delivery as failed, retries it', async () => {
    receiver.script('/down', [500, 500, 500]);
    const { id } = await addEndpoint('/down', ['account/created']);
    await server.createAccount('gus', PASSWORD);
    await receiver.waitForCount('/down', 3);

    const failed = await eventually(() => api('GET', `/webhooks/${id}/deliveries?status=failed`), (page) => page.json.items?.length === 1);
    const delivery = failed.json.items![0]!;
    expect(delivery).toMatchObject({ status: 'failed', attempts: 3, last_status: 500, last_error: 'HTTP 500 Internal Server Error', next_attempt_at: null });
    expect((await api('GET', `/webhooks/${id}/deliveries?status=pending`)).json.items).toEqual([]);

    const retried = await api('POST', `/webhooks/${id}/deliveries/${delivery.id as string}:retry`);
    expect(retried.status).toBe(202);
    expect(retried.json.status).toBe('pending');
    const requests = await receiver.waitForCount('/down', 4);
    expect(requests[3]!.headers['parley-attempt']).toBe('4');
    await eventually(() => api('GET', `/webhooks/${id}/deliveries?status=delivered`), (page) => page.json.items?.length === 1);
  });

  it('sends a ping on request', async () => {
    const { id, secret } = await addEndpoint('/ping', ['account/deleted']);
    const sent = await api('POST', `/webhooks/${id}:test`);
    expect(sent.status).toBe(202);
    expect(sent.json.event_type).toBe('webhook/ping');

    const [ping] = await receiver.waitForCount('/ping', 1);
    expect(ping!.json).toMatchObject({ type: 'webhook/ping', data: { endpoint: id } });
    expect(hasValidSignature(ping!, secret)).toBe(true);
  });

  it('skips events while endpoint disabled', async () => {
    const { id } = await addEndpoint('/paused', ['account/created']);
    expect((await api('PATCH', `/webhooks/${id}`, { enabled: false })).json.enabled).toBe(false);
    await server.createAccount('hal', PASSWORD);
    await server.createAccount('ivy', PASSWORD);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests('/paused')).toEqual([]);

    // A disabled endpoint gets no new events, so hal and ivy are never sent to it.
    expect((await api('PATCH', `/webhooks/${id}`, { enabled: true })).status).toBe(200);
    await server.createAccount('jay', PASSWORD);
    const [request] = await receiver.waitForCount('/paused', 1);
    expect(request!.json.data.username).toBe('jay');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests('/paused')).toHaveLength(1);
  });

  it('removes an endpoint with its deliveries', async () => {
    const { id } = await addEndpoint('/removed');
    expect((await api('DELETE', `/webhooks/${id}`)).status).toBe(204);
    const missing = await api('GET', `/webhooks/${id}/deliveries`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
  });

  it('answers bad input with problems naming the field', async () => {
    const scheme = await api('POST', '/webhooks', { url: 'ftp://127.0.0.1/x' });
    expect(scheme.status).toBe(400);
    expect(scheme.json.field).toBe('/url');

    const events = await api('POST', '/webhooks', { url: receiver.url('/x'), events: ['account/exploded'] });
    expect(events.status).toBe(400);
    expect(String(events.json.field)).toMatch(/^\/events/);

    const status = await api('GET', '/webhooks/wh_none/deliveries?status=lost');
    expect(status.status).toBe(400);
    expect(status.json.field).toBe('status');
  });

  it('needs a bearer token', async () => {
    const response = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/webhooks`);
    expect(response.status).toBe(401);
  });

  it('sends events that another process queued in the database', async () => {
    await addEndpoint('/cli', ['account/created']);
    // parleyctl opens the database on its own connection while the server runs.
    const storage = await openStorage(storageOptionsFrom(server.server.config.storage));
    try {
      expect(await enqueueAccountEvent(storage, { type: 'account/created', host: server.domain, username: 'kim' })).toBeGreaterThanOrEqual(1);
    } finally {
      await storage.close();
    }
    const request = await receiver.waitFor('/cli', (candidate) => candidate.json.data.username === 'kim', 10_000);
    expect(request.json.data).toMatchObject({ jid: `kim@${server.domain}` });
  });
});

describe('webhook endpoints on non-public addresses', () => {
  let server: TestServer;
  let api: Awaited<ReturnType<typeof apiClient>>;

  beforeAll(async () => {
    server = await startTestServer();
    api = await apiClient(server);
  });

  afterAll(async () => {
    await server?.stop();
  });

  it.each(['http://127.0.0.1:9/hook', 'http://localhost/hook', 'http://[::1]/hook', 'http://10.0.0.8/hook', 'http://169.254.169.254/latest'])(
    'refuses %s by default',
    async (url) => {
      const response = await api('POST', '/webhooks', { url });
      expect(response.status).toBe(400);
      expect(response.json.field).toBe('/url');
      expect(String(response.json.detail)).toContain('not a public address');
    },
  );
});

describe('webhooks across a restart', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    // A long attempt deadline: the restart, not the timeout, ends the first attempt.
    server = await startTestServer({ webhooks: { ...WEBHOOKS, timeout_ms: 20_000 } });
  });

  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it('resumes a pending delivery after the restart', async () => {
    const api = await apiClient(server);
    const created = await api('POST', '/webhooks', { url: receiver.url('/restart'), events: ['account/created'] });
    receiver.script('/restart', ['hang']);
    await server.createAccount('lou', PASSWORD);
    const [first] = await receiver.waitForCount('/restart', 1);

    await server.restart();
    const [, second] = await receiver.waitForCount('/restart', 2);
    expect(second!.json.id).toBe(first!.json.id);
    // The attempt cut short by the stop does not count.
    expect(second!.headers['parley-attempt']).toBe('1');
    expect(hasValidSignature(second!, created.json.secret as string)).toBe(true);

    const restartedApi = await apiClient(server);
    await eventually(() => restartedApi('GET', `/webhooks/${created.json.id as string}/deliveries?status=delivered`), (page) => page.json.items?.length === 1);
  });
});

describe('webhook dispatcher limits', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    server = await startTestServer({ webhooks: { ...WEBHOOKS, concurrency: 2, timeout_ms: 1500 } });
  });

  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it('keeps at most concurrency attempts open', async () => {
    const api = await apiClient(server);
    await api('POST', '/webhooks', { url: receiver.url('/bounded'), events: ['account/created'] });
    receiver.script('/bounded', ['hang', 'hang', 'hang', 'hang']);
    for (const username of ['mae', 'ned', 'oli', 'pam']) await server.createAccount(username, PASSWORD);

    await receiver.waitForCount('/bounded', 2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(receiver.requests('/bounded')).toHaveLength(2);

    // The hanging attempts time out, which frees the slots for the other two events.
    const requests = await receiver.waitForCount('/bounded', 4, 10_000);
    expect(new Set(requests.map((request) => request.json.data.username))).toEqual(new Set(['mae', 'ned', 'oli', 'pam']));
  });

  it('documents the routes in OpenAPI', async () => {
    const response = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/openapi.json`);
    const document = (await response.json()) as { paths: Record<string, Record<string, { security?: unknown[] }>> };
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/webhooks', '/webhooks/{id}', '/webhooks/{id}/deliveries', '/webhooks/{id}/deliveries/{delivery}:retry', '/webhooks/{id}:test', '/registration']),
    );
    expect(document.paths['/registration']?.post?.security).toEqual([]);
  });
});

describe('webhooks disabled in the configuration', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    server = await startTestServer({ webhooks: { ...WEBHOOKS, enabled: false } });
  });

  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it('queues and sends nothing', async () => {
    const api = await apiClient(server);
    const created = await api('POST', '/webhooks', { url: receiver.url('/off') });
    await server.createAccount('quin', PASSWORD);

    expect((await api('GET', `/webhooks/${created.json.id as string}/deliveries`)).json.items).toEqual([]);
    const ping = await api('POST', `/webhooks/${created.json.id as string}:test`);
    expect(ping.status).toBe(409);
    expect(ping.json.detail).toContain('[webhooks] enabled = false');
    expect(receiver.requests()).toEqual([]);
  });
});
