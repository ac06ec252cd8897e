import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { NS, x } from '../../packages/xmpp/src/index.js';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../packages/server/src/config.js';
import { openStorage, type StorageOptions } from '../../packages/server/src/storage/index.js';
import { createAccount } from '../../packages/server/src/accounts.js';
import { createApiToken } from '../../packages/server/src/admin/tokens.js';
import { testStorageOptions } from './storage.js';
import { freePort, startRedis, stopProcess, waitForPort, type TestRedis } from './redis.js';
import type { TestServer } from './server.js';
import { TestClient } from './client.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = path.join(ROOT, 'packages/server/src/main.ts');
const START_TIMEOUT_MS = 30_000;

/** Short times, so that a killed node's sessions expire within a test. */
export const TEST_HEARTBEAT_MS = 300;
export const TEST_EXPIRY_MS = 2000;

/** One server process of a test cluster. */
export interface ClusterNode {
  id: string;
  c2sPort: number;
  /** The HTTP listener's port with `http`, else undefined. */
  httpPort?: number;
  /** What TestClient needs to connect to this node. */
  target: TestServer;
  running: boolean;
}

/** A redis-server and server processes on 127.0.0.1 that share one database. */
export interface TestCluster {
  redis: TestRedis;
  nodes: ClusterNode[];
  /** An admin API token, with `http`. */
  apiToken?: string;
  /** Ends node `index` with SIGKILL and waits for its exit. */
  kill(index: number): Promise<void>;
  /** Stops node `index` with SIGTERM, as an administrator would, and waits for its exit. */
  shutdown(index: number): Promise<void>;
  /** Starts node `index` again with its config. */
  restart(index: number): Promise<void>;
  /** Stops every node and Redis and removes the files. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Lines added to every node's [sessions] section, such as `resource_conflict = "reject"`. */
  sessions?: string[];
  /** Starts each node's HTTP listener (admin API, WebSocket) and creates an admin API token. */
  http?: boolean;
}

interface Running {
  child: ChildProcess;
  exit: Promise<void>;
}

/**
 * Starts Redis and `count` nodes, one process each (the server's main entry through tsx),
 * with accounts `users` (password `<name>-pass`) created first. The nodes share one
 * database: a PostgreSQL database with PARLEY_TEST_STORAGE=postgres, else one SQLite file
 * in WAL mode.
 */
