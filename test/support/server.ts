import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XmppServer } from '../../packages/server/src/core/server.js';
import { validateConfig, type Config } from '../../packages/server/src/config.js';
import { createLogger } from '../../packages/server/src/log.js';
import { createAccount } from '../../packages/server/src/accounts.js';
import { createTestDatabase, testsUsePostgres, type TestDatabase } from './postgres.js';
import { TEST_DOMAIN } from './raw.js';

/** A running Parley server on 127.0.0.1 with its own data folder. */
export interface TestServer {
  /** The server instance; restart() replaces it. */
  server: XmppServer;
  domain: string;
  dataDir: string;
  c2sPort: number;
  c2sTlsPort: number;
  httpPort: number;
  httpsPort: number;
  createAccount(username: string, password: string): Promise<void>;
  /** Stops the server and removes its data folder. */
  stop(): Promise<void>;
  /** Stops the server and starts it again on the same data folder and ports; `whileStopped` runs in between. */
  restart(whileStopped?: () => Promise<void>): Promise<void>;
}

/**
 * Starts a server for the domain example.test on system-chosen ports of 127.0.0.1, in a fresh
 * temporary data folder. `overrides` are config keys merged over the test defaults,
 * for example `{ registration: { policy: 'closed' } }`. Logs are silent unless
 * PARLEY_TEST_LOG names a level.
 */
export async function startTestServer(overrides: Record<string, unknown> = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'parley-test-'));
  const database = await testDatabaseFor(overrides);
  try {
    const started = await startInFolder(dataDir, database ? withDatabase(overrides, database) : overrides);
    return database ? dropAtStop(started, database) : started;
  } catch (err) {
    await database?.drop();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Returns the `[storage]` table that points parleyctl or another process at the test server's
 * database: empty on SQLite, where `data_dir` leads to the file.
 */
export function storageToml(target: TestServer): string {
  const { driver, url } = target.server.config.storage;
  return driver === 'postgres' ? `[storage]\ndriver = "postgres"\nurl = "${url}"\n` : '';
}

/** With PARLEY_TEST_STORAGE=postgres, a fresh database, unless the test chose its storage itself. */
async function testDatabaseFor(overrides: Record<string, unknown>): Promise<TestDatabase | undefined> {
  const storage = overrides.storage as Record<string, unknown> | undefined;
  if (!testsUsePostgres() || storage?.driver !== undefined) return undefined;
  return createTestDatabase();
}

function withDatabase(overrides: Record<string, unknown>, database: TestDatabase): Record<string, unknown> {
  const storage = (overrides.storage ?? {}) as Record<string, unknown>;
  return { ...overrides, storage: { ...storage, driver: 'postgres', url: database.url } };
}

function dropAtStop(started: TestServer, database: TestDatabase): TestServer {
  const stop = started.stop.bind(started);
  started.stop = async () => {
    await stop();
    await database.drop();
  };
  return started;
}

async function startInFolder(dataDir: string, overrides: Record<string, unknown>): Promise<TestServer> {
  let server = await launch(buildConfig(dataDir, { c2s: 0, c2sTls: 0, http: 0, https: 0 }, overrides));
  const ports = {
    c2s: server.addresses.c2s ?? 0,
    c2sTls: server.addresses.c2sTls ?? 0,
    http: server.addresses.http ?? 0,
    https: server.addresses.https ?? 0,
  };
  // Upload slot URLs name the served domain, which tests cannot resolve. Unless a test sets its
  // own public_url (an empty one keeps the server's default), they point at the HTTP listener
  // on 127.0.0.1, so browsers stay on loopback.
  const uploadOverrides = (overrides.upload ?? {}) as Record<string, unknown>;
  if (!('public_url' in uploadOverrides) && ports.http !== 0) {
    overrides = { ...overrides, upload: { ...uploadOverrides, public_url: `http://127.0.0.1:${ports.http}` } };
    server.config.upload.public_url = `http://127.0.0.1:${ports.http}`;
  }
  // Port 0 lets the system pick free ports, and a restart binds the same ones again.
  const restartConfig = buildConfig(dataDir, ports, overrides);
  let stopped = false;

  return {
    get server() {
      return server;
    },
    domain: restartConfig.domain,
    dataDir,
    c2sPort: ports.c2s,
    c2sTlsPort: ports.c2sTls,
    httpPort: ports.http,
    httpsPort: ports.https,
    async createAccount(username: string, password: string): Promise<void> {
      await createAccount(server, username, password);
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
    async restart(whileStopped?: () => Promise<void>): Promise<void> {
      await server.stop();
      await whileStopped?.();
      server = await launch(restartConfig);
    },
  };
}

function buildConfig(dataDir: string, ports: Record<'c2s' | 'c2sTls' | 'http' | 'https', number>, overrides: Record<string, unknown>): Config {
  const defaults: Record<string, unknown> = {
    domain: TEST_DOMAIN,
    data_dir: dataDir,
    listen: { host: '127.0.0.1', c2s_port: ports.c2s, c2s_tls_port: ports.c2sTls, http_port: ports.http, https_port: ports.https },
    // The minimum iteration count keeps logins fast; tests do not need slow hashes.
    auth: { scram_iterations: 4096 },
  };
  return validateConfig(mergeConfig(defaults, overrides), 'test server overrides');
}

/** Merges `overrides` into `base` section by section; returns a new object. */
function mergeConfig(base: Record<string, unknown>, overrides: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    const existing = merged[key];
    merged[key] = isSection(value) && isSection(existing) ? { ...existing, ...value } : value;
  }
  return merged;
}

function isSection(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function launch(config: Config): Promise<XmppServer> {
  const logger = createLogger(process.env.PARLEY_TEST_LOG ?? 'silent');
  const server = await XmppServer.create(config, logger);
  try {
    await server.listen();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}
