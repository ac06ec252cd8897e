/**
 * Keeps docs/deployment.md honest: its marked configuration blocks are read, only their
 * addresses, ports and paths are changed to 127.0.0.1, free ports and temporary folders,
 * and PostgreSQL, Redis, three nodes and HAProxy run with them. Every client check goes
 * through HAProxy.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get as httpsGet } from 'node:https';
import { connect as connectSocket } from 'node:net';
import { tmpdir } from 'node:os';
import { type ConnectionOptions, type TLSSocket, connect as connectTls } from 'node:tls';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import selfsigned from 'selfsigned';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClientOptions, WebSocket } from 'ws';
import { createAccount } from '../packages/server/src/accounts.js';
import { createApiToken } from '../packages/server/src/admin/tokens.js';
import { sessionsKey } from '../packages/server/src/cluster/messages.js';
import { loadConfig, validateConfig } from '../packages/server/src/config.js';
import { openStorage, storageOptionsFrom } from '../packages/server/src/storage/index.js';
import { type Element, JID, NS, StreamParser, parseFrame, serialize, x } from '../packages/xmpp/src/index.js';
import { authElement, bindResource, loginScram, plainMessage } from './support/client.js';
import { ADMIN_URL_VARIABLE, testsUsePostgres } from './support/postgres.js';
import { RawConnection, streamErrorCondition } from './support/raw.js';
import { freePort, startRedis, stopProcess, waitForPort, type TestRedis } from './support/redis.js';
import { ScramClient, clientChannelBinding } from './support/scram-client.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOC = path.join(ROOT, 'docs/deployment.md');
const DOC_ZH = path.join(ROOT, 'docs/deployment.zh-CN.md');
const MAIN = path.join(ROOT, 'packages/server/src/main.ts');
const HAPROXY = '/usr/sbin/haproxy';
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';
const NODE_COUNT = 3;
const START_TIMEOUT_MS = 60_000;
const HEALTHY_TIMEOUT_MS = 20_000;

// The cluster part runs on PostgreSQL, as the page deploys it, so with the other cluster
// tests in `npm run test:postgres` only. CI installs HAProxy, and there a missing one fails.
const haproxyFound = existsSync(HAPROXY) || Boolean(process.env.CI);
const runCluster = haproxyFound && testsUsePostgres();
if (!haproxyFound) console.warn(`deployment-doc.test.ts: skipping the cluster test because ${HAPROXY} is missing; install Debian's haproxy to run it (CI always runs it).`);
else if (!runCluster) console.warn('deployment-doc.test.ts: the cluster test runs with PARLEY_TEST_STORAGE=postgres (npm run test:postgres), like the other cluster tests.');

/**
 * Collects the marked blocks of a page: `<!-- deployment-test: NAME -->` followed by a fenced
 * block, both indented alike (inside a list item). Returns each block without that indentation.
 */
function markedBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const match of markdown.matchAll(/^( *)<!-- deployment-test: ([a-z-]+) -->\n\1```[a-z]*\n([\s\S]*?)\n\1```$/gm)) {
    const indent = match[1]!;
    const lines = match[3]!.split('\n').map((line) => (line.startsWith(indent) ? line.slice(indent.length) : line));
    blocks.set(match[2]!, lines.join('\n'));
  }
  return blocks;
}

function block(blocks: Map<string, string>, name: string): string {
  const text = blocks.get(name);
  if (text === undefined) throw new Error(`docs/deployment.md has no block marked <!-- deployment-test: ${name} -->`);
  return text;
}

/** Parses `KEY=VALUE` lines, skipping blank lines and comments. */
function parseEnvironment(text: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const equals = trimmed.indexOf('=');
    variables[trimmed.slice(0, equals)] = trimmed.slice(equals + 1);
  }
  return variables;
}

/** Returns `url` with its host and port replaced, keeping user, password and path. */
function moveUrl(url: string, port: number): string {
  const moved = new URL(url);
  moved.hostname = '127.0.0.1';
  moved.port = String(port);
  return moved.toString();
}

let blocks: Map<string, string>;

beforeAll(async () => {
  blocks = markedBlocks(await readFile(DOC, 'utf8'));
});

