import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiToken } from '../packages/server/src/admin/tokens.js';
import { startAdminApi, type AdminApi, type ApiResponse } from './support/admin-api.js';
import { storageToml } from './support/server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'packages/server/src/cli.ts');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

let api: AdminApi;

beforeAll(async () => {
  api = await startAdminApi();
});

afterAll(async () => {
  await api.stop();
});

function expectProblem(response: ApiResponse, status: number): void {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body.status).toBe(status);
  expect(typeof response.body.title).toBe('string');
}

describe('admin API authorization', () => {
  it('rejects a request without a token', async () => {
    const response = await api.request('GET', '/accounts', undefined, { token: null });
    expectProblem(response, 401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('rejects a malformed Authorization header', async () => {
    const response = await fetch(`${api.url}/accounts`, { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('rejects a wrong token', async () => {
    const wrongSecret = api.token.slice(0, -4) + (api.token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const token of [wrongSecret, 'parley_000000000000_' + 'A'.repeat(43), 'garbage']) {
      const response = await api.request('GET', '/accounts', undefined, { token });
      expectProblem(response, 401);
      expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    }
  });

  it('rejects a revoked token', async () => {
    const created = await createApiToken(api.server.server.storage, 'to revoke');
    expect((await api.request('GET', '/stats', undefined, { token: created.token })).status).toBe(200);
    await api.server.server.storage.apiTokens.revoke(created.id);
    expectProblem(await api.request('GET', '/stats', undefined, { token: created.token }), 401);
  });

  it('records the last use of a token', async () => {
    const created = await createApiToken(api.server.server.storage, 'usage');
    expect((await api.server.server.storage.apiTokens.get(created.id))?.lastUsedAt).toBeNull();
    await api.request('GET', '/stats', undefined, { token: created.token });
    const first = (await api.server.server.storage.apiTokens.get(created.id))?.lastUsedAt;
    expect(first).toBeTypeOf('number');
    await api.request('GET', '/stats', undefined, { token: created.token });
    // Within a minute the stored time stays, so that each request does not write.
    expect((await api.server.server.storage.apiTokens.get(created.id))?.lastUsedAt).toBe(first);
  });
});

describe('admin API errors', () => {
  it('names an unknown body field', async () => {
    const response = await api.request('POST', '/accounts', { username: 'val1', emial: 'x@example.org' });
    expectProblem(response, 400);
    expect(response.body.field).toBe('/emial');
  });

  it('names a field of the wrong type', async () => {
    const response = await api.request('POST', '/accounts', { username: 'val2', disabled: 'yes' });
    expectProblem(response, 400);
    expect(response.body.field).toBe('/disabled');
  });

  it('names a field the account service rejects', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ username: 'val3', email: 'nope' }, '/email'],
      [{ username: 'val3', external_id: 'E-val3', password: '1' }, '/password'],
      [{ username: 'val3', password_hash: 'md5:abc' }, '/password_hash'],
      [{ username: 'val3', avatar: { type: 'image/png', data: '!!!' } }, '/avatar/data'],
      [{ username: 'val3', groups: ['nope'] }, '/groups/0'],
      [{ username: 'a b' }, '/username'],
    ];
    for (const [body, field] of cases) {
      const response = await api.request('POST', '/accounts', body);
      expectProblem(response, 400);
      expect(response.body.field).toBe(field);
    }
    expect((await api.request('GET', '/accounts/val3')).status).toBe(404);
  });

  it('names an invalid query parameter', async () => {
    const response = await api.request('GET', '/accounts?limit=0');
    expectProblem(response, 400);
    expect(response.body.field).toBe('limit');
  });

  it('reports malformed JSON', async () => {
    const response = await fetch(`${api.url}/accounts`, { method: 'POST', headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' }, body: '{"username":' });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/problem\+json/);
  });

  it('rejects a body over the size limit', async () => {
    const response = await api.request('POST', '/accounts', { username: 'big', display_name: 'x'.repeat(1_100_000) });
    expectProblem(response, 413);
  });

  it('answers unknown paths with a problem', async () => {
    expectProblem(await api.request('GET', '/no-such-thing'), 404);
    expectProblem(await api.request('DELETE', '/no-such-thing'), 404);
  });
});

describe('OpenAPI document', () => {
  it('lists every route', async () => {
    const response = await api.request('GET', '/openapi.json', undefined, { token: null });
    expect(response.status).toBe(200);
    const document = JSON.parse(response.raw.toString('utf8'));
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    expect(document.components.securitySchemes.bearer.scheme).toBe('bearer');

    const operations = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([route, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${route}`));
    const expected = [
      'GET /accounts',
      'POST /accounts',
      'PUT /accounts:upsert',
      'GET /accounts/by-external-id/{externalId}',
      'GET /accounts/{username}',
      'PATCH /accounts/{username}',
      'DELETE /accounts/{username}',
      'POST /accounts/{username}:disable',
      'POST /accounts/{username}:enable',
      'POST /accounts/{username}:reset-password',
      'GET /accounts/{username}/avatar',
      'PUT /accounts/{username}/avatar',
      'DELETE /accounts/{username}/avatar',
      'GET /departments',
      'POST /departments',
      'GET /departments/{id}',
      'PATCH /departments/{id}',
      'DELETE /departments/{id}',
      'GET /departments/{id}/members',
      'PUT /departments/{id}/members/{username}',
      'DELETE /departments/{id}/members/{username}',
      'GET /groups',
      'POST /groups',
      'GET /groups/{id}',
      'PATCH /groups/{id}',
      'DELETE /groups/{id}',
      'GET /groups/{id}/members',
      'PUT /groups/{id}/members/{username}',
      'DELETE /groups/{id}/members/{username}',
      'GET /sessions',
      'DELETE /sessions/{jid}',
      'POST /invitations',
      'GET /invitations',
      'DELETE /invitations/{id}',
      'GET /stats',
    ];
    for (const operation of expected) expect(operations).toContain(operation);
    expect(operations.some((operation) => operation.startsWith('HEAD '))).toBe(false);
    expect(operations.some((operation) => operation.includes('*'))).toBe(false);

    const disable = document.paths['/accounts/{username}:disable'].post;
    expect(disable.parameters).toEqual([expect.objectContaining({ name: 'username', in: 'path', required: true })]);
    const create = document.paths['/accounts'].post;
    expect(create.requestBody.content['application/json'].schema.properties.external_id).toBeDefined();
    expect(create.responses.default.content['application/problem+json'].schema.$ref).toBe('#/components/schemas/Problem');
  });
});

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function parleyctl(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(TSX, ['--conditions=source', CLI, ...args], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

describe('parleyctl token', () => {
  it('creates, lists and revokes a token', async () => {
    const configFile = path.join(api.server.dataDir, 'parley.toml');
    await writeFile(configFile, `domain = "${api.server.domain}"\ndata_dir = "${api.server.dataDir}"\n${storageToml(api.server)}`);

    const created = await parleyctl(['-c', configFile, 'token', 'create', '--name', 'ci script']);
    expect(created.code).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^parley_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const id = token.split('_')[1]!;
    expect((await api.request('GET', '/stats', undefined, { token })).status).toBe(200);

    const listed = await parleyctl(['-c', configFile, 'token', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\tci script\\t.*\\tactive$`, 'm'));
    expect(listed.stdout).not.toContain(token.split('_').slice(2).join('_'));

    const revoked = await parleyctl(['-c', configFile, 'token', 'revoke', id]);
    expect(revoked.code).toBe(0);
    expect((await api.request('GET', '/stats', undefined, { token })).status).toBe(401);

    const again = await parleyctl(['-c', configFile, 'token', 'revoke', id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no active token/);
  });

  it('requires a name', async () => {
    const configFile = path.join(api.server.dataDir, 'parley.toml');
    const run = await parleyctl(['-c', configFile, 'token', 'create']);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/--name/);
  });
});
