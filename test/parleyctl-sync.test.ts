import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { upsertAccount } from '../packages/server/src/provisioning/accounts-service.js';
import { openStorage, storageOptionsFrom } from '../packages/server/src/storage/index.js';
import { startTestServer, storageToml, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { type ReceivedRequest, WebhookReceiver } from './support/webhook-receiver.js';
import { delay } from './support/raw.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'packages/server/src/cli.ts');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const NS_SEARCH = 'jabber:iq:search';
const DIRECTORY = 'directory.example.test';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function parleyctl(args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(TSX, ['--conditions=source', CLI, ...args], { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? ((error as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}

/** Writes a parleyctl configuration for the test server's data folder. */
async function cliConfig(server: TestServer, extra = ''): Promise<string> {
  const file = path.join(server.dataDir, 'parley.toml');
  await writeFile(file, `domain = "${server.domain}"\ndata_dir = "${server.dataDir}"\n[auth]\nscram_iterations = 4096\n${storageToml(server)}${extra}`);
  return file;
}

async function writeJsonLines(server: TestServer, name: string, rows: object[]): Promise<string> {
  const file = path.join(server.dataDir, name);
  await writeFile(file, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  return file;
}

/** Searches the directory for `text` and returns the bare JIDs found. */
async function search(client: TestClient, text: string): Promise<string[]> {
  const form = x(
    'x',
    NS.DATA_FORMS,
    { type: 'submit' },
    x('field', NS.DATA_FORMS, { var: 'FORM_TYPE', type: 'hidden' }, x('value', NS.DATA_FORMS, {}, NS_SEARCH)),
    x('field', NS.DATA_FORMS, { var: 'text' }, x('value', NS.DATA_FORMS, {}, text)),
  );
  const reply = await client.iq(x('iq', NS.CLIENT, { type: 'set', to: DIRECTORY }, x('query', NS_SEARCH, {}, form)));
  expect(reply.attr('type'), reply.toString()).toBe('result');
  const items = reply.getChild('query', NS_SEARCH)!.getChild('x', NS.DATA_FORMS)!.getChildren('item', NS.DATA_FORMS);
  return items.map((item) => item.getChildren('field', NS.DATA_FORMS).find((field) => field.attr('var') === 'jid')!.getChildText('value', NS.DATA_FORMS)!).sort();
}

async function vcardName(client: TestClient, bare: string): Promise<string | undefined> {
  const reply = await client.iq(x('iq', NS.CLIENT, { type: 'get', to: bare }, x('vCard', NS.VCARD)));
  expect(reply.attr('type'), reply.toString()).toBe('result');
  return reply.getChild('vCard', NS.VCARD)?.getChildText('FN', NS.VCARD);
}

async function rosterNames(client: TestClient): Promise<Record<string, string | undefined>> {
  const reply = await client.iq(x('iq', NS.CLIENT, { type: 'get' }, x('query', NS.ROSTER)));
  const items = reply.getChild('query', NS.ROSTER)?.getChildren('item', NS.ROSTER) ?? [];
  return Object.fromEntries(items.map((item) => [item.attr('jid')!, item.attr('name')]));
}

function isRosterPushFor(bare: string): (el: Element) => boolean {
  return (el) => el.name === 'iq' && el.attr('type') === 'set' && el.getChild('query', NS.ROSTER)?.getChild('item', NS.ROSTER)?.attr('jid') === bare;
}

/** The (type, username) pairs of the webhook requests, to compare without ids. */
function eventsOf(requests: ReceivedRequest[]): string[] {
  return requests.map((request) => `${request.json.type} ${String(request.json.data.username)}`).sort();
}

/** A server whose 'dev' department is a shared roster group with one member, lead, and a webhook endpoint for every event. */
async function startServerWithDepartment(receiver: WebhookReceiver, webhooks: Record<string, unknown>): Promise<TestServer> {
  const server = await startTestServer({ webhooks: { allow_private_addresses: true, backoff_base_ms: 100, ...webhooks } });
  const ctx = server.server;
  await upsertAccount(ctx, { username: 'lead', password: 'pw-lead', displayName: 'Lead', department: 'dev', departmentName: 'Development' });
  const dev = (await ctx.storage.orgGroups.get(server.domain, 'dev'))!;
  await ctx.storage.orgGroups.upsert({ ...dev, sharedRoster: true, updatedAt: Date.now() });
  await ctx.hooks.fire('org/group-changed', { host: server.domain, id: 'dev', changed: ['sharedRoster'] });
  await ctx.storage.webhooks.createEndpoint({ id: 'wh_sync', url: receiver.url('/sync'), secret: 'sync-secret-sync-secret', events: ['*'], description: null, enabled: true });
  return server;
}

describe('parleyctl account changes reach the modules', () => {
  let receiver: WebhookReceiver;
  let server: TestServer;
  let configFile: string;
  let lead: TestClient | undefined;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    server = await startServerWithDepartment(receiver, {});
    configFile = await cliConfig(server);
  });

  afterAll(async () => {
    await lead?.close();
    await server?.stop();
    await receiver?.close();
  });

  it('imports through the running server: directory, shared roster, vCard and webhooks see it at once', async () => {
    lead = await TestClient.connect(server, { username: 'lead', password: 'pw-lead', resource: 'desk', presence: true });
    expect(await rosterNames(lead)).toEqual({});
    const file = await writeJsonLines(server, 'live.jsonl', [{ external_id: 'E1', username: 'zhangsan', display_name: '张三', department: 'dev', password: 'pw-zhangsan' }]);

    const push = lead.next(isRosterPushFor('zhangsan@example.test'), 10_000);
    const run = await parleyctl(['-c', configFile, 'import', file]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^1 rows in [0-9.]+ s: 1 created, 0 updated, 0 unchanged, 0 failed\n/);

    expect(await search(lead, 'zs')).toEqual(['zhangsan@example.test']);
    expect(await search(lead, 'zhangsan')).toEqual(['zhangsan@example.test']);
    expect((await push).getChild('query', NS.ROSTER)?.getChild('item', NS.ROSTER)?.attr('name')).toBe('张三');
    expect(await vcardName(lead, 'zhangsan@example.test')).toBe('张三');
    const [created] = await receiver.waitForCount('/sync', 1);
    expect(created?.json).toMatchObject({ type: 'account/created', data: { username: 'zhangsan' } });
    expect(await server.server.storage.accountOutbox.count()).toBe(0);
  });

  it('records changes while the server is stopped and replays them once when it starts', async () => {
    await lead?.close();
    lead = undefined;
    const file = await writeJsonLines(server, 'offline.jsonl', [
      { external_id: 'E1', display_name: '张三丰' },
      { external_id: 'E2', username: 'lisi', display_name: '李四', department: 'dev', password: 'pw-lisi' },
      { external_id: 'E3', username: 'wangwu' },
    ]);
    const reportFile = path.join(server.dataDir, 'offline-report.json');
    const runs: CliRun[] = [];

    await server.restart(async () => {
      runs.push(await parleyctl(['-c', configFile, 'import', file, '--report', reportFile]));
      runs.push(await parleyctl(['-c', configFile, 'adduser', 'zhaoliu', '--password', 'pw-zhaoliu']));
      runs.push(await parleyctl(['-c', configFile, 'deluser', 'wangwu']));
      const storage = await openStorage(storageOptionsFrom(server.server.config.storage));
      try {
        // Nothing reached the webhook queue directly; the outbox holds the events in order.
        expect(await storage.webhooks.due(Date.now() + 60_000, 100)).toEqual([]);
        // Rows of different accounts are imported side by side, so only the commands' order is fixed.
        const events = (await storage.accountOutbox.next(100)).map((entry) => `${entry.event} ${String((entry.payload as { username?: string }).username ?? (entry.payload as { id?: string }).id)}`);
        expect(events.slice(0, -2).sort()).toEqual(['account/created lisi', 'account/created wangwu', 'account/updated zhangsan']);
        expect(events.slice(-2)).toEqual(['account/created zhaoliu', 'account/deleted wangwu']);
      } finally {
        await storage.close();
      }
    });

    for (const run of runs) expect(run.code, run.stderr).toBe(0);
    expect(runs[0]?.stderr).toContain('no server is running');
    const report = JSON.parse(await readFile(reportFile, 'utf8')) as { rows: Record<string, unknown>[] };
    expect(report.rows[0]).toEqual({ line: 1, external_id: 'E1', username: 'zhangsan', status: 'updated' });
    expect(report.rows[1]).not.toHaveProperty('externalId');

    expect(await server.server.storage.accountOutbox.count()).toBe(0);
    lead = await TestClient.connect(server, { username: 'lead', password: 'pw-lead', resource: 'desk', presence: true });
    expect(await search(lead, 'zsf')).toEqual(['zhangsan@example.test']);
    expect(await search(lead, 'lisi')).toEqual(['lisi@example.test']);
    expect(await search(lead, 'zhaoliu')).toEqual(['zhaoliu@example.test']);
    expect(await search(lead, 'wangwu')).toEqual([]);
    expect(await vcardName(lead, 'zhangsan@example.test')).toBe('张三丰');
    expect(await vcardName(lead, 'lisi@example.test')).toBe('李四');
    expect(await rosterNames(lead)).toEqual({ 'zhangsan@example.test': '张三丰', 'lisi@example.test': '李四' });

    const expected = ['account/created lisi', 'account/created wangwu', 'account/created zhangsan', 'account/created zhaoliu', 'account/deleted wangwu', 'account/updated zhangsan'];
    await receiver.waitForCount('/sync', expected.length, 15_000);
    // Another restart must not send anything again.
    await server.restart();
    await delay(1000);
    expect(eventsOf(receiver.requests('/sync'))).toEqual(expected);
  });

  it('changes a password through the running server', async () => {
    const run = await parleyctl(['-c', configFile, 'passwd', 'zhaoliu', '--password', 'pw-new']);
    expect(run).toMatchObject({ code: 0, stderr: '', stdout: 'password changed for zhaoliu@example.test\n' });
    const client = await TestClient.connect(server, { username: 'zhaoliu', password: 'pw-new' });
    await client.close();
  });
});

describe('parleyctl with webhooks disabled', () => {
  let receiver: WebhookReceiver;
  let server: TestServer;

  beforeAll(async () => {
    receiver = await WebhookReceiver.start();
    server = await startServerWithDepartment(receiver, { enabled: false });
  });

  afterAll(async () => {
    await server?.stop();
    await receiver?.close();
  });

  it('queues no delivery, live or replayed, yet the directory learns the accounts', async () => {
    const configFile = await cliConfig(server, '[webhooks]\nenabled = false\n');
    const live = await writeJsonLines(server, 'live.jsonl', [{ username: 'kim', display_name: '金' }]);
    const offline = await writeJsonLines(server, 'offline.jsonl', [{ username: 'lee', display_name: '李' }]);
    expect((await parleyctl(['-c', configFile, 'import', live])).code).toBe(0);
    await server.restart(async () => {
      expect((await parleyctl(['-c', configFile, 'import', offline])).code).toBe(0);
    });

    const { storage } = server.server;
    expect(await storage.webhooks.due(Date.now() + 60_000, 100)).toEqual([]);
    expect(await storage.accountOutbox.count()).toBe(0);
    const lead = await TestClient.connect(server, { username: 'lead', password: 'pw-lead' });
    try {
      expect(await search(lead, 'jin')).toEqual(['kim@example.test']);
      expect(await search(lead, 'li')).toEqual(['lee@example.test']);
    } finally {
      await lead.close();
    }
    expect(receiver.requests()).toEqual([]);
  });
});

describe('parleyctl check-config', () => {
  it('prints secrets redacted', async () => {
    const server = await startTestServer();
    try {
      const file = path.join(server.dataDir, 'secrets.toml');
      await writeFile(
        file,
        [
          `domain = "${server.domain}"`,
          `data_dir = "${server.dataDir}"`,
          '[auth]',
          'external_url = "https://svc:hunter2@auth.example.org/check?token=t0ken&realm=staff"',
          '[[components]]',
          'domain = "bridge.example.test"',
          'secret = "component-secret-1"',
          '',
        ].join('\n'),
      );
      const run = await parleyctl(['-c', file, 'check-config']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).not.toMatch(/hunter2|t0ken|component-secret-1/);
      const printed = JSON.parse(run.stdout) as { auth: { external_url: string }; components: { domain: string; secret: string }[] };
      expect(printed.components[0]).toEqual({ domain: 'bridge.example.test', secret: '<redacted>' });
      expect(printed.auth.external_url).toBe('https://<redacted>@auth.example.org/check?token=<redacted>&realm=staff');
    } finally {
      await server.stop();
    }
  });
});
