import { createHash } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { TestClient } from './support/client.js';
import { startAdminApi, type AdminApi } from './support/admin-api.js';

let api: AdminApi;
const updates: { username: string; changed: string[] }[] = [];

beforeAll(async () => {
  api = await startAdminApi();
  api.server.server.hooks.on('account/updated', ({ username, changed }) => {
    updates.push({ username, changed });
    return false;
  });
  for (const username of ['gus', 'hana', 'ivan']) await api.request('POST', '/accounts', { username, password: 'secret-1' });
});

afterAll(async () => {
  await api.stop();
});

function ids(page: { items: { id?: string; username?: string }[] }): (string | undefined)[] {
  return page.items.map((item) => item.id ?? item.username);
}

describe('departments', () => {
  it('creates, reads, changes and lists departments', async () => {
    const created = await api.request('POST', '/departments', { id: 'rd', name: 'Research', shared_roster: true });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'rd', name: 'Research', parent_id: null, shared_roster: true });
    expect((await api.request('POST', '/departments', { id: 'rd', name: 'Again' })).status).toBe(409);

    const child = await api.request('POST', '/departments', { id: 'rd-ml', name: 'Machine learning', parent_id: 'rd' });
    expect(child.body.parent_id).toBe('rd');
    const generated = await api.request('POST', '/departments', { name: 'Generated id' });
    expect(generated.body.id).toMatch(/^[0-9a-f]{16}$/);

    const patched = await api.request('PATCH', '/departments/rd', { name: 'R&D', shared_roster: false });
    expect(patched.body).toMatchObject({ name: 'R&D', shared_roster: false });
    expect((await api.request('GET', '/departments/rd')).body.name).toBe('R&D');

    const cycle = await api.request('PATCH', '/departments/rd', { parent_id: 'rd-ml' });
    expect(cycle.status).toBe(400);
    expect(cycle.body.field).toBe('/parent_id');
    expect((await api.request('POST', '/departments', { id: 'x', name: 'X', parent_id: 'missing' })).body.field).toBe('/parent_id');
    expect((await api.request('POST', '/departments', { id: 'x', name: '   ' })).body.field).toBe('/name');

    const page = await api.request('GET', '/departments?limit=2');
    expect(page.body.items).toHaveLength(2);
    expect(page.body.next).not.toBeNull();
    const rest = await api.request('GET', `/departments?limit=2&after=${encodeURIComponent(page.body.next)}`);
    expect([...ids(page.body), ...ids(rest.body)].sort()).toEqual([generated.body.id, 'rd', 'rd-ml'].sort());
    expect((await api.request('GET', '/groups/rd')).status).toBe(404);
  });

  it('moves members between departments', async () => {
    await api.request('POST', '/departments', { id: 'ops', name: 'Operations' });
    await api.request('POST', '/departments', { id: 'sales', name: 'Sales' });
    expect((await api.request('PUT', '/departments/ops/members/Gus')).status).toBe(204);
    expect((await api.request('PUT', '/departments/ops/members/hana')).status).toBe(204);
    expect(ids((await api.request('GET', '/departments/ops/members')).body)).toEqual(['gus', 'hana']);

    expect((await api.request('PUT', '/departments/sales/members/gus')).status).toBe(204);
    expect(ids((await api.request('GET', '/departments/ops/members')).body)).toEqual(['hana']);
    expect((await api.request('GET', '/accounts/gus')).body.department).toBe('sales');
    expect(updates.filter((update) => update.username === 'gus').map((update) => update.changed)).toEqual([['department'], ['department']]);

    expect((await api.request('DELETE', '/departments/ops/members/gus')).status).toBe(404);
    expect((await api.request('DELETE', '/departments/ops/members/hana')).status).toBe(204);
    expect((await api.request('GET', '/accounts/hana')).body.department).toBeNull();
    expect((await api.request('PUT', '/departments/ops/members/nobody')).status).toBe(404);
    expect((await api.request('PUT', '/departments/missing/members/gus')).status).toBe(404);
  });

  it('deletes a department and clears its members', async () => {
    await api.request('POST', '/departments', { id: 'temp', name: 'Temporary' });
    await api.request('PUT', '/departments/temp/members/ivan');
    expect((await api.request('DELETE', '/departments/temp')).status).toBe(204);
    expect((await api.request('GET', '/departments/temp')).status).toBe(404);
    expect((await api.request('GET', '/accounts/ivan')).body.department).toBeNull();
    expect(updates.at(-1)).toEqual({ username: 'ivan', changed: ['department'] });
  });

  it('refuses to delete a parent department', async () => {
    await api.request('POST', '/departments', { id: 'top', name: 'Top' });
    await api.request('POST', '/departments', { id: 'below', name: 'Below', parent_id: 'top' });
    expect((await api.request('DELETE', '/departments/top')).status).toBe(409);
  });
});

