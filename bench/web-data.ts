/**
 * Data-layer benchmark of the web client: 100,000 messages in 500 conversations, then the
 * conversation list, the newest page of a conversation, older pages and searches.
 *
 * Run: npx tsx bench/web-data.ts [--engine chromium|fake] [--messages N] [--conversations N]
 * `chromium` drives Debian's Chromium (real IndexedDB) through playwright-core on a page
 * served from 127.0.0.1; `fake` runs in Node on fake-indexeddb. Not part of CI.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchOptions, BenchReport } from './web-data/core.js';

const CHROMIUM_PATH = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';
const { values } = parseArgs({
  options: {
    engine: { type: 'string', default: 'chromium' },
    messages: { type: 'string', default: '100000' },
    conversations: { type: 'string', default: '500' },
  },
});
const options: BenchOptions = { messages: Number(values.messages), conversations: Number(values.conversations) };

async function inNode(): Promise<BenchReport> {
  const { IDBFactory, IDBKeyRange } = await import('fake-indexeddb');
  const { runWebDataBench } = await import('./web-data/core.js');
  return runWebDataBench({ ...options, dexie: { indexedDB: new IDBFactory(), IDBKeyRange }, heap: () => process.memoryUsage().heapUsed });
}

/** Bundles the benchmark for the browser with esbuild (a dependency of vite). */
async function bundle(): Promise<string> {
  const esbuild = await import('esbuild');
  const entry = fileURLToPath(new URL('./web-data/browser-entry.ts', import.meta.url));
  const result = await esbuild.build({ entryPoints: [entry], bundle: true, format: 'iife', write: false, target: 'es2022', conditions: ['source'] });
  return result.outputFiles[0]!.text;
}

async function inChromium(): Promise<BenchReport> {
  const script = await bundle();
  const page = `<!doctype html><meta charset="utf-8"><title>web data bench</title><script>${script.replace(/<\/script/g, '<\\/script')}</script>`;
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: ['--enable-precise-memory-info'] });
  try {
    const tab = await browser.newPage();
    await tab.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return await tab.evaluate((settings) => (globalThis as unknown as { runBench(o: unknown): Promise<BenchReport> }).runBench(settings), options);
  } finally {
    await browser.close();
    server.close();
  }
}

const report = values.engine === 'fake' ? await inNode() : await inChromium();
console.log(JSON.stringify({ engine: values.engine, ...report }, null, 2));