describe('deployment page', () => {
  it('marks every block the test reads', () => {
    const expected = ['drain-node', 'environment', 'haproxy-cfg', 'node-config', 'postgres-sql', 'redis-conf', 'single-node-config', 'systemd-unit'];
    expect([...blocks.keys()].sort()).toEqual(expected);
  });

  it('has the same blocks in Chinese', async () => {
    const chinese = markedBlocks(await readFile(DOC_ZH, 'utf8'));
    expect([...chinese.keys()].sort()).toEqual([...blocks.keys()].sort());
    for (const [name, text] of blocks) expect(chinese.get(name), `block ${name}`).toBe(text);
  });

  it('has a valid single-node configuration', () => {
    const config = validateConfig(parseToml(block(blocks, 'single-node-config')) as Record<string, unknown>, 'single-node-config');
    expect(config.storage.driver).toBe('sqlite');
    expect(config.cluster.enabled).toBe(false);
  });

  it('has a valid node configuration with the environment file', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'parley-deploy-config-'));
    try {
      const file = path.join(dir, 'node1.toml');
      await writeFile(file, block(blocks, 'node-config'));
      const config = loadConfig({ file, env: parseEnvironment(block(blocks, 'environment')) });
      expect(config.storage.driver).toBe('postgres');
      expect(config.storage.password).not.toBe('');
      expect(config.cluster.enabled).toBe(true);
      expect(config.cluster.redis_url).toMatch(/^redis:\/\/:[^@]+@/);
      expect(config.tls.allow_plaintext_on_loopback).toBe(false);
      expect(config.listen.proxy_protocol_from).not.toEqual([]);
      expect(config.http.trusted_proxies).toEqual(config.listen.proxy_protocol_from);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!existsSync(SYSTEMD_ANALYZE))('has a unit file that systemd-analyze accepts', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'parley-deploy-unit-'));
    try {
      // The node binary of this machine, because verify checks that ExecStart exists.
      const unit = block(blocks, 'systemd-unit').replace(/^ExecStart=\/usr\/bin\/node /m, `ExecStart=${process.execPath} `);
      const file = path.join(dir, 'parley@.service');
      await writeFile(file, unit + '\n');
      const result = spawnSync(SYSTEMD_ANALYZE, ['verify', file], { encoding: 'utf8', timeout: 20_000 });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** The port the page gives a listener, to the port the test uses instead. */
type PortMap = Map<number, number>;

interface RunningNode {
  id: string;
  ports: PortMap;
  child: ChildProcess;
  exit: Promise<void>;
  /** The node's log lines at level error or fatal, printed after the tests to explain a failure. */
  errors: string[];
}

/** Error lines kept per node. */
const MAX_ERROR_LINES = 20;

/** What the page's cluster runs on in this test, once beforeAll has started it. */
interface Deployment {
  domain: string;
  /** The certificate of the domain that the nodes and HAProxy present, which the clients trust. */
  certificate: string;
  frontends: PortMap;
  statsSocket: string;
  /** A connection to the cluster's Redis, with the page's password. */
  redis: Redis;
  /** A token of the admin API. */
  apiToken: string;
  nodes: RunningNode[];
}

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const passwordOf = (user: string) => `${user}-deploy-pass`;

/** Returns the section `name` of a parsed TOML document, failing when the page lacks it. */
function section(document: Record<string, unknown>, name: string): Record<string, unknown> {
  const value = document[name];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`the node configuration has no [${name}] section`);
  return value as Record<string, unknown>;
}

function mapped(ports: PortMap, port: number | string, usedBy: string): number {
  const found = ports.get(Number(port));
  if (found === undefined) throw new Error(`${usedBy} uses port ${port}, which the test does not know`);
  return found;
}

/** Writes the page's node configuration for node `id`, with only addresses, ports and paths changed. */
function nodeConfigText(page: string, id: string, ports: PortMap, paths: { dataDir: string; cert: string; key: string; uploads: string }, postgresPort: number): string {
  const config = parseToml(page) as Record<string, unknown>;
  config.data_dir = paths.dataDir;

  const listen = section(config, 'listen');
  listen.host = '127.0.0.1';
  for (const [key, value] of Object.entries(listen)) {
    if (key.endsWith('_port') && typeof value === 'number') listen[key] = mapped(ports, value, `listen.${key}`);
  }

  // HAProxy reaches the nodes from 127.0.0.1 here, so that is the address they take client addresses from.
  listen.proxy_protocol_from = balancerAddresses(listen.proxy_protocol_from, 'listen.proxy_protocol_from');
  const http = section(config, 'http');
  http.trusted_proxies = balancerAddresses(http.trusted_proxies, 'http.trusted_proxies');

  const tls = section(config, 'tls');
  tls.cert = paths.cert;
  tls.key = paths.key;
  const storage = section(config, 'storage');
  storage.url = moveUrl(String(storage.url), postgresPort);
  section(config, 'upload').path = paths.uploads;
  // The page names what differs per node; node_id is one of them.
  section(config, 'cluster').node_id = id;
  return stringifyToml(config) + '\n';
}

/** Replaces the page's balancer addresses in `value` with 127.0.0.1, failing when the page lists none. */
function balancerAddresses(value: unknown, key: string): string[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error(`the node configuration sets no ${key}, so the nodes would see HAProxy's address as every client's`);
  return ['127.0.0.1'];
}

