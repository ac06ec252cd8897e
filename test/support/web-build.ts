import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

// One build of the web client per state of its sources, shared by the test processes of a run:
// each end-to-end file used to spend 20 to 30 s of CPU on a build of its own.
const WEB_PACKAGE = fileURLToPath(new URL('../../packages/web/', import.meta.url));
const INPUTS = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json', 'tsconfig.json'];
const DONE = '.parley-build-complete';
/** A lock older than this belongs to a process that died while building. */
const STALE_LOCK_MS = 5 * 60_000;
const WAIT_MS = 180_000;
const OLD_BUILD_MS = 24 * 3600_000;

/** Builds the current sources of the web client, once per state of the sources, and returns a fresh copy of the build. */
export async function buildWebClient(): Promise<string> {
  const shared = path.join(tmpdir(), `parley-web-build-${await sourcesDigest()}`);
  await ensureBuilt(shared);
  const copy = await mkdtemp(path.join(tmpdir(), 'parley-web-e2e-build-'));
  // A copy per caller, because a test may change its build (a new service worker version).
  await cp(shared, copy, { recursive: true, filter: (source) => path.basename(source) !== DONE });
  return copy;
}

/** Hashes the names, sizes and modification times of the files the build reads. */
async function sourcesDigest(): Promise<string> {
  const hash = createHash('sha256');
  for (const input of INPUTS) {
    for (const file of await listFiles(path.join(WEB_PACKAGE, input))) {
      const info = await stat(file);
      hash.update(`${path.relative(WEB_PACKAGE, file)}\0${info.size}\0${info.mtimeMs}\n`);
    }
  }
  return hash.digest('hex').slice(0, 16);
}

async function listFiles(entry: string): Promise<string[]> {
  const info = await stat(entry).catch(() => undefined);
  if (!info) return [];
  if (!info.isDirectory()) return [entry];
  const names = (await readdir(entry)).sort();
  const nested = await Promise.all(names.map((name) => listFiles(path.join(entry, name))));
  return nested.flat();
}

/** Builds into `folder` unless a finished build is there; one process builds while the others wait. */
async function ensureBuilt(folder: string): Promise<void> {
  const lock = `${folder}.lock`;
  const deadline = Date.now() + WAIT_MS;
  while (!(await exists(path.join(folder, DONE)))) {
    if (Date.now() > deadline) throw new Error(`no web client build appeared in ${folder} within ${WAIT_MS} ms`);
    if (await takeLock(lock)) {
      try {
        if (!(await exists(path.join(folder, DONE)))) await build(folder);
      } finally {
        await rm(lock, { recursive: true, force: true });
      }
    } else {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function takeLock(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
    return true;
  } catch {
    const info = await stat(lock).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > STALE_LOCK_MS) await rm(lock, { recursive: true, force: true });
    return false;
  }
}

async function build(folder: string): Promise<void> {
  await removeOldBuilds(path.dirname(folder));
  await rm(folder, { recursive: true, force: true });
  await promisify(execFile)('npx', ['vite', 'build', '--outDir', folder, '--emptyOutDir', '--logLevel', 'error'], { cwd: WEB_PACKAGE, timeout: 120_000 });
  await writeFile(path.join(folder, DONE), '');
}

/** Removes the builds of earlier source states, once nothing can be reading them any more. */
async function removeOldBuilds(parent: string): Promise<void> {
  for (const name of await readdir(parent)) {
    if (!name.startsWith('parley-web-build-')) continue;
    const info = await stat(path.join(parent, name)).catch(() => undefined);
    if (info && Date.now() - info.mtimeMs > OLD_BUILD_MS) await rm(path.join(parent, name), { recursive: true, force: true });
  }
}

async function exists(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined)) !== undefined;
}
