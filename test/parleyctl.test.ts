import { execFile, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, storageToml, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'packages/server/src/cli.ts');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs parleyctl from the TypeScript sources, so the test never runs a stale build. */
function parleyctl(args: string[], input = ''): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(TSX, ['--conditions=source', CLI, ...args], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

let server: TestServer;
let configFile: string;

beforeAll(async () => {
  server = await startTestServer();
  configFile = path.join(server.dataDir, 'parley.toml');
  await writeFile(configFile, `domain = "${server.domain}"\ndata_dir = "${server.dataDir}"\n[auth]\nscram_iterations = 4096\n${storageToml(server)}`);
});

afterAll(async () => {
  await server.stop();
});

describe('parleyctl', () => {
  it('adds a user that can log in', async () => {
    const run = await parleyctl(['-c', configFile, 'adduser', 'Bob', '--password', 'secret-1']);
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('created bob@example.test');
    const client = await TestClient.connect(server, { username: 'bob', password: 'secret-1' });
    await client.close();
  });

  it('reads the password from standard input', async () => {
    const run = await parleyctl(['-c', configFile, 'adduser', 'carol'], 'from-stdin\n');
    expect(run.code).toBe(0);
    const client = await TestClient.connect(server, { username: 'carol', password: 'from-stdin' });
    await client.close();
  });

  it('refuses an empty standard input', async () => {
    const run = await parleyctl(['-c', configFile, 'adduser', 'dora']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no password given/);
    expect(await server.server.storage.accounts.exists(server.domain, 'dora')).toBe(false);
  });

  it('refuses an existing user', async () => {
    const run = await parleyctl(['-c', configFile, 'adduser', 'bob', '--password', 'another-1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/already exists/);
  });

  it('refuses an invalid username', async () => {
    const run = await parleyctl(['-c', configFile, 'adduser', 'a b@c', '--password', 'secret-1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Invalid username/);
  });

  it('lists users', async () => {
    const run = await parleyctl(['-c', configFile, 'users']);
    expect(run.stdout.split('\n')).toContain('bob@example.test');
    expect(run.stdout.split('\n')).toContain('carol@example.test');
  });

  it('changes a password', async () => {
    await parleyctl(['-c', configFile, 'passwd', 'bob', '--password', 'secret-2']);
    await expect(TestClient.connect(server, { username: 'bob', password: 'secret-1' })).rejects.toThrow();
    const client = await TestClient.connect(server, { username: 'bob', password: 'secret-2' });
    await client.close();
  });

  it('lists live sessions', async () => {
    const client = await TestClient.connect(server, { username: 'carol', password: 'from-stdin', resource: 'desk', presence: true });
    const run = await parleyctl(['-c', configFile, 'sessions']);
    await client.close();
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^carol@example\.test\/desk\ttcp\+tls\t127\.0\.0\.1\tavailable \(0\)/m);
  });

  it('deletes a user and ends its sessions', async () => {
    const client = await TestClient.connect(server, { username: 'carol', password: 'from-stdin' });
    const run = await parleyctl(['-c', configFile, 'deluser', 'carol']);
    expect(run.stdout.trim()).toBe('deleted carol@example.test');
    const error = await client.next((el) => el.name === 'error' && el.ns === 'http://etherx.jabber.org/streams', 5000);
    expect(error.elements()[0]?.name).toBe('not-authorized');
    expect(await server.server.storage.accounts.exists(server.domain, 'carol')).toBe(false);
  });

  it('reports a missing user on delete', async () => {
    const run = await parleyctl(['-c', configFile, 'deluser', 'nobody']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no account nobody@example\.test/);
  });

  it('creates an invitation token', async () => {
    const run = await parleyctl(['-c', configFile, 'invite', '--uses', '2']);
    expect(run.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(await server.server.storage.invites.list(server.domain)).toHaveLength(1);
  });

  it('rejects an invalid config value', async () => {
    const bad = path.join(server.dataDir, 'bad.toml');
    await writeFile(bad, '[listen]\nc2s_port = "x"\n');
    const run = await parleyctl(['-c', bad, 'check-config']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/listen\.c2s_port = "x"/);
  });

  it('prints the checked config', async () => {
    const run = await parleyctl(['-c', configFile, 'check-config']);
    expect(JSON.parse(run.stdout).domain).toBe('example.test');
  });
});

/** Runs parleyctl with standard output a pipe whose reader closed before the first write, as `| head` leaves it. */
function parleyctlWithClosedOutput(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, ['--conditions=source', CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill(), 30_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

describe('parleyctl output into a closed pipe', () => {
  it.each([[['users']], [['check-config']], [['token', 'list']]])('exits cleanly from %j', async (args) => {
    const run = await parleyctlWithClosedOutput(['-c', configFile, ...args]);
    expect(run.stderr).not.toMatch(/EPIPE|Error/);
    expect(run.signal).toBeNull();
    expect(run.code).toBe(0);
  });

  it('finishes the work and keeps the exit status', async () => {
    const created = await parleyctlWithClosedOutput(['-c', configFile, 'adduser', 'piped', '--password', 'secret-1']);
    expect(created.stderr).not.toMatch(/EPIPE|Error/);
    expect(created.code).toBe(0);
    expect(await server.server.storage.accounts.exists(server.domain, 'piped')).toBe(true);

    const again = await parleyctlWithClosedOutput(['-c', configFile, 'adduser', 'piped', '--password', 'secret-1']);
    expect(again.stderr).toMatch(/already exists/);
    expect(again.code).toBe(1);
  });
});
