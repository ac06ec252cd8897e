import { execFile } from 'node:child_process';
import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { argon2id, bcrypt } from 'hash-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createApiToken } from '../packages/server/src/admin/tokens.js';
import type { ImportReport } from '../packages/server/src/provisioning/import.js';
import { type ClientTransport, bindResource, login, openClientStream, saslFailureCondition } from './support/client.js';
import { startTestServer, storageToml, type TestServer } from './support/server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'packages/server/src/cli.ts');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

const ROW_COUNT = 10_000;
const POOL_SIZE = 20;
const FORMATS = ['bcrypt', 'argon2id', 'passlib', 'django', 'ssha256', 'sha256', 'password'] as const;
type Format = (typeof FORMATS)[number];

interface PoolEntry {
  password: string;
  /** The password_hash cell, or empty for rows with a plain password. */
  hash: string;
}

/**
 * Builds POOL_SIZE hashes per format with low but valid costs, so that generating and
 * verifying them stays fast: bcrypt cost 4, argon2id m=64 KiB t=1, PBKDF2 1000 iterations.
 */
async function hashPool(): Promise<Record<Format, PoolEntry[]>> {
  const pool = {} as Record<Format, PoolEntry[]>;
  for (const format of FORMATS) pool[format] = [];

  for (let index = 0; index < POOL_SIZE; index++) {
    const password = `pw-${index}-${randomBytes(4).toString('hex')}`;
    const bytes = Buffer.from(password, 'utf8');
    const salt = randomBytes(16);
    const ab64 = (data: Buffer) => data.toString('base64').replace(/=+$/, '').replaceAll('+', '.');
    const ssha = Buffer.concat([createHash('sha256').update(bytes).update(salt).digest(), salt]);
    pool.bcrypt.push({ password, hash: await bcrypt({ password: bytes, salt, costFactor: 4, outputType: 'encoded' }) });
    pool.argon2id.push({ password, hash: await argon2id({ password: bytes, salt, iterations: 1, memorySize: 64, parallelism: 1, hashLength: 32, outputType: 'encoded' }) });
    pool.passlib.push({ password, hash: `$pbkdf2-sha256$1000$${ab64(salt)}$${ab64(pbkdf2Sync(bytes, salt, 1000, 32, 'sha256'))}` });
    pool.django.push({ password, hash: `pbkdf2_sha256$1000$salt${index}$${pbkdf2Sync(bytes, `salt${index}`, 1000, 32, 'sha256').toString('base64')}` });
    pool.ssha256.push({ password, hash: `{SSHA256}${ssha.toString('base64')}` });
    pool.sha256.push({ password, hash: `sha256$s${index}$${createHash('sha256').update(`s${index}`).update(bytes).digest('hex')}` });
    pool.password.push({ password, hash: '' });
  }
  return pool;
}

const HEADER = 'external_id,username,display_name,email,phone,department,department_name,title,groups,password,password_hash,disabled';

/** Defective rows and the column each must be reported for (null: the row as a whole). */
const BAD_ROWS: Array<{ field: string | null; cells: (index: number) => string }> = [
  { field: 'email', cells: (i) => `E${i},user${i},User ${i},not-an-address,,,,,,,sha256$a$${'0'.repeat(64)},` },
  { field: 'password_hash', cells: (i) => `E${i},user${i},User ${i},,,,,,,,$1$abcdefgh$unsupported,` },
  { field: 'password_hash', cells: (i) => `E${i},user${i},User ${i},,,,,,,,$2b$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW,` },
  { field: 'username', cells: (i) => `E${i},bad user@x${i},User ${i},,,,,,,secret-password,,` },
  { field: 'disabled', cells: (i) => `E${i},user${i},User ${i},,,,,,,secret-password,,maybe` },
  { field: 'password_hash', cells: (i) => `E${i},user${i},User ${i},,,,,,,secret-password,sha256$a$${'0'.repeat(64)},` },
  { field: 'phone', cells: (i) => `E${i},user${i},User ${i},,call me,,,,,secret-password,,` },
  { field: null, cells: (i) => `E${i},user${i},User ${i}` },
  // E5 belongs to user5, and usernames cannot change.
  { field: 'username', cells: (i) => `E5,other${i},User ${i},,,,,,,secret-password,,` },
];

interface Fixture {
  file: string;
  /** Good rows by index: format and password. */
  good: Map<number, { format: Format; password: string }>;
  /** Bad rows by line: the expected field and the index. */
  bad: Map<number, { field: string | null; index: number }>;
}

