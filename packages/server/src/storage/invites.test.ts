import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage, testStorageOptions } from '../../../../test/support/storage.js';
import type { NewInvite, Storage } from './index.js';

const HOST = 'example.test';
const TOKEN_HASH = 'a'.repeat(64);
const NOW = 1_700_000_000_000;

let dir: string;
let path: string;
let storage: Storage;
const extraHandles: Storage[] = [];

function invite(fields: Partial<NewInvite> = {}): NewInvite {
  return {
    host: HOST,
    tokenHash: TOKEN_HASH,
    expiresAt: null,
    maxUses: 1,
    createdBy: null,
    note: null,
    createdAt: NOW,
    ...fields,
  };
}

/**
 * Starts a child Node process (tsx) that waits until `startAt`, then consumes
 * the invite `attempts` times through its own connection, and resolves with
 * how many consumes succeeded.
 */
async function consumeInChild(startAt: number, attempts: number): Promise<number> {
  const options = await testStorageOptions(path);
  const storageUrl = new URL('./index.ts', import.meta.url).href;
  const script = `
    const { openStorage } = await import(${JSON.stringify(storageUrl)});
    const storage = await openStorage(${JSON.stringify(options)});
    while (Date.now() < ${startAt}) await new Promise((resolve) => setTimeout(resolve, 1));
    let wins = 0;
    for (let i = 0; i < ${attempts}; i++) {
      if (await storage.invites.consume('${HOST}', '${TOKEN_HASH}', ${NOW})) wins++;
    }
    await storage.close();
    process.stdout.write(String(wins));
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) {
        resolve(Number(output));
      } else {
        reject(new Error(`Invite consumer process exited with code ${String(code)}`));
      }
    });
  });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-invites-'));
  path = join(dir, 'parley.db');
  storage = await openTestStorage(path);
});

afterEach(async () => {
  for (const handle of extraHandles.splice(0)) {
    await handle.close();
  }
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('InviteRepository.create', () => {
  it('stores every field', async () => {
    await storage.invites.create(invite({ expiresAt: NOW + 1000, maxUses: 5, createdBy: 'admin', note: 'for Bob' }));
    expect(await storage.invites.list(HOST)).toEqual([
      {
        tokenHash: TOKEN_HASH,
        host: HOST,
        createdAt: NOW,
        expiresAt: NOW + 1000,
        maxUses: 5,
        uses: 0,
        createdBy: 'admin',
        note: 'for Bob',
      },
    ]);
  });

  it('defaults createdAt to now', async () => {
    const before = Date.now();
    await storage.invites.create(invite({ createdAt: undefined }));
    const [stored] = await storage.invites.list(HOST);
    expect(stored?.createdAt).toBeGreaterThanOrEqual(before);
  });

  it('rejects zero maxUses', async () => {
    await expect(storage.invites.create(invite({ maxUses: 0 }))).rejects.toBeInstanceOf(RangeError);
  });

  it('rejects duplicate token hash', async () => {
    await storage.invites.create(invite());
    await expect(storage.invites.create(invite())).rejects.toThrow(/unique/i);
  });
});

describe('InviteRepository.consume', () => {
  it('succeeds once for single use', async () => {
    await storage.invites.create(invite());
    expect(await storage.invites.consume(HOST, TOKEN_HASH, NOW)).toBe(true);
  });

  it('fails when used up', async () => {
    await storage.invites.create(invite());
    await storage.invites.consume(HOST, TOKEN_HASH, NOW);
    expect(await storage.invites.consume(HOST, TOKEN_HASH, NOW)).toBe(false);
  });

  it('counts uses', async () => {
    await storage.invites.create(invite({ maxUses: 3 }));
    await storage.invites.consume(HOST, TOKEN_HASH, NOW);
    await storage.invites.consume(HOST, TOKEN_HASH, NOW);
    const [stored] = await storage.invites.list(HOST);
    expect(stored?.uses).toBe(2);
  });

  it('fails for unknown token', async () => {
    expect(await storage.invites.consume(HOST, 'b'.repeat(64), NOW)).toBe(false);
  });

  it('fails for other host', async () => {
    await storage.invites.create(invite());
    expect(await storage.invites.consume('other.test', TOKEN_HASH, NOW)).toBe(false);
  });

  it('succeeds before expiry', async () => {
    await storage.invites.create(invite({ expiresAt: NOW + 1 }));
    expect(await storage.invites.consume(HOST, TOKEN_HASH, NOW)).toBe(true);
  });

  it('fails at expiry', async () => {
    await storage.invites.create(invite({ expiresAt: NOW }));
    expect(await storage.invites.consume(HOST, TOKEN_HASH, NOW)).toBe(false);
  });

  it('leaves uses unchanged on expiry', async () => {
    await storage.invites.create(invite({ expiresAt: NOW }));
    await storage.invites.consume(HOST, TOKEN_HASH, NOW);
    const [stored] = await storage.invites.list(HOST);
    expect(stored?.uses).toBe(0);
  });

  it('lets exactly maxUses of 20 concurrent consumes win', async () => {
    await storage.invites.create(invite({ maxUses: 3 }));
    const second = await openTestStorage(path);
    extraHandles.push(second);

    const attempts = Array.from({ length: 20 }, (_, index) =>
      (index % 2 === 0 ? storage : second).invites.consume(HOST, TOKEN_HASH, NOW),
    );
    const results = await Promise.all(attempts);
    expect(results.filter(Boolean)).toHaveLength(3);
  });

  it('lets exactly maxUses win across processes', async () => {
    await storage.invites.create(invite({ maxUses: 3 }));
    // Each child needs a few hundred milliseconds to start, so all wait for a shared start time.
    const startAt = Date.now() + 2000;

    const wins = await Promise.all(Array.from({ length: 4 }, () => consumeInChild(startAt, 5)));
    const total = wins.reduce((sum, count) => sum + count, 0);
    expect(total).toBe(3);

    const [stored] = await storage.invites.list(HOST);
    expect(stored?.uses).toBe(3);
  });
});

describe('InviteRepository.list', () => {
  it('orders by creation time', async () => {
    await storage.invites.create(invite({ tokenHash: 'b', createdAt: NOW + 1 }));
    await storage.invites.create(invite({ tokenHash: 'a', createdAt: NOW + 2 }));
    await storage.invites.create(invite({ tokenHash: 'c', createdAt: NOW }));
    const invites = await storage.invites.list(HOST);
    expect(invites.map((entry) => entry.tokenHash)).toEqual(['c', 'b', 'a']);
  });

  it('keeps hosts apart', async () => {
    await storage.invites.create(invite({ host: 'other.test' }));
    expect(await storage.invites.list(HOST)).toEqual([]);
  });

  it('includes used-up invites', async () => {
    await storage.invites.create(invite());
    await storage.invites.consume(HOST, TOKEN_HASH, NOW);
    expect(await storage.invites.list(HOST)).toHaveLength(1);
  });
});

describe('InviteRepository.revoke', () => {
  it('returns true for existing invite', async () => {
    await storage.invites.create(invite());
    expect(await storage.invites.revoke(TOKEN_HASH)).toBe(true);
  });

  it('returns false for unknown invite', async () => {
    expect(await storage.invites.revoke(TOKEN_HASH)).toBe(false);
  });

  it('makes consume fail', async () => {
    await storage.invites.create(invite({ maxUses: 5 }));
    await storage.invites.revoke(TOKEN_HASH);
    expect(await storage.invites.consume(HOST, TOKEN_HASH, NOW)).toBe(false);
  });
});
