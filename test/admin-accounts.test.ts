import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestClient, bindResource, login, openClientStream, saslFailureCondition, type LoginMechanism } from './support/client.js';
import { startAdminApi, type AdminApi } from './support/admin-api.js';

const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('image data')]);
const GIF = Buffer.from('GIF89a and the rest');

let api: AdminApi;
const events: { name: string; username: string; changed?: string[] }[] = [];

beforeAll(async () => {
  api = await startAdminApi();
  for (const name of ['account/created', 'account/updated', 'account/disabled', 'account/enabled', 'account/deleted'] as const) {
    api.server.server.hooks.on(name, (event) => {
      events.push({ name, username: event.username, ...('changed' in event ? { changed: event.changed } : {}) });
      return false;
    });
  }
});

afterAll(async () => {
  await api.stop();
});

/** Builds a legacy hash of `password` in the salted SHA-256 form `sha256$salt$hex`. */
function saltedSha256(salt: string, password: string): string {
  return `sha256$${salt}$${createHash('sha256').update(salt).update(password).digest('hex')}`;
}

/** Logs in over STARTTLS and binds; returns 'success' or the SASL failure condition. */
async function attemptLogin(mechanism: LoginMechanism, username: string, password: string): Promise<string> {
  const { connection } = await openClientStream(api.server, 'starttls');
  try {
    const outcome = await login(connection, mechanism, username, password);
    if (outcome.name !== 'success') return saslFailureCondition(outcome) ?? outcome.name;
    await connection.openStream();
    await bindResource(connection);
    return 'success';
  } finally {
    connection.destroy();
  }
}

function eventsOf(username: string) {
  return events.filter((event) => event.username === username);
}