async function writeImportFile(file: string): Promise<Fixture> {
  const pool = await hashPool();
  const good = new Map<number, { format: Format; password: string }>();
  const bad = new Map<number, { field: string | null; index: number }>();
  const lines = [HEADER];

  for (let index = 0; index < ROW_COUNT; index++) {
    const line = index + 2;
    if (index % 97 === 50) {
      const kind = BAD_ROWS[bad.size % BAD_ROWS.length]!;
      bad.set(line, { field: kind.field, index });
      lines.push(kind.cells(index));
      continue;
    }

    const format = FORMATS[index % FORMATS.length]!;
    const entry = pool[format][Math.floor(index / FORMATS.length) % POOL_SIZE]!;
    good.set(index, { format, password: entry.password });
    const password = format === 'password' ? entry.password : '';
    const department = `dept${index % 10}`;
    const groups = `g${index % 3};g${(index + 1) % 3}`;
    lines.push(
      `E${index},user${index},"User ${index}, Imported",user${index}@example.org,+1 555 ${String(index).padStart(4, '0')},${department},Department ${index % 10},Engineer,${groups},${password},"${entry.hash}",false`,
    );
  }

  await writeFile(file, `\uFEFF${lines.join('\r\n')}\r\n`);
  return { file, good, bad };
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

function parleyctl(args: string[]): Promise<CliRun> {
  const started = performance.now();
  return new Promise((resolve) => {
    execFile(TSX, ['--conditions=source', CLI, ...args], { cwd: ROOT, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr, ms: performance.now() - started });
    });
  });
}

let server: TestServer;
let configFile: string;
let fixture: Fixture;

