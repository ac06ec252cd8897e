/**
 * A FileStore on the local disk: DIR/ab/abcdef… with two-character shard folders, and
 * uploads in progress under DIR/.tmp until they are complete and synced.
 */
import { randomBytes } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { type ByteRange, type FileStat, type FileStore, FileSizeError, checkFileId } from './file-store.js';

const TEMP_FOLDER = '.tmp';

export class DiskFileStore implements FileStore {
  constructor(readonly root: string) {}

  /** Creates the folders and removes uploads that a crash left half written. */
  /** Creates the folders; with `clearTemp`, first removes the parts of uploads a stopped process left. */
  async init(clearTemp = true): Promise<void> {
    if (clearTemp) await rm(path.join(this.root, TEMP_FOLDER), { recursive: true, force: true });
    await mkdir(path.join(this.root, TEMP_FOLDER), { recursive: true, mode: 0o700 });
  }

  async put(id: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): Promise<void> {
    const target = this.pathOf(id);
    const temp = path.join(this.root, TEMP_FOLDER, `${randomBytes(12).toString('hex')}.part`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await writeExactly(handle, source, size);
      await handle.sync();
      await handle.close();
      await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
      await rename(temp, target);
      await syncFolder(path.dirname(target));
    } catch (err) {
      await handle.close().catch(() => undefined);
      await unlink(temp).catch(() => undefined);
      throw err;
    }
  }

  async open(id: string, range?: ByteRange): Promise<Readable | undefined> {
    let handle: FileHandle;
    try {
      handle = await open(this.pathOf(id), 'r');
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    return handle.createReadStream(range ? { start: range.start, end: range.end } : {});
  }

  async stat(id: string): Promise<FileStat | undefined> {
    try {
      const info = await stat(this.pathOf(id));
      return { size: info.size, modifiedAt: info.mtimeMs };
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async delete(id: string): Promise<void> {
    await rm(this.pathOf(id), { force: true });
  }

  async *list(): AsyncIterable<string> {
    const shards = await readdir(this.root, { withFileTypes: true }).catch((err: unknown) => (isMissing(err) ? [] : Promise.reject(err)));
    for (const shard of shards) {
      if (!shard.isDirectory() || shard.name === TEMP_FOLDER) continue;
      for (const entry of await readdir(path.join(this.root, shard.name), { withFileTypes: true })) {
        if (entry.isFile()) yield entry.name;
      }
    }
  }

  private pathOf(id: string): string {
    checkFileId(id);
    return path.join(this.root, id.slice(0, 2).toLowerCase(), id);
  }
}

/** Writes the source to the file, failing as soon as it goes past `size` or ends short of it. */
async function writeExactly(handle: FileHandle, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): Promise<void> {
  let written = 0;
  for await (const chunk of source) {
    if (written + chunk.length > size) throw new FileSizeError(size, written + chunk.length, true);
    await handle.write(chunk);
    written += chunk.length;
  }
  if (written !== size) throw new FileSizeError(size, written, false);
}

/** Makes a rename durable; file systems that cannot sync a folder are skipped. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}