describe('accounts', () => {
  it('creates, reads, updates and deletes an account', async () => {
    const created = await api.request('POST', '/accounts', { username: 'Anna', password: 'secret-1', display_name: 'Anna A', email: 'anna@example.org', title: 'Engineer' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('/api/v1/accounts/anna');
    expect(created.body).toMatchObject({ username: 'anna', jid: 'anna@example.test', display_name: 'Anna A', email: 'anna@example.org', title: 'Engineer', disabled: false, groups: [] });

    expect((await api.request('GET', '/accounts/anna')).body.display_name).toBe('Anna A');
    expect((await api.request('POST', '/accounts', { username: 'anna' })).status).toBe(409);

    const patched = await api.request('PATCH', '/accounts/anna', { title: null, phone: '+49 30 1234567' });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ title: null, phone: '+49 30 1234567' });
    expect(eventsOf('anna').at(-1)).toEqual({ name: 'account/updated', username: 'anna', changed: ['phone', 'title'] });

    expect((await api.request('PATCH', '/accounts/anna', { username: 'other' })).body.field).toBe('/username');
    expect((await api.request('DELETE', '/accounts/anna')).status).toBe(204);
    expect((await api.request('GET', '/accounts/anna')).status).toBe(404);
    expect((await api.request('DELETE', '/accounts/anna')).status).toBe(404);
    expect(eventsOf('anna').map((event) => event.name)).toEqual(['account/created', 'account/updated', 'account/deleted']);
  });

  it('upserts by external id idempotently', async () => {
    const body = { external_id: 'HR-100', username: 'ben', display_name: 'Ben B', department: 'eng', department_name: 'Engineering', password: 'secret-1' };
    const first = await api.request('PUT', '/accounts:upsert', body);
    expect(first.status).toBe(201);
    expect(first.body.created).toBe(true);
    const before = eventsOf('ben').length;

    const second = await api.request('PUT', '/accounts:upsert', body);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ created: false, changed: [] });
    expect(eventsOf('ben').length).toBe(before);

    const third = await api.request('PUT', '/accounts:upsert', { external_id: 'HR-100', display_name: 'Benjamin B' });
    expect(third.body.changed).toEqual(['display_name']);
    expect(eventsOf('ben').at(-1)).toEqual({ name: 'account/updated', username: 'ben', changed: ['display_name'] });

    const byExternal = await api.request('GET', '/accounts/by-external-id/HR-100');
    expect(byExternal.body).toMatchObject({ username: 'ben', department: 'eng', display_name: 'Benjamin B' });
    expect((await api.request('GET', '/accounts/by-external-id/HR-999')).status).toBe(404);
    expect((await api.request('GET', '/departments/eng')).body.name).toBe('Engineering');

    const client = await TestClient.connect(api.server, { username: 'ben', password: 'secret-1' });
    await client.close();
  });

  it('keeps an upgraded login when the same hash comes again', async () => {
    const body = { external_id: 'HR-200', username: 'hugo', password_hash: saltedSha256('s1', 'first-secret') };
    expect((await api.request('PUT', '/accounts:upsert', body)).status).toBe(201);
    expect(await attemptLogin('SCRAM-SHA-256', 'hugo', 'first-secret')).toBe('not-authorized');
    expect(await attemptLogin('PLAIN', 'hugo', 'first-secret')).toBe('success');
    expect(await attemptLogin('SCRAM-SHA-256', 'hugo', 'first-secret')).toBe('success');

    const again = await api.request('PUT', '/accounts:upsert', body);
    expect(again.status).toBe(200);
    expect(again.body.changed).toEqual([]);
    expect(await attemptLogin('SCRAM-SHA-256', 'hugo', 'first-secret')).toBe('success');
  });

  it('replaces an upgraded login when the hash changes', async () => {
    await api.request('PUT', '/accounts:upsert', { external_id: 'HR-201', username: 'ines', password_hash: saltedSha256('s1', 'first-secret') });
    expect(await attemptLogin('PLAIN', 'ines', 'first-secret')).toBe('success');

    const changed = await api.request('PUT', '/accounts:upsert', { external_id: 'HR-201', password_hash: saltedSha256('s2', 'second-secret') });
    expect(changed.status).toBe(200);
    expect(changed.body.changed).toEqual(['password']);
    expect(await attemptLogin('PLAIN', 'ines', 'first-secret')).toBe('not-authorized');
    expect(await attemptLogin('SCRAM-SHA-256', 'ines', 'first-secret')).toBe('not-authorized');
    expect(await attemptLogin('PLAIN', 'ines', 'second-secret')).toBe('success');
    expect(await attemptLogin('SCRAM-SHA-256', 'ines', 'second-secret')).toBe('success');
  });

  it('lists accounts with paging and search', async () => {
    for (const username of ['list-a', 'list-b', 'list-c']) await api.request('POST', '/accounts', { username, display_name: `Person ${username}` });
    const first = await api.request('GET', '/accounts?limit=2&search=list-');
    expect(first.body.items.map((item: { username: string }) => item.username)).toEqual(['list-a', 'list-b']);
    expect(first.body.next).toBe('list-b');
    const second = await api.request('GET', `/accounts?limit=2&search=list-&after=${first.body.next}`);
    expect(second.body.items.map((item: { username: string }) => item.username)).toEqual(['list-c']);
    expect(second.body.next).toBeNull();
    expect((await api.request('GET', '/accounts?search=Person%20list-b')).body.items).toHaveLength(1);
  });

  it('stores, returns and removes an avatar', async () => {
    await api.request('POST', '/accounts', { username: 'cleo', avatar: { type: 'image/png', data: PNG.toString('base64') } });
    const image = await api.request('GET', '/accounts/cleo/avatar');
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(image.raw.equals(PNG)).toBe(true);

    const replaced = await api.request('PUT', '/accounts/cleo/avatar', GIF, { contentType: 'image/gif' });
    expect(replaced.status).toBe(204);
    expect((await api.request('GET', '/accounts/cleo/avatar')).raw.equals(GIF)).toBe(true);
    expect(eventsOf('cleo').at(-1)).toEqual({ name: 'account/updated', username: 'cleo', changed: ['avatar'] });
    expect((await api.request('GET', '/accounts/cleo')).body.avatar_sha1).toMatch(/^[0-9a-f]{40}$/);

    const mismatched = await api.request('PUT', '/accounts/cleo/avatar', PNG, { contentType: 'image/jpeg' });
    expect(mismatched.status).toBe(400);
    expect(mismatched.body.field).toBe('');
    expect((await api.request('PUT', '/accounts/cleo/avatar', Buffer.alloc(300 * 1024, 1), { contentType: 'image/png' })).status).toBe(413);
    expect((await api.request('PUT', '/accounts/cleo/avatar', PNG, { contentType: 'image/bmp' })).status).toBe(415);

    expect((await api.request('DELETE', '/accounts/cleo/avatar')).status).toBe(204);
    expect((await api.request('GET', '/accounts/cleo/avatar')).status).toBe(404);
  });

  it('resets a password', async () => {
    await api.request('POST', '/accounts', { username: 'dora', password: 'old-secret' });
    const reset = await api.request('POST', '/accounts/dora:reset-password', { password: 'new-secret' });
    expect(reset.status).toBe(204);
    expect(reset.raw.length).toBe(0);
    const client = await TestClient.connect(api.server, { username: 'dora', password: 'new-secret' });
    await client.close();
    expect((await api.request('POST', '/accounts/dora:reset-password', { password: 'x' })).body.field).toBe('/password');
    expect((await api.request('POST', '/accounts/nobody:reset-password', { password: 'new-secret' })).status).toBe(404);
  });

  it('disabling ends the live session and refuses logins', async () => {
    await api.request('POST', '/accounts', { username: 'emil', password: 'secret-1' });
    const client = await TestClient.connect(api.server, { username: 'emil', password: 'secret-1', presence: true });

    const disabled = await api.request('POST', '/accounts/emil:disable');
    expect(disabled.status).toBe(204);
    expect(await client.streamError(3000)).toBe('not-authorized');
    expect((await api.request('GET', '/accounts/emil')).body.disabled).toBe(true);

    const { connection } = await openClientStream(api.server, 'starttls');
    const outcome = await login(connection, 'SCRAM-SHA-256', 'emil', 'secret-1');
    expect(saslFailureCondition(outcome)).toBe('account-disabled');
    connection.destroy();

    expect((await api.request('POST', '/accounts/emil:disable')).status).toBe(204);
    expect((await api.request('POST', '/accounts/emil:enable')).status).toBe(204);
    expect(eventsOf('emil').map((event) => event.name)).toEqual(['account/created', 'account/disabled', 'account/enabled']);
    const again = await TestClient.connect(api.server, { username: 'emil', password: 'secret-1' });
    await again.close();
  });

  it('deleting ends the live session', async () => {
    await api.request('POST', '/accounts', { username: 'fred', password: 'secret-1' });
    const client = await TestClient.connect(api.server, { username: 'fred', password: 'secret-1' });
    expect((await api.request('DELETE', '/accounts/fred')).status).toBe(204);
    expect(await client.streamError(3000)).toBe('not-authorized');
  });
});