/** Rewrites the page's HAProxy configuration: listeners, servers, certificate files and the stats socket. */
function haproxyConfigText(page: string, deployment: Deployment, files: { certificate: string; combined: string }): string {
  const nodes = new Map(deployment.nodes.map((node) => [node.id, node]));
  // chroot, user and group need root; a developer may run the tests without it.
  const asRoot = process.getuid?.() === 0;
  const lines: string[] = [];
  for (const line of page.split('\n')) {
    if (!asRoot && /^\s*(chroot|user|group)\s/.test(line)) continue;
    let rewritten = line
      .replace(/^(\s*bind\s+)\S*:(\d+)/, (_all, prefix: string, port: string) => `${prefix}127.0.0.1:${mapped(deployment.frontends, port, 'a bind line')}`)
      .replace(/^(\s*stats socket\s+)\S+/, `$1${deployment.statsSocket}`)
      .replace(/(\sca-file\s+)\S+/g, `$1${files.certificate}`)
      .replace(/(\scrt\s+)\S+/g, `$1${files.combined}`);

    const server = /^(\s*server\s+(\S+)\s+)\S+:(\d+)/.exec(rewritten);
    if (server) {
      const node = nodes.get(server[2]!);
      if (!node) throw new Error(`HAProxy server ${server[2]} is not one of the page's nodes`);
      rewritten = rewritten
        .replace(/^(\s*server\s+\S+\s+)\S+:(\d+)/, (_all, prefix: string, port: string) => `${prefix}127.0.0.1:${mapped(node.ports, port, `server ${node.id}`)}`)
        .replace(/\sport (\d+)/, (_all, port: string) => ` port ${mapped(node.ports, port, `the check of ${node.id}`)}`);
    }
    lines.push(rewritten);
  }

  const text = lines.join('\n') + '\n';
  if (/\b10\.0\.0\.\d+/.test(text)) throw new Error(`an address of the page was left in the HAProxy configuration:\n${text}`);
  return text;
}

/** Runs the page's SQL one statement at a time, as psql -f does (CREATE DATABASE cannot run in a transaction). */
async function runStatements(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    for (const statement of sql.split(';').map((text) => text.trim())) {
      if (statement !== '') await client.query(statement);
    }
  } finally {
    await client.end();
  }
}

/**
 * Runs the page's SQL on the PostgreSQL cluster that the run's global setup started for
 * PARLEY_TEST_STORAGE=postgres. Returns its port, and `drop` for the role and database.
 */
async function createPageDatabase(sql: string): Promise<{ port: number; drop(): Promise<void> }> {
  const adminUrl = process.env[ADMIN_URL_VARIABLE];
  if (adminUrl === undefined) throw new Error(`the deployment test needs the PostgreSQL global setup of vitest.config.ts, which sets ${ADMIN_URL_VARIABLE}`);
  await runStatements(adminUrl, sql);

  const database = /CREATE DATABASE (\w+)/i.exec(sql)?.[1];
  const role = /CREATE ROLE (\w+)/i.exec(sql)?.[1];
  return {
    port: Number(new URL(adminUrl).port),
    drop: () => runStatements(adminUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE); DROP ROLE IF EXISTS ${role}`),
  };
}

/** Generates a certificate for the domain, which also serves as the clients' and HAProxy's only trusted CA. */
function makeCertificate(domain: string): { cert: string; key: string } {
  const pems = selfsigned.generate([{ name: 'commonName', value: domain }], {
    keySize: 2048,
    days: 2,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: domain }] },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** Returns the test's environment without PARLEY_ variables, which the server would read as configuration. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PARLEY_')));
}

async function launchNode(id: string, configFile: string, ports: PortMap, env: Record<string, string>): Promise<RunningNode> {
  // One node process (no tsx wrapper process), so that SIGKILL hits the server itself.
  const args = ['--conditions=source', '--import', 'tsx', MAIN, '-c', configFile];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...cleanEnv(), ...env } });
  const errors: string[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) if (/"level":[56]0/.test(line) && errors.length < MAX_ERROR_LINES) errors.push(line);
  });
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exited = false;
  void exit.then(() => (exited = true));
  try {
    await waitForPort(mapped(ports, 5443, id), START_TIMEOUT_MS, () => exited);
  } catch (err) {
    child.kill('SIGKILL');
    await exit;
    throw err;
  }
  return { id, ports, child, exit, errors };
}

/** Sends `command` to HAProxy's stats socket and returns the response. */
function askHaproxy(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectSocket(socketPath);
    let response = '';
    socket.setEncoding('utf8');
    socket.setTimeout(5000, () => socket.destroy(new Error(`HAProxy did not respond to "${command}" within 5 s`)));
    socket.on('connect', () => socket.write(`${command}\n`));
    socket.on('data', (chunk: string) => (response += chunk));
    socket.on('end', () => resolve(response));
    socket.on('error', reject);
  });
}

/** Reads the servers' rows of `show stat`, as column name to value. */
async function serverStats(socketPath: string): Promise<Record<string, string>[]> {
  const [header, ...rows] = (await askHaproxy(socketPath, 'show stat')).trim().split('\n');
  const names = header!.replace(/^# /, '').split(',');
  return rows
    .map((row) => Object.fromEntries(row.split(',').map((value, index) => [names[index] ?? '', value])))
    .filter((row) => row.svname !== 'FRONTEND' && row.svname !== 'BACKEND');
}

/** Polls `condition` every 200 ms; fails with `message` and the last value after `timeoutMs`. */
async function waitFor<T>(read: () => Promise<T>, condition: (value: T) => boolean, timeoutMs: number, message: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!condition(value)) {
    if (Date.now() > deadline) throw new Error(`${message}; last seen: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    value = await read();
  }
  return value;
}