describe('groups', () => {
  it('manages groups and their members', async () => {
    expect((await api.request('POST', '/groups', { id: 'band', name: 'Band', shared_roster: true })).status).toBe(201);
    await api.request('POST', '/groups', { id: 'choir', name: 'Choir' });
    expect((await api.request('PUT', '/groups/band/members/gus')).status).toBe(204);
    expect((await api.request('PUT', '/groups/band/members/gus')).status).toBe(204);
    expect((await api.request('PUT', '/groups/choir/members/gus')).status).toBe(204);
    expect((await api.request('GET', '/accounts/gus')).body.groups).toEqual(['band', 'choir']);
    expect((await api.request('GET', '/accounts?search=gus')).body.items[0].groups).toEqual(['band', 'choir']);
    expect(ids((await api.request('GET', '/groups/band/members')).body)).toEqual(['gus']);

    expect((await api.request('DELETE', '/groups/band/members/gus')).status).toBe(204);
    expect((await api.request('GET', '/accounts/gus')).body.groups).toEqual(['choir']);
    expect((await api.request('PATCH', '/accounts/gus', { groups: ['band'] })).body.groups).toEqual(['band']);
    expect((await api.request('PATCH', '/accounts/gus', { department: 'band' })).body.field).toBe('/department');

    expect((await api.request('DELETE', '/groups/band')).status).toBe(204);
    expect((await api.request('GET', '/accounts/gus')).body.groups).toEqual([]);
    expect((await api.request('GET', '/departments/choir')).status).toBe(404);
  });
});

describe('sessions', () => {
  it('lists and ends live sessions', async () => {
    const client = await TestClient.connect(api.server, { username: 'hana', password: 'secret-1', resource: 'laptop', presence: true });
    const listed = await api.request('GET', '/sessions?username=hana');
    expect(listed.status).toBe(200);
    expect(listed.body.items).toEqual([expect.objectContaining({ jid: 'hana@example.test/laptop', username: 'hana', resource: 'laptop', available: true, hibernating: false })]);

    const ended = await api.request('DELETE', `/sessions/${encodeURIComponent('hana@example.test/laptop')}`);
    expect(ended.status).toBe(204);
    expect(await client.streamError(3000)).toBe('policy-violation');
    expect((await api.request('DELETE', `/sessions/${encodeURIComponent('hana@example.test/laptop')}`)).status).toBe(404);

    const bare = await api.request('DELETE', `/sessions/${encodeURIComponent('hana@example.test')}`);
    expect(bare.status).toBe(400);
    expect(bare.body.field).toBe('jid');
  });
});

describe('invitations', () => {
  it('creates, lists and revokes invitations', async () => {
    const created = await api.request('POST', '/invitations', { max_uses: 3, expires_in_s: 3600, note: 'new hires' });
    expect(created.status).toBe(201);
    expect(created.body.id).toBe(createHash('sha256').update(created.body.token).digest('hex'));
    expect(created.body).toMatchObject({ max_uses: 3, uses: 0, note: 'new hires' });
    expect(Date.parse(created.body.expires_at) - Date.parse(created.body.created_at)).toBe(3_600_000);
    expect(await api.server.server.storage.invites.consume(api.server.domain, created.body.id, Date.now())).toBe(true);

    const listed = await api.request('GET', '/invitations');
    const item = listed.body.items.find((entry: { id: string }) => entry.id === created.body.id);
    expect(item).toMatchObject({ uses: 1, max_uses: 3 });
    expect(item.token).toBeUndefined();

    expect((await api.request('POST', '/invitations', { max_uses: 0 })).body.field).toBe('/max_uses');
    expect((await api.request('DELETE', `/invitations/${created.body.id}`)).status).toBe(204);
    expect((await api.request('DELETE', `/invitations/${created.body.id}`)).status).toBe(404);
    expect((await api.request('DELETE', '/invitations/not-a-hash')).body.field).toBe('id');
  });
});

describe('stats', () => {
  it('reports counts, uptime and memory', async () => {
    const client = await TestClient.connect(api.server, { username: 'ivan', password: 'secret-1' });
    const stats = await api.request('GET', '/stats');
    expect(stats.status).toBe(200);
    expect(stats.body.accounts).toBe(3);
    expect(stats.body.online_sessions).toBe(1);
    expect(stats.body.rooms).toBe(0);
    expect(stats.body.archive.database_bytes).toBeGreaterThan(0);
    expect(stats.body.uptime_s).toBeGreaterThan(0);
    expect(stats.body.memory.rss_bytes).toBeGreaterThan(0);
    await client.close();
  });
});