export async function startCluster(count: number, users: string[], options: ClusterOptions = {}): Promise<TestCluster> {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-cluster-'));
  const redis = await startRedis();
  const storage = await testStorageOptions(path.join(dir, 'shared.sqlite'));
  const processes: (Running | undefined)[] = [];
  const nodes: ClusterNode[] = [];
  const configs: string[] = [];
  let apiToken: string | undefined;

  try {
    for (let index = 0; index < count; index++) {
      const port = await freePort();
      const httpPort = options.http ? await freePort() : undefined;
      const nodeDir = path.join(dir, `node-${index}`);
      await mkdir(nodeDir);
      const file = path.join(nodeDir, 'parley.toml');
      await writeFile(file, nodeConfig(`node-${index}`, nodeDir, storage, { c2s: port, http: httpPort }, redis.url, options.sessions ?? []));
      configs.push(file);
      nodes.push({ id: `node-${index}`, c2sPort: port, httpPort, target: { domain: 'example.test', c2sPort: port } as TestServer, running: false });
    }
    apiToken = await createUsers(configs[0]!, storage, users, options.http === true);
    // Started together: each start mostly waits for its process to load the sources.
    const launched = await Promise.allSettled(configs.map((config, index) => launch(config, nodes[index]!)));
    launched.forEach((outcome, index) => {
      if (outcome.status === 'fulfilled') processes[index] = outcome.value;
    });
    const failed = launched.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    for (const running of processes) if (running) await stopProcess(running.child, running.exit);
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    redis,
    nodes,
    apiToken,
    async kill(index) {
      const running = processes[index];
      processes[index] = undefined;
      nodes[index]!.running = false;
      if (!running) return;
      running.child.kill('SIGKILL');
      await running.exit;
    },
    async shutdown(index) {
      const running = processes[index];
      processes[index] = undefined;
      nodes[index]!.running = false;
      if (running) await stopProcess(running.child, running.exit);
    },
    async restart(index) {
      processes[index] = await launch(configs[index]!, nodes[index]!);
    },
    async stop() {
      await Promise.all(processes.map((running) => (running ? stopProcess(running.child, running.exit) : undefined)));
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function nodeConfig(id: string, dataDir: string, storage: StorageOptions, ports: { c2s: number; http?: number }, redisUrl: string, sessions: string[]): string {
  const lines = [
    'domain = "example.test"',
    `data_dir = "${dataDir}"`,
    '[listen]',
    `c2s_port = ${ports.c2s}`,
    'c2s_tls_port = false',
    `http_port = ${ports.http ?? 'false'}`,
    'https_port = false',
    '[storage]',
    ...(storage.driver === 'sqlite' ? [`path = "${storage.path}"`] : ['driver = "postgres"', `url = "${storage.url}"`, 'pool_size = 4']),
    '[auth]',
    'scram_iterations = 4096',
    '[sessions]',
    'stanzas_per_second = 100000',
    'stanza_burst = 100000',
    ...sessions,
    '[cluster]',
    'enabled = true',
    `node_id = "${id}"`,
    `redis_url = "${redisUrl}"`,
    `heartbeat_ms = ${TEST_HEARTBEAT_MS}`,
    `expiry_ms = ${TEST_EXPIRY_MS}`,
    '[log]',
    `level = "${process.env.PARLEY_TEST_LOG ?? 'warn'}"`,
  ];
  return lines.join('\n') + '\n';
}

/** Creates the accounts, and an admin API token with `token` (running the migrations), before any node opens the database. */
async function createUsers(configFile: string, options: StorageOptions, users: string[], token: boolean): Promise<string | undefined> {
  const config = loadConfig({ file: configFile, env: {} });
  const storage = await openStorage(options);
  try {
    for (const user of users) await createAccount({ config, storage }, user, `${user}-pass`);
    return token ? (await createApiToken(storage, 'cluster test')).token : undefined;
  } finally {
    await storage.close();
  }
}

async function launch(configFile: string, node: ClusterNode): Promise<Running> {
  // One node process (no tsx wrapper process), so that SIGKILL hits the server itself.
  const args = ['--conditions=source', '--import', 'tsx', MAIN, '-c', configFile];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], env: cleanEnv() });
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exited = false;
  void exit.then(() => (exited = true));
  try {
    await waitForPort(node.c2sPort, START_TIMEOUT_MS, () => exited);
  } catch (err) {
    child.kill('SIGKILL');
    await exit;
    throw err;
  }
  node.running = true;
  return { child, exit };
}

/** Returns the test's environment without PARLEY_ variables, which the server would read as configuration. */
function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('PARLEY_')));
}

/** A test file's cluster, with a Redis client on its Redis and clients that close after each test. */
export interface ClusterFixture {
  readonly cluster: TestCluster;
  readonly redis: Redis;
  /** Logs `user` in on node `node` (password `<user>-pass`): with initial presence unless `presence` is false, and a fresh resource unless one is given. */
  connect(node: number, user: string, options?: { resource?: string; presence?: boolean }): Promise<TestClient>;
}

/** Starts a cluster for the test file (see `startCluster`) and stops it after the file's tests. */
export function useTestCluster(count: number, users: string[], options: ClusterOptions = {}): ClusterFixture {
  let cluster: TestCluster | undefined;
  let redis: Redis | undefined;
  let clients: TestClient[] = [];
  let counter = 0;

  beforeAll(async () => {
    cluster = await startCluster(count, users, options);
    redis = new Redis(cluster.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
  }, 120_000);

  afterEach(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => client.kill())));
    clients = [];
  });

  afterAll(async () => {
    for (const client of clients) client.kill();
    await redis?.quit();
    await cluster?.stop();
  }, 30_000);

  return {
    get cluster() {
      return cluster!;
    },
    get redis() {
      return redis!;
    },
    async connect(node, user, { resource, presence = true } = {}) {
      const target = cluster!.nodes[node]!.target;
      const client = await TestClient.connect(target, { username: user, password: `${user}-pass`, transport: 'plain', resource: resource ?? `r${++counter}`, presence });
      clients.push(client);
      return client;
    },
  };
}

/** Makes `a` and `b` subscribe to each other's presence over XMPP; resolves once each got the other's presence. */
export async function befriend(a: TestClient, b: TestClient): Promise<void> {
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    const request = to.next((el) => el.name === 'presence' && el.attr('type') === 'subscribe', 5000);
    from.send(x('presence', NS.CLIENT, { to: to.jid.bare().toString(), type: 'subscribe' }));
    await request;
    const online = from.next((el) => el.name === 'presence' && el.attr('from') === to.jid.toString() && el.attr('type') === undefined, 5000);
    to.send(x('presence', NS.CLIENT, { to: from.jid.bare().toString(), type: 'subscribed' }));
    await online;
  }
}