/** Reads each server's state from the stats socket as "BACKEND/SERVER STATUS CHECK", such as "parley-c2s/node1 UP L7OK". */
async function serverStates(): Promise<string[]> {
  const rows = await serverStats(deployment.statsSocket);
  return rows.map((row) => `${row.pxname}/${row.svname} ${row.status} ${row.check_status}`);
}

let deployment: Deployment;
let stopDeployment: (() => Promise<void>) | undefined;

/** Starts PostgreSQL, Redis, three nodes and HAProxy from the page's blocks. */
async function startDeployment(): Promise<void> {
  const cleanups: (() => Promise<void>)[] = [];
  stopDeployment = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => console.error('deployment-doc: cleanup failed', err));
  };

  const dir = await mkdtemp(path.join(tmpdir(), 'parley-deploy-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const nodePage = block(blocks, 'node-config');
  const domain = String((parseToml(nodePage) as Record<string, unknown>).domain);

  const { cert, key } = makeCertificate(domain);
  const files = { certificate: path.join(dir, 'domain.crt'), key: path.join(dir, 'domain.key'), combined: path.join(dir, 'haproxy.pem') };
  await writeFile(files.certificate, cert);
  await writeFile(files.key, key, { mode: 0o600 });
  await writeFile(files.combined, cert + key, { mode: 0o600 });

  const postgres = await createPageDatabase(block(blocks, 'postgres-sql'));
  cleanups.push(() => postgres.drop());
  const redisServer: TestRedis = await startRedis();
  cleanups.push(() => redisServer.stop());
  const redisPassword = /^requirepass\s+(\S+)$/m.exec(block(blocks, 'redis-conf'))?.[1];
  if (!redisPassword) throw new Error('the redis-conf block sets no requirepass');
  const admin = new Redis(redisServer.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  await admin.config('SET', 'requirepass', redisPassword);
  admin.disconnect();

  const env = parseEnvironment(block(blocks, 'environment'));
  env.PARLEY_CLUSTER_REDIS_URL = moveUrl(env.PARLEY_CLUSTER_REDIS_URL ?? '', redisServer.port);
  const redis = new Redis(env.PARLEY_CLUSTER_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  cleanups.push(async () => redis.disconnect());

  // One FAST token key, copied to every node's data folder, as the page instructs.
  const fastKey = randomBytes(32);
  const uploads = path.join(dir, 'uploads');
  await mkdir(uploads);
  const configFiles: string[] = [];
  const portMaps: PortMap[] = [];
  for (let index = 1; index <= NODE_COUNT; index++) {
    const ports: PortMap = new Map([
      [5222, await freePort()],
      [5223, await freePort()],
      [5443, await freePort()],
    ]);
    const dataDir = path.join(dir, `node${index}`);
    await mkdir(dataDir, { mode: 0o700 });
    await writeFile(path.join(dataDir, 'fast-token.key'), fastKey, { mode: 0o600 });
    const file = path.join(dir, `node${index}.toml`);
    await writeFile(file, nodeConfigText(nodePage, `node${index}`, ports, { dataDir, cert: files.certificate, key: files.key, uploads }, postgres.port));
    configFiles.push(file);
    portMaps.push(ports);
  }

  // All three at once, as after a reboot: the migrator's lock lets one of them migrate.
  const started = await Promise.allSettled(configFiles.map((file, index) => launchNode(`node${index + 1}`, file, portMaps[index]!, env)));
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  cleanups.push(async () => {
    for (const node of nodes) await stopProcess(node.child, node.exit);
  });
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;

  const config = loadConfig({ file: configFiles[0], env });
  const storage = await openStorage(storageOptionsFrom(config.storage));
  let apiToken: string;
  try {
    for (const user of USERS) await createAccount({ config, storage }, user, passwordOf(user));
    apiToken = (await createApiToken(storage, 'deployment test')).token;
  } finally {
    await storage.close();
  }

  const frontends: PortMap = new Map([
    [5222, await freePort()],
    [5223, await freePort()],
    [443, await freePort()],
  ]);
  deployment = { domain, certificate: cert, frontends, statsSocket: path.join(dir, 'haproxy.sock'), redis, apiToken, nodes };
  const haproxyFile = path.join(dir, 'haproxy.cfg');
  await writeFile(haproxyFile, haproxyConfigText(block(blocks, 'haproxy-cfg'), deployment, files));
  await startHaproxy(haproxyFile, cleanups);
}

async function startHaproxy(file: string, cleanups: (() => Promise<void>)[]): Promise<void> {
  const child = spawn(HAPROXY, ['-f', file, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exited = false;
  void exit.then(() => (exited = true));
  cleanups.push(() => stopProcess(child, exit));

  try {
    for (const port of deployment.frontends.values()) await waitForPort(port, 10_000, () => exited);
    await waitFor(
      serverStates,
      (states) => states.length === 4 * NODE_COUNT && states.every((state) => state.endsWith(' UP L7OK')),
      HEALTHY_TIMEOUT_MS,
      'HAProxy did not find every node healthy',
    );
  } catch (err) {
    throw new Error(`HAProxy did not start as the page configures it: ${(err as Error).message}\nHAProxy's output: ${output}`, { cause: err });
  }
}

/**
 * Builds the stats socket commands of the page's drain loop, which runs
 * `set server BACKEND/node1 state drain` for each backend, for `node` and `state` (ready undoes drain).
 */
function drainCommands(node: string, state: 'drain' | 'ready'): string[] {
  const loop = block(blocks, 'drain-node');
  const backends = /^for b in (.+); do$/m.exec(loop)?.[1]?.split(' ') ?? [];
  const template = /echo "(set server \$b\/node1 state drain)"/.exec(loop)?.[1];
  if (!template) throw new Error('the drain-node block has no "set server $b/node1 state drain" command');
  return backends.map((backend) => template.replace('$b', backend).replace('/node1 ', `/${node} `).replace(/drain$/, state));
}

/** Returns the node whose registry hash in Redis contains `jid`. */
async function nodeOf(jid: JID): Promise<string | undefined> {
  for (const node of deployment.nodes) {
    if ((await deployment.redis.hexists(sessionsKey(node.id), jid.toString())) === 1) return node.id;
  }
  return undefined;
}

function streamHeader(): Record<string, string> {
  return { to: deployment.domain, version: '1.0' };
}

function isChat(from: JID, body: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.attr('from') === from.toString() && el.getChildText('body', NS.CLIENT) === body;
}

function chat(to: JID, body: string): Element {
  return x('message', NS.CLIENT, { to: to.bare().toString(), type: 'chat' }, x('body', NS.CLIENT, {}, body));
}

/** A client connection as the tests use it: RawConnection over TCP, or WebSocketClient. */
interface Peer {
  send(stanza: Element): void;
  next(predicate: (el: Element) => boolean, timeoutMs?: number): Promise<Element>;
}

/** Stanzas each peer sent since it enabled stream management, which the server's `<a h>` counts. */
const sentStanzas = new WeakMap<Peer, number>();

async function enableStreamManagement(peer: Peer): Promise<void> {
  const enabled = peer.next((el) => el.name === 'enabled' && el.ns === NS.SM, 5000);
  peer.send(x('enable', NS.SM));
  await enabled;
  sentStanzas.set(peer, 0);
}

function sendCounted(peer: Peer, stanza: Element): void {
  peer.send(stanza);
  sentStanzas.set(peer, (sentStanzas.get(peer) ?? 0) + 1);
}

/**
 * Waits until the server acknowledges every stanza `peer` sent, which it does once their
 * database writes committed. A stream error instead fails with its text.
 */
async function waitForAcknowledgement(peer: Peer): Promise<void> {
  const expected = String(sentStanzas.get(peer) ?? 0);
  const reply = peer.next((el) => (el.name === 'a' && el.ns === NS.SM && el.attr('h') === expected) || streamErrorCondition(el) !== undefined, 5000);
  peer.send(x('r', NS.SM));
  const response = await reply;
  expect(response.name, response.toString()).toBe('a');
}

/** Sends a chat and waits for its arrival and for the sender's acknowledgement. */
async function deliver(sender: Peer, from: JID, recipient: Peer, to: JID, body: string): Promise<void> {
  const arrived = recipient.next(isChat(from, body), 5000);
  sendCounted(sender, chat(to, body));
  await arrived;
  await waitForAcknowledgement(sender);
}

/** Logs in over TCP through HAProxy: STARTTLS with the domain's certificate checked, then SCRAM-SHA-256, with channel binding if requested. */
async function loginTcp(user: string, channelBinding: boolean): Promise<{ connection: RawConnection; jid: JID }> {
  const connection = await RawConnection.tcp(mapped(deployment.frontends, 5222, 'the client'));
  try {
    await connection.openStream(streamHeader());
    await connection.startTls({ ca: deployment.certificate, servername: deployment.domain, rejectUnauthorized: true });
    await connection.openStream(streamHeader());
    const binding = channelBinding ? { type: 'tls-exporter' as const, data: clientChannelBinding(connection.tlsSocket!, 'tls-exporter') } : undefined;
    const { outcome } = await loginScram(connection, new ScramClient({ hash: 'SHA-256', username: user, password: passwordOf(user), channelBinding: binding }));
    if (outcome.name !== 'success') throw new Error(`login of ${user} failed: ${outcome.toString()}`);

    await connection.openStream(streamHeader());
    const jid = await bindResource(connection);
    await enableStreamManagement(connection);
    const echo = connection.next((el) => el.name === 'presence' && el.attr('from') === jid.toString(), 5000);
    sendCounted(connection, x('presence', NS.CLIENT));
    await echo;
    return { connection, jid };
  } catch (err) {
    connection.destroy();
    throw err;
  }
}

const isFeatures = (el: Element) => el.name === 'features' && el.ns === NS.STREAM;

/** Elements a client received, kept until the test takes them. */
abstract class ElementQueue {
  private readonly unread: Element[] = [];
  private readonly waiters = new Set<{ predicate: (el: Element) => boolean; resolve(el: Element): void }>();

  abstract send(el: Element): void;

  /** Opens (or restarts) the client's stream and resolves with the features. */
  abstract openStream(): Promise<Element>;

  next(predicate: (el: Element) => boolean, timeoutMs = 5000): Promise<Element> {
    const index = this.unread.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.unread.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (el: Element) => {
          clearTimeout(timer);
          resolve(el);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms; unread: ${this.unread.map((el) => el.toString()).join(' ') || 'none'}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  protected receive(el: Element): void {
    for (const waiter of this.waiters) {
      if (!waiter.predicate(el)) continue;
      this.waiters.delete(waiter);
      waiter.resolve(el);
      return;
    }
    this.unread.push(el);
  }
}

/** An XMPP client over a WebSocket with TLS (RFC 7395), which checks the domain's certificate. */
class WebSocketClient extends ElementQueue {
  private constructor(private readonly socket: WebSocket) {
    super();
    socket.on('message', (data: Buffer) => this.receive(parseFrame(data.toString('utf8'), { maxStanzaBytes: 1 << 24 })));
  }

  /** Connects to `url`, from `localAddress` when given. */
  static async open(url: string, localAddress?: string): Promise<WebSocketClient> {
    // ws hands its options to tls.connect, servername included, though its types omit it.
    const options: ClientOptions & ConnectionOptions = { ca: deployment.certificate, servername: deployment.domain, localAddress };
    const socket = new WebSocket(url, ['xmpp'], options);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) => reject(new Error(`WebSocket handshake failed with HTTP ${response.statusCode}`)));
    });
    return new WebSocketClient(socket);
  }

  send(el: Element): void {
    this.socket.send(serialize(el, ''));
  }

  openStream(): Promise<Element> {
    const features = this.next(isFeatures);
    this.send(x('open', NS.FRAMING, streamHeader()));
    return features;
  }

  close(): void {
    this.socket.terminate();
  }
}

/** An XMPP client over TCP with TLS from the first byte (XEP-0368) from a chosen local address, which checks the domain's certificate. */
class DirectTlsClient extends ElementQueue {
  private readonly parser: StreamParser;

  private constructor(private readonly socket: TLSSocket) {
    super();
    this.parser = new StreamParser(
      { streamStart: () => undefined, element: (el) => this.receive(el), streamEnd: () => undefined, error: (err) => socket.destroy(err) },
      { maxStanzaBytes: 1 << 24 },
    );
    socket.on('data', (chunk: Buffer) => this.parser.write(chunk));
    socket.on('error', () => undefined);
  }

  static async open(port: number, localAddress: string): Promise<DirectTlsClient> {
    const tcp = connectSocket({ host: '127.0.0.1', port, localAddress });
    const socket = connectTls({ socket: tcp, ca: deployment.certificate, servername: deployment.domain, ALPNProtocols: ['xmpp-client'] });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    return new DirectTlsClient(socket);
  }

  send(el: Element): void {
    this.socket.write(serialize(el, NS.CLIENT));
  }

  openStream(): Promise<Element> {
    this.parser.reset();
    const features = this.next(isFeatures);
    const attributes = Object.entries(streamHeader()).map(([key, value]) => ` ${key}='${value}'`).join('');
    this.socket.write(`<?xml version='1.0'?><stream:stream xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAM}'${attributes}>`);
    return features;
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Logs in with PLAIN over an encrypted stream and binds a resource; returns the full JID. */
async function bindWithPlain(client: ElementQueue, user: string): Promise<JID> {
  await client.openStream();
  client.send(authElement('PLAIN', plainMessage(user, passwordOf(user))));
  const outcome = await client.next((el) => el.ns === NS.SASL && (el.name === 'success' || el.name === 'failure'));
  if (outcome.name !== 'success') throw new Error(`login of ${user} failed: ${outcome.toString()}`);

  await client.openStream();
  const bound = client.next((el) => el.name === 'iq' && el.attr('id') === 'bind');
  client.send(x('iq', NS.CLIENT, { type: 'set', id: 'bind' }, x('bind', NS.BIND)));
  return JID.parse((await bound).getChild('bind', NS.BIND)?.getChildText('jid', NS.BIND) ?? '');
}

interface WebUser {
  client: WebSocketClient;
  jid: JID;
}

/** Logs in over the WebSocket endpoint through HAProxy with PLAIN, binds and sends presence. */
async function loginWebSocket(user: string): Promise<WebUser> {
  const client = await WebSocketClient.open(webSocketUrl());
  try {
    const jid = await bindWithPlain(client, user);
    await enableStreamManagement(client);
    const echo = client.next((el) => el.name === 'presence' && el.attr('from') === jid.toString());
    sendCounted(client, x('presence', NS.CLIENT));
    await echo;
    return { client, jid };
  } catch (err) {
    client.close();
    throw err;
  }
}

function webSocketUrl(): string {
  return `wss://127.0.0.1:${mapped(deployment.frontends, 443, 'the client')}/xmpp-websocket`;
}

/** Sends a GET through HAProxy's HTTPS frontend, with the domain's certificate checked. */
function fetchThroughHaproxy(urlPath: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const options = {
      host: '127.0.0.1',
      port: mapped(deployment.frontends, 443, 'the client'),
      path: urlPath,
      ca: deployment.certificate,
      servername: deployment.domain,
      headers: { host: deployment.domain, ...headers },
    };
    const request = httpsGet(options, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body }));
    });
    request.setTimeout(5000, () => request.destroy(new Error(`GET ${urlPath} timed out`)));
    request.on('error', reject);
  });
}