beforeAll(async () => {
  server = await startTestServer({ auth: { max_failures: 1000 }, registration: { min_password_length: 1 } });
  configFile = path.join(server.dataDir, 'parley.toml');
  await writeFile(configFile, `domain = "${server.domain}"\ndata_dir = "${server.dataDir}"\n[auth]\nscram_iterations = 4096\n[registration]\nmin_password_length = 1\n${storageToml(server)}`);
  fixture = await writeImportFile(path.join(server.dataDir, 'accounts.csv'));

  // Groups must exist before rows name them; departments are created by the import.
  const now = Date.now();
  for (const id of ['g0', 'g1', 'g2']) {
    await server.server.storage.orgGroups.upsert({ host: server.domain, id, kind: 'group', name: `Group ${id}`, parentId: null, sharedRoster: false, createdAt: now, updatedAt: now });
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
});

async function attempt(transport: ClientTransport, mechanism: 'PLAIN' | 'SCRAM-SHA-256', username: string, password: string): Promise<string> {
  const { connection } = await openClientStream(server, transport);
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

describe('parleyctl import of 10,000 rows', () => {
  let first: ImportReport;

  it('imports good rows and reports every bad one', async () => {
    const reportFile = path.join(server.dataDir, 'report.json');
    const run = await parleyctl(['-c', configFile, 'import', fixture.file, '--report', reportFile]);
    // Recorded for docs/benchmarks.md: wall time of the whole command, tsx start-up included.
    console.log(`parleyctl import of ${ROW_COUNT} rows: ${Math.round(run.ms)} ms; ${run.stdout.split('\n')[0]}`);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(1);

    first = JSON.parse(await readFile(reportFile, 'utf8')) as ImportReport;
    expect(first.total).toBe(ROW_COUNT);
    const unexpected = first.rows.filter((row) => row.status === 'failed' && !fixture.bad.has(row.line));
    expect(unexpected.slice(0, 5)).toEqual([]);
    expect(first.failed).toBe(fixture.bad.size);
    expect(first.created).toBe(ROW_COUNT - fixture.bad.size);
    expect(run.stdout.split('\n')[0]).toMatch(new RegExp(`^${ROW_COUNT} rows in [0-9.]+ s: ${first.created} created, 0 updated, 0 unchanged, ${fixture.bad.size} failed$`));

    const failed = first.rows.filter((row) => row.status === 'failed');
    expect(failed.map((row) => row.line)).toEqual([...fixture.bad.keys()]);
    for (const row of failed) {
      expect(row.error?.field, `line ${row.line}: ${row.error?.detail}`).toBe(fixture.bad.get(row.line)?.field);
      expect(run.stdout).toContain(`line ${row.line}`);
    }
  }, 300_000);

  it('writes nothing of a bad row', async () => {
    const { storage, config } = server.server;
    for (const { index } of fixture.bad.values()) {
      expect(await storage.accounts.exists(config.domain, `user${index}`)).toBe(false);
      expect(await storage.accounts.exists(config.domain, `other${index}`)).toBe(false);
      expect(await storage.profiles.getByExternalId(config.domain, `E${index}`)).toBeNull();
    }
    expect((await storage.profiles.get(config.domain, 'user5'))?.externalId).toBe('E5');
  });

  it('stores profile, department and groups', async () => {
    const { storage, config } = server.server;
    const profile = await storage.profiles.get(config.domain, 'user13');
    expect(profile).toMatchObject({ externalId: 'E13', displayName: 'User 13, Imported', email: 'user13@example.org', title: 'Engineer', department: 'dept3' });
    const groups = await storage.orgGroups.groupsOf(config.domain, 'user13');
    expect(groups.map((group) => group.id).sort()).toEqual(['dept3', 'g1', 'g2']);
  });

  it('changes nothing on a second import', async () => {
    const reportFile = path.join(server.dataDir, 'report-2.json');
    const run = await parleyctl(['-c', configFile, 'import', fixture.file, '--format', 'csv', '--report', reportFile]);
    console.log(`parleyctl re-import of ${ROW_COUNT} rows: ${Math.round(run.ms)} ms; ${run.stdout.split('\n')[0]}`);
    const second = JSON.parse(await readFile(reportFile, 'utf8')) as ImportReport;
    expect(second).toMatchObject({ total: ROW_COUNT, created: 0, updated: 0, unchanged: ROW_COUNT - fixture.bad.size, failed: fixture.bad.size });
  }, 300_000);

  it('logs in each format with PLAIN, then with SCRAM', async () => {
    const sample = new Map<number, { format: Format; password: string }>();
    for (const format of FORMATS) {
      const entry = [...fixture.good.entries()].find(([, row]) => row.format === format)!;
      sample.set(entry[0], entry[1]);
    }
    const indexes = [...fixture.good.keys()];
    for (let count = 0; count < 10; count++) {
      const index = indexes[Math.floor(Math.random() * indexes.length)]!;
      sample.set(index, fixture.good.get(index)!);
    }

    let loopback = false;
    for (const [index, { format, password }] of sample) {
      const username = `user${index}`;
      const transport: ClientTransport = loopback ? 'plain' : 'starttls';
      loopback = !loopback;
      const label = `${username} (${format}) over ${transport}`;
      expect(await attempt(transport, 'PLAIN', username, `${password}-wrong`), label).toBe('not-authorized');
      expect(await attempt(transport, 'PLAIN', username, password), label).toBe('success');
      expect(await server.server.storage.legacyHashes.get(server.domain, username), label).toBeNull();
      expect(await attempt('starttls', 'SCRAM-SHA-256', username, password), label).toBe('success');
      expect(await attempt('starttls', 'SCRAM-SHA-256', username, `${password}-wrong`), label).toBe('not-authorized');
    }
  }, 120_000);

  it('keeps upgraded accounts on a third import', async () => {
    const username = `user${[...fixture.good.entries()].find(([, row]) => row.format === 'bcrypt')![0]}`;
    const { password } = fixture.good.get(Number(username.slice(4)))!;
    expect(await server.server.storage.legacyHashes.get(server.domain, username)).toBeNull();

    const reportFile = path.join(server.dataDir, 'report-3.json');
    await parleyctl(['-c', configFile, 'import', fixture.file, '--report', reportFile]);
    const third = JSON.parse(await readFile(reportFile, 'utf8')) as ImportReport;
    expect(third).toMatchObject({ created: 0, updated: 0, unchanged: ROW_COUNT - fixture.bad.size, failed: fixture.bad.size });
    expect(await server.server.storage.legacyHashes.get(server.domain, username)).toBeNull();
    expect(await attempt('starttls', 'SCRAM-SHA-256', username, password)).toBe('success');
  }, 300_000);
});

describe('parleyctl import of small files', () => {
  it('reads JSON lines by extension', async () => {
    const file = path.join(server.dataDir, 'few.jsonl');
    await writeFile(file, `\uFEFF${JSON.stringify({ external_id: 'J1', username: 'jsonl1', title: 'Chef' })}\n{"username": 7}\n`);
    const run = await parleyctl(['-c', configFile, 'import', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^2 rows in [0-9.]+ s: 1 created, 0 updated, 0 unchanged, 1 failed\n/);
    expect(run.stdout).toContain('line 2 (username): ');
    expect((await server.server.storage.profiles.get(server.domain, 'jsonl1'))?.title).toBe('Chef');
  });

  it('reports a missing file', async () => {
    const run = await parleyctl(['-c', configFile, 'import', path.join(server.dataDir, 'missing.csv')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^parleyctl: ENOENT: no such file or directory/);
  });

  it('asks for a format it cannot tell', async () => {
    const run = await parleyctl(['-c', configFile, 'import', path.join(server.dataDir, 'accounts.txt')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('give --format csv or --format jsonl');
  });
});

describe('POST /api/v1/accounts:import', () => {
  let token: string;

  beforeAll(async () => {
    token = (await createApiToken(server.server.storage, 'import test')).token;
  });

  async function post(body: string, contentType: string, bearer: string | null = token): Promise<{ status: number; type: string; json: Record<string, unknown> }> {
    const headers: Record<string, string> = { 'content-type': contentType };
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    const response = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/accounts:import`, { method: 'POST', headers, body });
    return { status: response.status, type: response.headers.get('content-type') ?? '', json: (await response.json()) as Record<string, unknown> };
  }

  it('imports JSON lines and reports bad rows', async () => {
    const hash = `sha256$x$${createHash('sha256').update('x').update('api-secret').digest('hex')}`;
    const body = [
      JSON.stringify({ external_id: 'API1', username: 'api1', display_name: '张三', password_hash: hash }),
      '',
      JSON.stringify({ external_id: 'API2', username: 'api2', email: 'broken' }),
      '{not json',
      JSON.stringify({ external_id: 'API3', username: 'api3', groups: ['g1'], password: 'api-password' }),
    ].join('\n');
    const response = await post(body, 'application/x-ndjson');
    expect(response.status).toBe(200);
    expect(response.json).toMatchObject({ total: 4, created: 2, failed: 2 });
    expect(response.json.rows).toEqual([
      { line: 1, external_id: 'API1', username: 'api1', status: 'created' },
      { line: 3, external_id: 'API2', username: 'api2', status: 'failed', error: { field: 'email', detail: expect.any(String) } },
      { line: 4, external_id: null, username: null, status: 'failed', error: { field: null, detail: expect.stringMatching(/^Invalid JSON/) } },
      { line: 5, external_id: 'API3', username: 'api3', status: 'created' },
    ]);
    expect(await attempt('starttls', 'PLAIN', 'api1', 'api-secret')).toBe('success');
    expect(await attempt('starttls', 'SCRAM-SHA-256', 'api3', 'api-password')).toBe('success');
  });

  it('applies a hash changed in the old system', async () => {
    const hashOf = (salt: string, password: string) => `sha256$${salt}$${createHash('sha256').update(salt).update(password).digest('hex')}`;
    const first = `external_id,username,password_hash\r\nAPI5,api5,${hashOf('a', 'old-secret')}\r\n`;
    expect((await post(first, 'text/csv')).json).toMatchObject({ created: 1 });
    expect(await attempt('starttls', 'PLAIN', 'api5', 'old-secret')).toBe('success');

    expect((await post(first, 'text/csv')).json).toMatchObject({ unchanged: 1 });
    expect(await attempt('starttls', 'SCRAM-SHA-256', 'api5', 'old-secret')).toBe('success');

    const changed = `external_id,username,password_hash\r\nAPI5,api5,${hashOf('b', 'new-secret')}\r\n`;
    expect((await post(changed, 'text/csv')).json).toMatchObject({ updated: 1 });
    expect(await attempt('starttls', 'PLAIN', 'api5', 'old-secret')).toBe('not-authorized');
    expect(await attempt('starttls', 'PLAIN', 'api5', 'new-secret')).toBe('success');
    expect(await attempt('starttls', 'SCRAM-SHA-256', 'api5', 'new-secret')).toBe('success');
  });

  it('imports CSV and a JSON array', async () => {
    const csv = await post('username,title\r\napi4,Lead\r\n', 'text/csv; charset=utf-8');
    expect(csv.json).toMatchObject({ total: 1, created: 1 });
    const array = await post(JSON.stringify([{ username: 'api4', title: 'Director' }, 7]), 'application/json');
    expect(array.json).toMatchObject({ total: 2, updated: 1, failed: 1 });
  });

  it('rejects a JSON body that is not an array', async () => {
    const response = await post('{"username":"x"}', 'application/json');
    expect(response.status).toBe(400);
    expect(response.type).toContain('application/problem+json');
    expect(response.json.field).toBe('');
  });

  it('rejects another media type', async () => {
    const response = await post('username\nx\n', 'text/plain');
    expect(response.status).toBe(415);
    expect(response.type).toContain('application/problem+json');
  });

  it('appears in the OpenAPI document', async () => {
    const response = await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/openapi.json`);
    const document = (await response.json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> };
    const operation = document.paths['/accounts:import']?.post;
    expect(Object.keys(operation?.requestBody?.content ?? {}).sort()).toEqual(['application/json', 'application/jsonl', 'application/x-ndjson', 'text/csv']);
  });

  it('requires a valid token', async () => {
    expect((await post('username\nx\n', 'text/csv', null)).status).toBe(401);
    expect((await post('username\nx\n', 'text/csv', 'parley_0000_wrong')).status).toBe(401);
    expect(await server.server.storage.accounts.exists(server.domain, 'x')).toBe(false);
  });
});
