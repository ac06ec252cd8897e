/**
 * One Parley server per test file for the multi-user chat tests, with the accounts of
 * the XEP-0045 examples. Each test gets fresh rooms and its own connections.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startTestServer, type TestServer } from './server.js';
import { TestClient } from './client.js';
import { roomJid } from './muc.js';

export const PASSWORD = 'muc conformance secret';
export const DOMAIN = 'example.test';

/** The users of the XEP-0045 examples, as accounts on example.test. */
export const USERS = ['crone1', 'wiccarocks', 'hag66', 'hecate', 'bard', 'pistol'] as const;
export type User = (typeof USERS)[number];

export interface MucFixture {
  readonly server: TestServer;
  /** Connects a user with initial presence. The connection closes after the test. */
  connect(user: User, resource?: string): Promise<TestClient>;
  /** Returns the JID of a room no test in this file has used. */
  newRoom(): string;
}

/** Registers the hooks that start the server before the file's tests and close connections after each test. */
export function useMucServer(overrides: Record<string, unknown> = {}): MucFixture {
  let server: TestServer | undefined;
  let clients: TestClient[] = [];
  let roomCounter = 0;

  beforeAll(async () => {
    server = await startTestServer(overrides);
    for (const user of USERS) await server.createAccount(user, PASSWORD);
  });

  afterEach(async () => {
    await Promise.all(clients.map((client) => client.close()));
    clients = [];
  });

  afterAll(async () => {
    await server?.stop();
  });

  return {
    get server(): TestServer {
      if (!server) throw new Error('the test server is not running');
      return server;
    },
    async connect(user: User, resource = 'desktop'): Promise<TestClient> {
      if (!server) throw new Error('the test server is not running');
      const client = await TestClient.connect(server, { username: user, password: PASSWORD, transport: 'plain', resource, presence: true });
      clients.push(client);
      return client;
    },
    newRoom(): string {
      roomCounter += 1;
      return roomJid(`coven${roomCounter}`);
    },
  };
}

/** Returns the bare JID of a user. */
export function bare(user: User): string {
  return `${user}@${DOMAIN}`;
}
