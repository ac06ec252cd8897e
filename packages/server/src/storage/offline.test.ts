import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { openTestStorage } from '../../../../test/support/storage.js';
import type { Storage } from './index.js';

const HOST = 'example.test';
const USER = 'alice';
const MESSAGE_COUNT = 40;

let dir: string;
let storage: Storage;

function message(user: string, index: number): string {
  return `<message to='${user}@${HOST}' id='m${index}'><body>${index}</body></message>`;
}

async function stanzas(username: string): Promise<string[]> {
  const messages = await storage.offline.list(HOST, username);
  return messages.map((entry) => entry.stanza);
}

function expectedStanzas(username: string): string[] {
  return Array.from({ length: MESSAGE_COUNT }, (_, index) => message(username, index));
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-offline-'));
  storage = await openTestStorage(join(dir, 'parley.db'));
  for (const username of [USER, 'bob', 'carol']) {
    await storage.accounts.create(HOST, username, []);
  }
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

describe('OfflineRepository.store', () => {
  it('returns increasing seq', async () => {
    const first = await storage.offline.store(HOST, USER, message(USER, 0), 1);
    const second = await storage.offline.store(HOST, USER, message(USER, 1), 1);
    expect(second).toBeGreaterThan(first);
  });

  it('keeps stanza and time', async () => {
    const seq = await storage.offline.store(HOST, USER, message(USER, 0), 1_700_000_000_123);
    expect(await storage.offline.list(HOST, USER)).toEqual([
      { seq, stanza: message(USER, 0), storedAt: 1_700_000_000_123 },
    ]);
  });

  it('keeps order within one millisecond', async () => {
    const storedAt = Date.now();
    for (let index = 0; index < MESSAGE_COUNT; index++) {
      await storage.offline.store(HOST, USER, message(USER, index), storedAt);
    }
    expect(await stanzas(USER)).toEqual(expectedStanzas(USER));
  });

  it('keeps order in tight loop', async () => {
    for (let index = 0; index < MESSAGE_COUNT; index++) {
      await storage.offline.store(HOST, USER, message(USER, index), Date.now());
    }
    expect(await stanzas(USER)).toEqual(expectedStanzas(USER));
  });

  it('keeps order with interleaved writers', async () => {
    const writes: Promise<number>[] = [];
    const storedAt = Date.now();
    for (let index = 0; index < MESSAGE_COUNT; index++) {
      for (const username of [USER, 'bob', 'carol']) {
        writes.push(storage.offline.store(HOST, username, message(username, index), storedAt));
      }
    }
    await Promise.all(writes);

    for (const username of [USER, 'bob', 'carol']) {
      expect(await stanzas(username), username).toEqual(expectedStanzas(username));
    }
  });

  it('keeps order with concurrent loops', async () => {
    const writeAll = async (username: string): Promise<void> => {
      for (let index = 0; index < MESSAGE_COUNT; index++) {
        await storage.offline.store(HOST, username, message(username, index), Date.now());
      }
    };
    await Promise.all([writeAll(USER), writeAll('bob'), writeAll('carol')]);

    for (const username of [USER, 'bob', 'carol']) {
      expect(await stanzas(username), username).toEqual(expectedStanzas(username));
    }
  });

  it('keeps seq increasing after deleting the newest', async () => {
    const first = await storage.offline.store(HOST, USER, message(USER, 0), 1);
    await storage.offline.deleteAll(HOST, USER);
    const second = await storage.offline.store(HOST, USER, message(USER, 1), 1);
    expect(second).toBeGreaterThan(first);
  });
});

describe('OfflineRepository counters', () => {
  it('count is zero when empty', async () => {
    expect(await storage.offline.count(HOST, USER)).toBe(0);
  });

  it('count follows stores', async () => {
    await storage.offline.store(HOST, USER, message(USER, 0), 1);
    await storage.offline.store(HOST, USER, message(USER, 1), 1);
    await storage.offline.store(HOST, 'bob', message('bob', 0), 1);
    expect(await storage.offline.count(HOST, USER)).toBe(2);
  });

  it('totalBytes is zero when empty', async () => {
    expect(await storage.offline.totalBytes(HOST, USER)).toBe(0);
  });

  it('totalBytes counts UTF-8 bytes', async () => {
    // The tags take 19 bytes, and in UTF-8 'é' adds 2 and '😀' adds 4.
    await storage.offline.store(HOST, USER, '<message>é</message>', 1);
    await storage.offline.store(HOST, USER, '<message>😀</message>', 1);
    await storage.offline.store(HOST, 'bob', '<message/>', 1);
    expect(await storage.offline.totalBytes(HOST, USER)).toBe(19 + 2 + 19 + 4);
  });
});

describe('OfflineRepository.list', () => {
  beforeEach(async () => {
    for (let index = 0; index < 5; index++) {
      await storage.offline.store(HOST, USER, message(USER, index), 1);
    }
  });

  it('applies limit', async () => {
    const messages = await storage.offline.list(HOST, USER, 2);
    expect(messages.map((entry) => entry.stanza)).toEqual([message(USER, 0), message(USER, 1)]);
  });

  it('is empty for other account', async () => {
    expect(await storage.offline.list(HOST, 'bob')).toEqual([]);
  });
});

describe('OfflineRepository deletes', () => {
  it('deleteUpTo removes delivered messages', async () => {
    const seqs: number[] = [];
    for (let index = 0; index < 4; index++) {
      seqs.push(await storage.offline.store(HOST, USER, message(USER, index), 1));
    }
    await storage.offline.deleteUpTo(HOST, USER, seqs[1] ?? 0);
    expect(await stanzas(USER)).toEqual([message(USER, 2), message(USER, 3)]);
  });

  it('deleteUpTo returns deleted count', async () => {
    const seq = await storage.offline.store(HOST, USER, message(USER, 0), 1);
    await storage.offline.store(HOST, USER, message(USER, 1), 1);
    expect(await storage.offline.deleteUpTo(HOST, USER, seq)).toBe(1);
  });

  it('deleteUpTo keeps other accounts', async () => {
    await storage.offline.store(HOST, 'bob', message('bob', 0), 1);
    const seq = await storage.offline.store(HOST, USER, message(USER, 0), 1);
    await storage.offline.deleteUpTo(HOST, USER, seq);
    expect(await storage.offline.count(HOST, 'bob')).toBe(1);
  });

  it('deleteAll empties the account', async () => {
    await storage.offline.store(HOST, USER, message(USER, 0), 1);
    await storage.offline.store(HOST, USER, message(USER, 1), 1);
    await storage.offline.deleteAll(HOST, USER);
    expect(await storage.offline.count(HOST, USER)).toBe(0);
  });

  it('deleteAll returns deleted count', async () => {
    await storage.offline.store(HOST, USER, message(USER, 0), 1);
    await storage.offline.store(HOST, USER, message(USER, 1), 1);
    expect(await storage.offline.deleteAll(HOST, USER)).toBe(2);
  });

  it('deleteAll keeps other accounts', async () => {
    await storage.offline.store(HOST, 'bob', message('bob', 0), 1);
    await storage.offline.store(HOST, USER, message(USER, 0), 1);
    await storage.offline.deleteAll(HOST, USER);
    expect(await storage.offline.count(HOST, 'bob')).toBe(1);
  });
});
