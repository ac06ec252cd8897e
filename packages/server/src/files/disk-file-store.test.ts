import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { DiskFileStore } from './disk-file-store.js';
import { FileSizeError } from './file-store.js';

let dir: string;
let store: DiskFileStore;

async function* chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  for (const part of parts) yield Buffer.from(part);
}

async function read(id: string, range?: { start: number; end: number }): Promise<string | undefined> {
  const stream = await store.open(id, range);
  if (!stream) return undefined;
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString();
  return text;
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-files-'));
  store = new DiskFileStore(join(dir, 'uploads'));
  await store.init();
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('DiskFileStore', () => {
  it('stores a stream of the announced size in a shard folder', async () => {
    await store.put('AbCdEf0123456789', chunks('hello ', 'world'), 11);
    expect(await read('AbCdEf0123456789')).toBe('hello world');
    expect(await read('AbCdEf0123456789', { start: 6, end: 10 })).toBe('world');
    expect((await store.stat('AbCdEf0123456789'))?.size).toBe(11);
    expect(await readdir(join(dir, 'uploads', 'ab'))).toEqual(['AbCdEf0123456789']);
  });

  it('keeps nothing of a stream that is shorter, longer or fails', async () => {
    await expect(store.put('short', chunks('abc'), 4)).rejects.toBeInstanceOf(FileSizeError);
    await expect(store.put('long', chunks('abc', 'de'), 4)).rejects.toMatchObject({ tooLong: true });
    async function* failing(): AsyncIterable<Uint8Array> {
      yield Buffer.from('ab');
      throw new Error('connection lost');
    }
    await expect(store.put('failed', failing(), 4)).rejects.toThrow('connection lost');
    for (const id of ['short', 'long', 'failed']) expect(await store.stat(id)).toBeUndefined();
    expect(await readdir(join(dir, 'uploads', '.tmp'))).toEqual([]);
  });

  it('lists, deletes, and reports missing files as undefined', async () => {
    await store.put('one', chunks('1'), 1);
    await store.put('two.t160', chunks('2'), 1);
    const ids: string[] = [];
    for await (const id of store.list()) ids.push(id);
    expect(ids.sort()).toEqual(['one', 'two.t160']);

    await store.delete('one');
    await store.delete('one');
    expect(await store.open('one')).toBeUndefined();
    expect(await store.stat('one')).toBeUndefined();
  });

  it('refuses ids that could leave its folder', async () => {
    for (const id of ['../x', '.hidden', 'a/b', '', 'a\\b']) await expect(store.stat(id)).rejects.toThrow(/invalid file id/);
  });
});
