import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '../packages/xmpp/src/index.js';
import { loadConfig } from '../packages/server/src/config.js';
import { openStorage } from '../packages/server/src/storage/index.js';
import { createAccount } from '../packages/server/src/accounts.js';
import { TestClient } from './support/client.js';
import type { TestServer } from './support/server.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = path.join(ROOT, 'packages/server/src/main.ts');
const NS_SID = 'urn:xmpp:sid:0';
const NS_MAM = 'urn:xmpp:mam:2';
const NS_FORWARD = 'urn:xmpp:forward:0';
const MAX_MESSAGES = 3000;
const SEND_WINDOW_MS = 4000;

let dataDir: string;
let configFile: string;
let port: number;
let child: ChildProcess | undefined;

/** Returns the parts of a TestServer that TestClient uses: the domain and the c2s port. */
function target(): TestServer {
  return { domain: 'example.test', c2sPort: port } as TestServer;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port: chosen } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return chosen;
}

async function waitForPort(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server did not listen on port ${port} within ${timeoutMs} ms`);
}

async function startServerProcess(): Promise<void> {
  // One node process (no tsx wrapper process), so that SIGKILL hits the server itself.
  const args = ['--conditions=source', '--import', 'tsx', MAIN, '-c', configFile];
  child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(20_000);
}

function killServerProcess(): Promise<void> {
  const running = child!;
  child = undefined;
  return new Promise((resolve) => {
    running.once('exit', () => resolve());
    running.kill('SIGKILL');
  });
}

/** Fetches every message of `owner`'s archive with `peer`, page by page. */
async function archiveWith(owner: TestClient, peer: string): Promise<Element[]> {
  const messages: Element[] = [];
  let after: string | undefined;
  for (let page = 0; page < 100; page++) {
    const queryid = `q${page}`;
    const set = x('set', NS.RSM, {}, x('max', NS.RSM, {}, '250'), after ? x('after', NS.RSM, {}, after) : undefined);
    const form = x(
      'x',
      NS.DATA_FORMS,
      { type: 'submit' },
      x('field', NS.DATA_FORMS, { var: 'FORM_TYPE', type: 'hidden' }, x('value', NS.DATA_FORMS, {}, NS_MAM)),
      x('field', NS.DATA_FORMS, { var: 'with' }, x('value', NS.DATA_FORMS, {}, peer)),
    );
    const reply = owner.iq(x('iq', NS.CLIENT, { type: 'set' }, x('query', NS_MAM, { queryid }, form, set)));
    const fin = (await reply).getChild('fin', NS_MAM);
    const results = await collectResults(owner, queryid);
    messages.push(...results);
    after = fin?.getChild('set', NS.RSM)?.getChildText('last', NS.RSM);
    if (fin?.attr('complete') === 'true' || !after) return messages;
  }
  throw new Error('archive paging did not finish in 100 pages');
}

async function collectResults(owner: TestClient, queryid: string): Promise<Element[]> {
  const found: Element[] = [];
  for (;;) {
    const result = await owner.next((el) => el.getChild('result', NS_MAM)?.attr('queryid') === queryid, 200).catch(() => undefined);
    if (!result) return found;
    const forwarded = result.getChild('result', NS_MAM)!.getChild('forwarded', NS_FORWARD)!;
    found.push(forwarded.getChild('message', NS.CLIENT)!);
  }
}

function chat(index: number): Element {
  const label = `m-${String(index).padStart(5, '0')}`;
  return x(
    'message',
    NS.CLIENT,
    { to: 'bob@example.test', type: 'chat', id: label },
    x('body', NS.CLIENT, {}, label),
    x('origin-id', NS_SID, { id: label }),
  );
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'parley-crash-'));
  configFile = path.join(dataDir, 'parley.toml');
  port = await freePort();
  const toml = [
    'domain = "example.test"',
    `data_dir = "${dataDir}"`,
    '[listen]',
    `c2s_port = ${port}`,
    'c2s_tls_port = false',
    'http_port = false',
    'https_port = false',
    '[auth]',
    'scram_iterations = 4096',
    '[sessions]',
    'stanzas_per_second = 100000',
    'stanza_burst = 100000',
    '[log]',
    'level = "warn"',
  ].join('\n');
  await writeFile(configFile, toml + '\n');

  const config = loadConfig({ file: configFile, env: {} });
  const storage = await openStorage({ driver: 'sqlite', path: config.storage.path });
  await createAccount({ config, storage }, 'alice', 'alice-pass');
  await createAccount({ config, storage }, 'bob', 'bob-pass');
  await storage.close();
  await startServerProcess();
}, 60_000);

afterAll(async () => {
  if (child) await killServerProcess();
  await rm(dataDir, { recursive: true, force: true });
});

describe('crash with SIGKILL', () => {
  it('keeps every acknowledged message exactly once', async () => {
    const alice = await TestClient.connect(target(), { username: 'alice', password: 'alice-pass', transport: 'plain' });
    const bob = await TestClient.connect(target(), { username: 'bob', password: 'bob-pass', transport: 'plain', presence: true });
    alice.send(x('enable', NS.SM, {}));
    await alice.next((el) => el.name === 'enabled' && el.ns === NS.SM);

    let acknowledged = 0;
    let sent = 0;
    let killed: Promise<void> | undefined;
    const started = Date.now();
    const killAt = 400 + Math.floor(Math.random() * 400);
    while (sent < MAX_MESSAGES && Date.now() - started < SEND_WINDOW_MS) {
      sent++;
      alice.send(chat(sent));
      if (sent % 20 === 0) alice.send(x('r', NS.SM));
      if (sent === killAt) killed = killServerProcess();
      for (;;) {
        const ack = await alice.next((el) => el.name === 'a' && el.ns === NS.SM, 1).catch(() => undefined);
        if (!ack) break;
        acknowledged = Math.max(acknowledged, Number(ack.attr('h')));
      }
      if (sent % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
      if (sent > killAt && child === undefined && sent > killAt + 50) break;
    }
    alice.kill();
    bob.kill();
    await killed;
    expect(acknowledged).toBeGreaterThan(0);
    if (process.env.PARLEY_TEST_LOG) console.log({ sent, acknowledged, killAt });

    await startServerProcess();
    const reader = await TestClient.connect(target(), { username: 'bob', password: 'bob-pass', transport: 'plain' });
    const archived = (await archiveWith(reader, 'alice@example.test')).map((message) => message.getChildText('body', NS.CLIENT));
    const counts = new Map<string, number>();
    for (const body of archived) counts.set(body ?? '', (counts.get(body ?? '') ?? 0) + 1);

    for (let index = 1; index <= acknowledged; index++) {
      const label = `m-${String(index).padStart(5, '0')}`;
      expect(counts.get(label), `acknowledged message ${label}`).toBe(1);
    }
    expect([...counts.values()].every((count) => count === 1)).toBe(true);

    // The client re-sends what was not acknowledged, and some that was; origin-ids keep each once.
    const resender = await TestClient.connect(target(), { username: 'alice', password: 'alice-pass', transport: 'plain' });
    for (let index = Math.max(1, acknowledged - 5); index <= sent; index++) resender.send(chat(index));
    await resender.iq(x('iq', NS.CLIENT, { type: 'get', to: 'example.test' }, x('ping', NS.PING)));
    const after = (await archiveWith(reader, 'alice@example.test')).map((message) => message.getChildText('body', NS.CLIENT));
    expect(after).toHaveLength(sent);
    expect(new Set(after).size).toBe(sent);
    await resender.close();
    await reader.close();
  }, 120_000);
});