describe.skipIf(!runCluster)('three nodes behind HAProxy, as the page configures them', () => {
  const tcp: Record<string, { connection: RawConnection; jid: JID }> = {};
  const web: Record<string, WebUser> = {};

  beforeAll(async () => {
    await startDeployment();
  }, 180_000);

  afterAll(async () => {
    for (const client of Object.values(tcp)) client.connection.destroy();
    for (const user of Object.values(web)) user.client.close();
    for (const node of deployment?.nodes ?? []) {
      if (node.errors.length > 0) console.error(`deployment-doc: errors logged by ${node.id}:\n${node.errors.join('\n')}`);
    }
    await stopDeployment?.();
  }, 60_000);

  it('puts two TCP users on different nodes', async () => {
    tcp.alice = await loginTcp('alice', false);
    tcp.bob = await loginTcp('bob', true);

    const aliceNode = await nodeOf(tcp.alice.jid);
    const bobNode = await nodeOf(tcp.bob.jid);
    expect(aliceNode).toBeDefined();
    expect(bobNode).toBeDefined();
    expect(bobNode).not.toBe(aliceNode);
  }, 30_000);

  it('puts two WebSocket users on different nodes', async () => {
    web.carol = await loginWebSocket('carol');
    web.dave = await loginWebSocket('dave');

    const carolNode = await nodeOf(web.carol.jid);
    const daveNode = await nodeOf(web.dave.jid);
    expect(carolNode).toBeDefined();
    expect(daveNode).toBeDefined();
    expect(daveNode).not.toBe(carolNode);
  }, 30_000);

  it('carries chats both ways between the nodes', async () => {
    const { alice, bob } = tcp as Record<'alice' | 'bob', { connection: RawConnection; jid: JID }>;
    const { carol, dave } = web as Record<'carol' | 'dave', WebUser>;

    await deliver(alice.connection, alice.jid, bob.connection, bob.jid, 'tcp to tcp');
    await deliver(bob.connection, bob.jid, alice.connection, alice.jid, 'tcp back');
    await deliver(carol.client, carol.jid, dave.client, dave.jid, 'websocket to websocket');
    await deliver(dave.client, dave.jid, carol.client, carol.jid, 'websocket back');
    await deliver(alice.connection, alice.jid, carol.client, carol.jid, 'tcp to websocket');
    await deliver(carol.client, carol.jid, alice.connection, alice.jid, 'websocket to tcp');
  }, 30_000);

  it('serves the web client, health and host-meta', async () => {
    const page = await fetchThroughHaproxy('/');
    expect(page.status, page.body.slice(0, 300)).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toMatch(/<!doctype html>/i);

    const health = await fetchThroughHaproxy('/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });

    // HAProxy reaches the node over TLS, so the node returns a wss:// address.
    const hostMeta = await fetchThroughHaproxy('/.well-known/host-meta.json');
    expect(JSON.parse(hostMeta.body)).toEqual({ links: expect.arrayContaining([{ rel: 'urn:xmpp:alt-connections:websocket', href: `wss://${deployment.domain}/xmpp-websocket` }]) });
  }, 30_000);

  it("reports each client's own address, which HAProxy passes on", async () => {
    // The nodes require a PROXY header from 127.0.0.1, HAProxy's address here, so every login
    // through HAProxy shows that it sends one. These clients connect from other loopback addresses.
    const tls = await DirectTlsClient.open(mapped(deployment.frontends, 5223, 'the client'), '127.0.0.2');
    const websocket = await WebSocketClient.open(webSocketUrl(), '127.0.0.3');
    try {
      const overTls = (await bindWithPlain(tls, 'erin')).toString();
      const overWebSocket = (await bindWithPlain(websocket, 'erin')).toString();
      const readAddresses = async () => {
        const response = await fetchThroughHaproxy('/api/v1/sessions?username=erin', { authorization: `Bearer ${deployment.apiToken}` });
        if (response.status !== 200) throw new Error(`GET /api/v1/sessions answered ${response.status}: ${response.body}`);
        const items = JSON.parse(response.body).items as { jid: string; ip: string }[];
        return Object.fromEntries(items.map((item) => [item.jid, item.ip]));
      };
      // A session on another node reaches the view of the node serving the request through Redis.
      const addresses = await waitFor(readAddresses, (seen) => overTls in seen && overWebSocket in seen, 5000, 'the admin API did not list both sessions');
      expect(addresses[overTls]).toBe('127.0.0.2');
      expect(addresses[overWebSocket]).toBe('127.0.0.3');
    } finally {
      tls.close();
      websocket.close();
    }
  }, 30_000);

  it('drains a node as the upgrade steps do', async () => {
    const { alice, bob } = tcp as Record<'alice' | 'bob', { connection: RawConnection; jid: JID }>;
    // The node without a TCP client, which leastconn would pick for the next one.
    const busy = [await nodeOf(alice.jid), await nodeOf(bob.jid)];
    const idle = deployment.nodes.find((node) => !busy.includes(node.id))!.id;
    const drain = drainCommands(idle, 'drain');
    expect(drain).toHaveLength(4);
    for (const command of drain) expect((await askHaproxy(deployment.statsSocket, command)).trim(), command).toBe('');

    const second = await loginTcp('alice', false);
    try {
      const node = await nodeOf(second.jid);
      expect(node).toBeDefined();
      expect(node).not.toBe(idle);
    } finally {
      second.connection.destroy();
    }
    for (const command of drainCommands(idle, 'ready')) expect((await askHaproxy(deployment.statsSocket, command)).trim(), command).toBe('');
  }, 30_000);

  it('moves a client to another node when its node dies', async () => {
    const { alice, bob } = tcp as Record<'alice' | 'bob', { connection: RawConnection; jid: JID }>;
    const deadId = await nodeOf(bob.jid);
    const dead = deployment.nodes.find((node) => node.id === deadId)!;
    dead.child.kill('SIGKILL');
    await dead.exit;
    await bob.connection.waitForClose(5000);

    // Until bob's old entry expires, alice's node publishes the chat on the dead node's channel,
    // which has no subscriber, so the chat goes to offline storage. The stream management
    // acknowledgement follows once it is stored there.
    sendCounted(alice.connection, chat(bob.jid, 'while bob was away'));
    await waitForAcknowledgement(alice.connection);

    tcp.bob = await loginTcp('bob', false);
    const newNode = await nodeOf(tcp.bob.jid);
    expect(newNode).toBeDefined();
    expect(newNode).not.toBe(deadId);
    await tcp.bob.connection.next(isChat(alice.jid, 'while bob was away'), 5000);

    const isDead = (state: string) => state.includes(`/${deadId} `);
    const states = await waitFor(
      serverStates,
      (all) => all.filter(isDead).every((state) => state.includes(' DOWN ')),
      HEALTHY_TIMEOUT_MS,
      `HAProxy did not mark ${deadId} down`,
    );
    expect(states.filter(isDead)).toHaveLength(4);
  }, 60_000);
});
