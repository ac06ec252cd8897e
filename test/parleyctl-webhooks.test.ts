import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer, storageToml } from './support/server.js';
import { WebhookReceiver, hasValidSignature } from './support/webhook-receiver.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'packages/server/src/cli.ts');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs parleyctl from the TypeScript sources. */
function parleyctl(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(TSX, ['--conditions=source', CLI, ...args], { cwd: ROOT, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

let server: TestServer;
let receiver: WebhookReceiver;
/** Allows endpoints on 127.0.0.1, as the server does. */
let configFile: string;
/** The default address policy. */
let strictConfigFile: string;

beforeAll(async () => {
  receiver = await WebhookReceiver.start();
  server = await startTestServer({ webhooks: { allow_private_addresses: true } });
  const base = `domain = "${server.domain}"\ndata_dir = "${server.dataDir}"\n[auth]\nscram_iterations = 4096\n${storageToml(server)}`;
  configFile = path.join(server.dataDir, 'parley.toml');
  strictConfigFile = path.join(server.dataDir, 'strict.toml');
  await writeFile(configFile, `${base}[webhooks]\nallow_private_addresses = true\n`);
  await writeFile(strictConfigFile, base);
});

afterAll(async () => {
  await server?.stop();
  await receiver?.close();
});

describe('parleyctl webhook', () => {
  let id = '';
  let secret = '';

  it('adds an endpoint and prints its id and secret', async () => {
    const run = await parleyctl(['-c', configFile, 'webhook', 'add', receiver.url('/cli'), '--events', 'account/created,account/deleted']);
    expect(run.code).toBe(0);
    [id = '', secret = ''] = run.stdout.trim().split('\t');
    expect(id).toMatch(/^wh_/);
    expect(secret).toMatch(/^whsec_/);
  });

  it('lists the endpoint without its secret', async () => {
    const run = await parleyctl(['-c', configFile, 'webhook', 'list']);
    expect(run.stdout).toContain(`${id}\t${receiver.url('/cli')}\taccount/created,account/deleted\tenabled`);
    expect(run.stdout).not.toContain(secret);
  });

  it('queues adduser for the running server, which sends it signed', async () => {
    expect((await parleyctl(['-c', configFile, 'adduser', 'kai', '--password', 'secret-1'])).code).toBe(0);
    const request = await receiver.waitFor('/cli', (candidate) => candidate.json.data.username === 'kai', 15_000);
    expect(request.json.type).toBe('account/created');
    expect(hasValidSignature(request, secret)).toBe(true);
  });

  it('refuses a loopback URL under the default policy', async () => {
    const run = await parleyctl(['-c', strictConfigFile, 'webhook', 'add', receiver.url('/strict')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('not a public address');
  });

  it('refuses an unknown event type', async () => {
    const run = await parleyctl(['-c', configFile, 'webhook', 'add', receiver.url('/typo'), '--events', 'account/exploded']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Unknown event type "account/exploded"');
  });

  it('removes the endpoint', async () => {
    expect((await parleyctl(['-c', configFile, 'webhook', 'remove', id])).stdout).toContain(`removed webhook ${id}`);
    expect((await parleyctl(['-c', configFile, 'webhook', 'list'])).stdout).not.toContain(id);
    expect((await parleyctl(['-c', configFile, 'webhook', 'remove', id])).code).toBe(1);
  });
});
