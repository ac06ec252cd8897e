import { createHash } from 'node:crypto';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, readStanzaErrorCondition, x } from '@parley/xmpp';
import type { AccountRegisteredEvent } from '../packages/server/src/core/events.js';
import { login, openClientStream } from './support/client.js';
import { type TestServer, startTestServer } from './support/server.js';

const PASSWORD = 'secret-pw';

interface HttpReply {
  status: number;
  contentType: string | null;
  json: Record<string, unknown>;
}

/** Calls the public registration endpoint, without any token. */
async function http(server: TestServer, method: 'GET' | 'POST', body?: Record<string, unknown>): Promise<HttpReply> {
  const response = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/registration`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, contentType: response.headers.get('content-type'), json: (await response.json()) as Record<string, unknown> };
}

/** Registers in-band (XEP-0077) over a fresh STARTTLS connection; returns the error condition, or 'result'. */
async function inBand(server: TestServer, username: string, password: string, token?: string): Promise<string | undefined> {
  const { connection } = await openClientStream(server, 'starttls');
  try {
    const reply = connection.next((el) => el.name === 'iq' && el.attr('id') === 'reg', 5000);
    const query = x('query', NS.REGISTER, {}, x('username', NS.REGISTER, {}, username), x('password', NS.REGISTER, {}, password));
    if (token !== undefined) query.append(x('key', NS.REGISTER, {}, token));
    connection.send(x('iq', NS.CLIENT, { type: 'set', id: 'reg' }, query));
    return outcome(await reply);
  } finally {
    connection.destroy();
  }
}

function outcome(reply: Element): string | undefined {
  const error = reply.getChild('error');
  return error ? readStanzaErrorCondition(error) : reply.attr('type');
}

async function canLogin(server: TestServer, username: string, password: string): Promise<boolean> {
  const { connection } = await openClientStream(server, 'starttls');
  try {
    return (await login(connection, 'SCRAM-SHA-256', username, password)).name === 'success';
  } finally {
    connection.destroy();
  }
}

/** Starts a server per describe block and records every 'account/registered' event. */
function useServer(registration: Record<string, unknown>) {
  const state = { server: undefined as unknown as TestServer, registered: [] as AccountRegisteredEvent[] };
  beforeAll(async () => {
    state.server = await startTestServer({ registration });
    state.server.server.hooks.on('account/registered', (event) => {
      state.registered.push(event);
    });
  });
  afterAll(async () => {
    await state.server?.stop();
  });
  return state;
}

describe('registration policy open', () => {
  const env = useServer({ policy: 'open', max_per_ip_per_hour: 1000, min_password_length: 8 });

  it('describes the policy without a token', async () => {
    const reply = await http(env.server, 'GET');
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ domain: env.server.domain, policy: 'open', min_password_length: 8, token_required: false });
  });

  it('registers over HTTP, and the account logs in over XMPP', async () => {
    const reply = await http(env.server, 'POST', { username: 'Nora', password: PASSWORD });
    expect(reply.status).toBe(201);
    expect(reply.json).toEqual({ username: 'nora', jid: `nora@${env.server.domain}` });
    expect(await canLogin(env.server, 'nora', PASSWORD)).toBe(true);
    expect(env.registered).toContainEqual({ host: env.server.domain, username: 'nora', via: 'http', invited: false });
  });

  it('reports a name taken in-band as 409 over HTTP', async () => {
    expect(await inBand(env.server, 'omar', PASSWORD)).toBe('result');
    expect(env.registered).toContainEqual({ host: env.server.domain, username: 'omar', via: 'xmpp', invited: false });
    const reply = await http(env.server, 'POST', { username: 'omar', password: 'other-password' });
    expect(reply.status).toBe(409);
    expect(reply.contentType).toContain('application/problem+json');
    expect(reply.json).toMatchObject({ status: 409, field: '/username' });
    expect(await canLogin(env.server, 'omar', PASSWORD)).toBe(true);
  });

  it('reports a name taken over HTTP as conflict in-band', async () => {
    expect((await http(env.server, 'POST', { username: 'pia', password: PASSWORD })).status).toBe(201);
    expect(await inBand(env.server, 'pia', PASSWORD)).toBe('conflict');
  });

  it('applies the minimum password length on both paths', async () => {
    const reply = await http(env.server, 'POST', { username: 'quinn', password: 'short' });
    expect(reply.status).toBe(400);
    expect(reply.json.field).toBe('/password');
    expect(await inBand(env.server, 'quinn', 'short')).toBe('not-acceptable');
    expect(await env.server.server.storage.accounts.exists(env.server.domain, 'quinn')).toBe(false);
  });

  it('refuses an invalid username naming the field', async () => {
    const reply = await http(env.server, 'POST', { username: 'bad<name', password: PASSWORD });
    expect(reply.status).toBe(400);
    expect(reply.json.field).toBe('/username');
    expect(await inBand(env.server, 'bad<name', PASSWORD)).toBe('jid-malformed');
  });

  it('refuses a request without a password naming the field', async () => {
    const reply = await http(env.server, 'POST', { username: 'rosa' });
    expect(reply.status).toBe(400);
    expect(reply.json.field).toBe('/password');
  });
});

describe('registration policy invite', () => {
  const env = useServer({ policy: 'invite', max_per_ip_per_hour: 1000 });

  async function createInvite(token: string, maxUses: number): Promise<void> {
    const tokenHash = createHash('sha256').update(token).digest('hex');
    await env.server.server.storage.invites.create({ host: env.server.domain, tokenHash, expiresAt: null, maxUses, createdBy: null, note: null });
  }

  async function usesOf(token: string): Promise<number | undefined> {
    const tokenHash = createHash('sha256').update(token).digest('hex');
    return (await env.server.server.storage.invites.list(env.server.domain)).find((invite) => invite.tokenHash === tokenHash)?.uses;
  }

  it('says that a token is needed', async () => {
    expect((await http(env.server, 'GET')).json).toMatchObject({ policy: 'invite', token_required: true });
  });

  it('refuses a missing token with 403 naming the token', async () => {
    const reply = await http(env.server, 'POST', { username: 'sam', password: PASSWORD });
    expect(reply.status).toBe(403);
    expect(reply.json.field).toBe('/token');
    expect(await inBand(env.server, 'sam', PASSWORD)).toBe('not-authorized');
  });

  it('refuses an unknown token on both paths', async () => {
    const reply = await http(env.server, 'POST', { username: 'tia', password: PASSWORD, token: 'no-such-token' });
    expect(reply.status).toBe(403);
    expect(reply.json.field).toBe('/token');
    expect(await inBand(env.server, 'tia', PASSWORD, 'no-such-token')).toBe('not-authorized');
    expect(await env.server.server.storage.accounts.exists(env.server.domain, 'tia')).toBe(false);
  });

  it('counts uses across both paths and refuses the used-up token', async () => {
    await createInvite('shared-token', 2);
    expect((await http(env.server, 'POST', { username: 'uma', password: PASSWORD, token: 'shared-token' })).status).toBe(201);
    expect(await usesOf('shared-token')).toBe(1);
    expect(await inBand(env.server, 'vic', PASSWORD, 'shared-token')).toBe('result');
    expect(await usesOf('shared-token')).toBe(2);

    const third = await http(env.server, 'POST', { username: 'wes', password: PASSWORD, token: 'shared-token' });
    expect(third.status).toBe(403);
    expect(third.json.field).toBe('/token');
    expect(await inBand(env.server, 'wes', PASSWORD, 'shared-token')).toBe('not-authorized');
    expect(await usesOf('shared-token')).toBe(2);
    expect(env.registered.filter((event) => event.invited).map((event) => [event.username, event.via])).toEqual([
      ['uma', 'http'],
      ['vic', 'xmpp'],
    ]);
  });

  it('keeps the invitation when the request fails for another reason', async () => {
    await createInvite('kept-token', 1);
    expect((await http(env.server, 'POST', { username: 'xan', password: 'abc', token: 'kept-token' })).status).toBe(400);
    expect((await http(env.server, 'POST', { username: 'uma', password: PASSWORD, token: 'kept-token' })).status).toBe(409);
    expect(await inBand(env.server, 'uma', PASSWORD, 'kept-token')).toBe('conflict');
    expect(await usesOf('kept-token')).toBe(0);
    expect((await http(env.server, 'POST', { username: 'xan', password: PASSWORD, token: 'kept-token' })).status).toBe(201);
  });
});

describe('registration policy closed', () => {
  const env = useServer({ policy: 'closed' });

  it('says that registration is closed', async () => {
    expect((await http(env.server, 'GET')).json).toMatchObject({ policy: 'closed', token_required: false });
  });

  it('refuses both paths and creates no account', async () => {
    const reply = await http(env.server, 'POST', { username: 'yul', password: PASSWORD });
    expect(reply.status).toBe(403);
    expect(reply.contentType).toContain('application/problem+json');
    expect(await inBand(env.server, 'yul', PASSWORD)).toBe('not-allowed');
    expect(await env.server.server.storage.accounts.exists(env.server.domain, 'yul')).toBe(false);
    expect(env.registered).toEqual([]);
  });
});

describe('registration throttling', () => {
  const env = useServer({ policy: 'open', max_per_ip_per_hour: 2 });

  it('shares one hourly limit per address between both paths', async () => {
    expect(await inBand(env.server, 'zed', PASSWORD)).toBe('result');
    expect((await http(env.server, 'POST', { username: 'abe', password: PASSWORD })).status).toBe(201);

    const refused = await http(env.server, 'POST', { username: 'bo', password: PASSWORD });
    expect(refused.status).toBe(429);
    expect(refused.contentType).toContain('application/problem+json');
    expect(await inBand(env.server, 'bo', PASSWORD)).toBe('resource-constraint');
    expect(await env.server.server.storage.accounts.exists(env.server.domain, 'bo')).toBe(false);
  });

  it('does not count refused registrations', async () => {
    // A taken name is refused before the limit applies, so it reports the conflict.
    expect((await http(env.server, 'POST', { username: 'zed', password: PASSWORD })).status).toBe(409);
  });
});

describe('registration without TLS', () => {
  const env = useServer({ policy: 'open', max_per_ip_per_hour: 1000 });
  let strict: TestServer;

  beforeAll(async () => {
    strict = await startTestServer({ registration: { policy: 'open' }, tls: { allow_plaintext_on_loopback: false } });
  });

  afterAll(async () => {
    await strict?.stop();
  });

  it('rejects plain HTTP where TLS is required', async () => {
    const reply = await http(strict, 'POST', { username: 'cyd', password: PASSWORD });
    expect(reply.status).toBe(403);
    expect(reply.json.title).toBe('HTTPS required');
    expect(await strict.server.storage.accounts.exists(strict.domain, 'cyd')).toBe(false);
  });

  it('accepts HTTPS where TLS is required', async () => {
    const reply = await postOverHttps(strict, { username: 'cyd', password: PASSWORD });
    expect(reply.status).toBe(201);
    expect(await strict.server.storage.accounts.exists(strict.domain, 'cyd')).toBe(true);
  });

  it('accepts plain HTTP on loopback by default', async () => {
    expect((await http(env.server, 'POST', { username: 'dot', password: PASSWORD })).status).toBe(201);
  });
});

/** Posts to the registration endpoint on the HTTPS listener, which has a self-signed test certificate. */
function postOverHttps(server: TestServer, body: Record<string, unknown>): Promise<{ status: number; json: Record<string, unknown> }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      { host: '127.0.0.1', port: server.httpsPort, path: '/api/v1/registration', method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json' } },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> }));
      },
    );
    request.setTimeout(5000, () => request.destroy(new Error('no response within 5 s')));
    request.on('error', reject);
    request.end(payload);
  });
}
