import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { runAsSuperuser, testsUsePostgres } from '../../../../test/support/postgres.js';
import { openTestStorage } from '../../../../test/support/storage.js';
import { DatabaseUnavailableError, openStorage } from './index.js';
import type { InboxConversation, Storage } from './index.js';

const HOST = 'example.test';
const NOW = 1_700_000_000_000;

/** Finds a port on 127.0.0.1 that nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

describe('opening PostgreSQL storage', () => {
  it('names the target of a failed connection', async () => {
    const port = await closedPort();
    const opening = openStorage({ driver: 'postgres', url: `postgres://parley:s3cret-pw@127.0.0.1:${port}/parley_db`, password: 'other-secret' });

    const error = await opening.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain(`parley@127.0.0.1:${port}/parley_db`);
    expect(message).toMatch(/ECONNREFUSED/);
    expect(message).not.toMatch(/s3cret-pw|other-secret/);
  });
});

describe.skipIf(!testsUsePostgres())('PostgreSQL storage', () => {
  let dir: string;
  let path: string;
  let storages: Storage[];

  /** Opens the test's database again, as another server node would. */
  async function node(): Promise<Storage> {
    const storage = await openTestStorage(path);
    storages.push(storage);
    return storage;
  }

  async function databaseName(storage: Storage): Promise<string> {
    const row = await storage.db
      .selectNoFrom((eb) => eb.fn<string>('current_database').as('name'))
      .executeTakeFirstOrThrow();
    return row.name;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'parley-postgres-'));
    path = join(dir, 'parley.db');
    storages = [];
  });

  afterEach(async () => {
    for (const storage of storages) await storage.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reconnects after losing its connections', async () => {
    const storage = await node();
    await storage.accounts.create(HOST, 'alice', [], NOW);
    const name = await databaseName(storage);

    await runAsSuperuser(`alter database ${name} allow_connections false`);
    try {
      await runAsSuperuser(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}'`);
      // The pool's idle connections died: the query fails instead of hanging or crashing the process.
      await expect(storage.accounts.exists(HOST, 'alice')).rejects.toThrow();
    } finally {
      await runAsSuperuser(`alter database ${name} allow_connections true`);
    }

    expect(await storage.accounts.exists(HOST, 'alice')).toBe(true);
  });

  it('creates a raced account once', async () => {
    const [first, second] = [await node(), await node()];

    const attempts = Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? first : second).accounts.create(HOST, 'carol', [], NOW));
    const results = await Promise.allSettled(attempts);

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    expect(await first.accounts.count(HOST)).toBe(1);
  });

  it('bumps roster versions from two nodes', async () => {
    const [first, second] = [await node(), await node()];
    await first.accounts.create(HOST, 'alice', [], NOW);

    const puts = Array.from({ length: 20 }, (_, index) =>
      (index % 2 === 0 ? first : second).roster.put(HOST, 'alice', {
        contact: `contact${index}@example.test`,
        name: null,
        subscription: 'none',
        ask: false,
        pendingIn: false,
        pendingInStanza: null,
        approved: false,
        hidden: false,
        groups: [],
      }),
    );
    const versions = await Promise.all(puts);

    expect(new Set(versions).size).toBe(20);
    expect(Math.max(...versions)).toBe(20);
    expect((await second.roster.list(HOST, 'alice')).length).toBe(20);
  });

  it('counts unread messages from two nodes', async () => {
    const [first, second] = [await node(), await node()];
    await first.accounts.create(HOST, 'bob', [], NOW);
    const owner = { host: HOST, username: 'bob' };
    const chat: InboxConversation = { jid: 'alice@example.test', kind: 'chat' };

    const writes = Array.from({ length: 30 }, (_, index) => {
      const storage = index % 2 === 0 ? first : second;
      const stanzaId = `id${String(index).padStart(3, '0')}`;
      const message = { stanzaId, at: NOW + index, sender: 'alice@example.test', stanza: '<message/>' };
      return storage.batch.write((trx) => storage.inbox.addMessage(trx, owner, chat, message, true));
    });
    await Promise.all(writes);

    const entry = await second.inbox.get(owner, chat.jid);
    expect(entry?.unread).toBe(30);
    expect(entry?.lastStanzaId).toBe('id029');
  });

  it('limits invite uses across two nodes', async () => {
    const [first, second] = [await node(), await node()];
    await first.invites.create({ tokenHash: 'hash', host: HOST, expiresAt: null, maxUses: 3, createdBy: null, note: null, createdAt: NOW });

    const consumes = Array.from({ length: 20 }, (_, index) => (index % 2 === 0 ? first : second).invites.consume(HOST, 'hash', NOW));
    const wins = (await Promise.all(consumes)).filter(Boolean);

    expect(wins).toHaveLength(3);
  });
});
