import { createHash, pbkdf2Sync, randomBytes } from 'node:crypto';

import { argon2id, bcrypt } from 'hash-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { parseLegacyHash } from '../packages/server/src/auth/legacy-hash.js';
import { type ClientTransport, bindResource, login, openClientStream, saslFailureCondition } from './support/client.js';
import { startTestServer, type TestServer } from './support/server.js';

const PASSWORD = 'Pässword-42';

/** Builds one hash per accepted form for PASSWORD, with low costs so the test stays fast. */
async function legacyHashes(): Promise<Record<string, string>> {
  const bytes = Buffer.from(PASSWORD, 'utf8');
  const salt = randomBytes(16);
  const ab64 = (data: Buffer) => data.toString('base64').replace(/=+$/, '').replaceAll('+', '.');
  const ssha = Buffer.concat([createHash('sha256').update(bytes).update(salt).digest(), salt]);
  return {
    bcrypt: await bcrypt({ password: bytes, salt, costFactor: 4, outputType: 'encoded' }),
    argon2id: await argon2id({ password: bytes, salt, iterations: 2, memorySize: 256, parallelism: 1, hashLength: 32, outputType: 'encoded' }),
    passlib: `$pbkdf2-sha256$1000$${ab64(salt)}$${ab64(pbkdf2Sync(bytes, salt, 1000, 32, 'sha256'))}`,
    django: `pbkdf2_sha256$1000$seasalt$${pbkdf2Sync(bytes, 'seasalt', 1000, 32, 'sha256').toString('base64')}`,
    ssha256: `{SSHA256}${ssha.toString('base64')}`,
    sha256: `sha256$pepper$${createHash('sha256').update('pepper').update(bytes).digest('hex')}`,
  };
}

let server: TestServer;
let hashes: Record<string, string>;

beforeAll(async () => {
  server = await startTestServer({ auth: { max_failures: 1000 } });
  hashes = await legacyHashes();
  for (const [name, hash] of Object.entries(hashes)) await importAccount(`legacy-${name}`, hash);
});

afterAll(async () => {
  await server?.stop();
});

/** Creates an account as an import does: no SCRAM credentials, only the legacy hash. */
async function importAccount(username: string, hash: string): Promise<void> {
  const { storage, config } = server.server;
  await storage.accounts.create(config.domain, username, []);
  await storage.db.updateTable('accounts').set({ legacy_hash: parseLegacyHash(hash).encoded }).where('host', '=', config.domain).where('username', '=', username).execute();
}

async function attempt(transport: ClientTransport, mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-1', username: string, password: string): Promise<string> {
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

async function storedState(username: string): Promise<{ legacyHash: string | null; credentials: string[] }> {
  const { storage, config } = server.server;
  const legacyHash = await storage.legacyHashes.get(config.domain, username);
  const rows = await storage.db.selectFrom('credentials').select('hash').where('host', '=', config.domain).where('username', '=', username).execute();
  return { legacyHash, credentials: rows.map((row) => row.hash).sort() };
}

describe('login upgrade from a legacy hash', () => {
  for (const name of ['bcrypt', 'argon2id', 'passlib', 'django', 'ssha256', 'sha256']) {
    it(`upgrades ${name} to SCRAM`, async () => {
      const username = `legacy-${name}`;
      expect(await attempt('starttls', 'SCRAM-SHA-256', username, PASSWORD)).toBe('not-authorized');
      expect(await attempt('starttls', 'PLAIN', username, 'Password-42')).toBe('not-authorized');
      expect((await storedState(username)).legacyHash).not.toBeNull();

      expect(await attempt('starttls', 'PLAIN', username, PASSWORD)).toBe('success');
      expect(await storedState(username)).toEqual({ legacyHash: null, credentials: ['SHA-1', 'SHA-256'] });

      expect(await attempt('starttls', 'SCRAM-SHA-256', username, PASSWORD)).toBe('success');
      expect(await attempt('starttls', 'SCRAM-SHA-1', username, PASSWORD)).toBe('success');
      expect(await attempt('starttls', 'PLAIN', username, PASSWORD)).toBe('success');
      expect(await attempt('starttls', 'SCRAM-SHA-256', username, 'Password-42')).toBe('not-authorized');
    });
  }

  it('logs in with PLAIN on loopback without TLS', async () => {
    await importAccount('loopback-user', hashes.sha256 ?? '');
    expect(await attempt('plain', 'PLAIN', 'loopback-user', PASSWORD)).toBe('success');
    expect((await storedState('loopback-user')).legacyHash).toBeNull();
  });

  it('keeps the hash of a password SASLprep rejects', async () => {
    // U+0221 is unassigned in Unicode 3.2, so SASLprep (RFC 4013) rejects the password.
    const password = 'pass\u0221word';
    const hex = createHash('sha256').update('s').update(password, 'utf8').digest('hex');
    await importAccount('unprepped', `sha256$s$${hex}`);
    expect(await attempt('starttls', 'PLAIN', 'unprepped', password)).toBe('success');
    expect(await storedState('unprepped')).toEqual({ legacyHash: `sha256$s$${hex}`, credentials: [] });
  });

  it('rejects an account with neither credentials nor hash', async () => {
    await server.server.storage.accounts.create(server.domain, 'no-password', []);
    expect(await attempt('starttls', 'PLAIN', 'no-password', PASSWORD)).toBe('not-authorized');
    expect(await attempt('starttls', 'SCRAM-SHA-256', 'no-password', PASSWORD)).toBe('not-authorized');
  });

  it('rejects a corrupt stored hash', async () => {
    await server.server.storage.accounts.create(server.domain, 'corrupt', []);
    await server.server.storage.db.updateTable('accounts').set({ legacy_hash: '$2b$99$broken' }).where('username', '=', 'corrupt').execute();
    expect(await attempt('starttls', 'PLAIN', 'corrupt', PASSWORD)).toBe('not-authorized');
  });
});
