/**
 * Benchmark of the web client in Debian's Chromium with real IndexedDB, against a real local
 * server, with 100,000 stored messages in 500 conversations. Each of several runs (a fresh
 * tab) times sign-in to an interactive conversation list, opening a conversation to its
 * newest page and a search over all stored messages. It then reads the JS heap after a
 * garbage collection.
 *
 * Run: npm run bench:web [-- --runs 5 --messages 100000 --conversations 500]
 * Not part of CI; test/web-e2e-bench-smoke.test.ts runs a small version.
 */
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM_PATH, keepOnLoopback } from '../test/support/browser.js';
import { startTestServer } from '../test/support/server.js';
import { buildWebClient } from '../test/support/web-e2e.js';
import type { BenchOptions } from './web-data/core.js';
import type * as Timers from './web-page.js';

export interface WebBenchSettings {
  runs: number;
  messages: number;
  conversations: number;
}

export interface WebBenchFigures {
  fillMs: number;
  /** Medians over the runs, in milliseconds (heap in MB). */
  signInMs: number;
  listedMs: number;
  openMs: number;
  searchMs: Record<string, number>;
  heapMb: number;
  pageHeapMb: number;
  workerHeapMb: number;
  runs: RunFigures[];
}

interface RunFigures {
  signInMs: number;
  listedMs: number;
  openMs: number;
  searchMs: Record<string, number>;
  hits: Record<string, number>;
  pageHeapMb: number;
  workerHeapMb: number;
  /** The page and the SharedWorker together. */
  heapMb: number;
}

interface BenchGlobal {
  parleyBench: { fillAccount(account: string, options: BenchOptions): Promise<number> } & typeof Timers;
}

const PASSWORD = 'bench-web-password';
const STEP_MS = 60_000;
/** Words of bench/web-data/core.ts: rare (1 message in 50), a CJK bigram in about 5%, and a word in about a third. */
export const SEARCHES = ['budget', '会议', 'the'];

/** Bundles the fill and the timers for the page with esbuild (a dependency of vite). */
async function bundle(): Promise<string> {
  const esbuild = await import('esbuild');
  const entry = fileURLToPath(new URL('./web-entry.ts', import.meta.url));
  const result = await esbuild.build({ entryPoints: [entry], bundle: true, format: 'iife', write: false, target: 'es2022', conditions: ['source'] });
  return result.outputFiles[0]!.text;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const value = sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return Math.round(value * 10) / 10;
}

/** Reads the preview of `jid`'s row, which is the newest body the benchmark stored there. */
async function newestBody(page: Page, jid: string): Promise<string> {
  const row = page.locator(`[data-testid="conversation-item"][data-jid="${jid}"]`);
  return (await row.getByTestId('conversation-preview').textContent()) ?? '';
}

/** Measures the page's JS heap after a garbage collection, in MB. */
async function pageHeapMb(context: BrowserContext, page: Page): Promise<number> {
  const session = await context.newCDPSession(page);
  try {
    await session.send('HeapProfiler.collectGarbage');
    const { usedSize } = await session.send('Runtime.getHeapUsage');
    return toMb(usedSize);
  } finally {
    await session.detach();
  }
}

/**
 * Measures the JS heap of the SharedWorker that runs the connection, after a garbage collection, in MB.
 * Playwright has no handle on shared workers, so this goes through the browser's CDP target
 * domain, in its older non-flat mode that carries the worker's messages as strings.
 */
async function workerHeapMb(browser: Browser): Promise<number> {
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { targetInfos } = await cdp.send('Target.getTargets');
    const worker = targetInfos.find((target) => target.type === 'shared_worker');
    if (!worker) throw new Error('no SharedWorker runs the connection');
    const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false });
    const usage = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the SharedWorker did not report its heap')), STEP_MS);
      cdp.on('Target.receivedMessageFromTarget', (event) => {
        const message = JSON.parse(event.message) as { id?: number; result?: { usedSize: number } };
        if (event.sessionId !== sessionId || message.id !== 2 || !message.result) return;
        clearTimeout(timer);
        resolve(message.result.usedSize);
      });
    });
    for (const [id, method] of [[1, 'HeapProfiler.collectGarbage'], [2, 'Runtime.getHeapUsage']] as const) {
      await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method }) });
    }
    return toMb(await usage);
  } finally {
    await cdp.detach();
  }
}

function toMb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}

async function oneRun(browser: Browser, context: BrowserContext, origin: string, script: string, account: string, run: number): Promise<RunFigures> {
  const page = await context.newPage();
  try {
    await page.goto(`${origin}/`);
    await page.addScriptTag({ content: script });
    await page.getByTestId('signin-jid').fill(account);
    await page.getByTestId('signin-password').fill(PASSWORD);
    const signIn = await page.evaluate((timeoutMs) => (globalThis as unknown as BenchGlobal).parleyBench.timeSignIn(timeoutMs), STEP_MS);

    // A different conversation each run, below the first screen's pinned rows.
    const rows = page.getByTestId('conversation-item');
    const jid = (await rows.nth((3 + run) % (await rows.count())).getAttribute('data-jid')) ?? '';
    const body = await newestBody(page, jid);
    const openMs = await page.evaluate((args) => (globalThis as unknown as BenchGlobal).parleyBench.timeOpen(args), { jid, newestBody: body, timeoutMs: STEP_MS });

    await page.getByTestId('nav-search').click();
    const server = page.getByTestId('search-server');
    // Only the stored messages, because the server's archive contains none of them.
    if (await server.isChecked()) await server.uncheck();
    const searchMs: Record<string, number> = {};
    const hits: Record<string, number> = {};
    for (const text of SEARCHES) {
      const result = await page.evaluate((args) => (globalThis as unknown as BenchGlobal).parleyBench.timeSearch(args), { text, timeoutMs: STEP_MS });
      searchMs[text] = result.ms;
      hits[text] = result.hits;
    }

    const pageMb = await pageHeapMb(context, page);
    const workerMb = await workerHeapMb(browser);
    return { signInMs: signIn.interactiveMs, listedMs: signIn.listedMs, openMs, searchMs, hits, pageHeapMb: pageMb, workerHeapMb: workerMb, heapMb: toMb((pageMb + workerMb) * 1024 * 1024) };
  } finally {
    await page.close();
  }
}

/** Builds the client, starts a server, fills the data and measures `settings.runs` sign-ins. */
export async function runWebBench(settings: WebBenchSettings, log: (line: string) => void = () => undefined): Promise<WebBenchFigures> {
  const buildDir = await buildWebClient();
  const server = await startTestServer({ web: { root: buildDir } });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, chromiumSandbox: process.getuid?.() !== 0 });
  try {
    await server.createAccount('bench', PASSWORD);
    const account = `bench@${server.domain}`;
    const origin = `http://127.0.0.1:${server.httpPort}`;
    const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 700 } });
    await keepOnLoopback(context);
    const script = await bundle();

    const filler = await context.newPage();
    await filler.goto(`${origin}/`);
    await filler.addScriptTag({ content: script });
    const options: BenchOptions = { messages: settings.messages, conversations: settings.conversations };
    const fillMs = await filler.evaluate((args) => (globalThis as unknown as BenchGlobal).parleyBench.fillAccount(args.account, args.options), { account, options });
    await filler.close();
    log(`filled ${settings.messages} messages in ${settings.conversations} conversations in ${Math.round(fillMs)} ms`);

    const runs: RunFigures[] = [];
    for (let run = 0; run < settings.runs; run++) {
      runs.push(await oneRun(browser, context, origin, script, account, run));
      log(`run ${run + 1}: ${JSON.stringify(runs.at(-1))}`);
    }
    return {
      fillMs,
      signInMs: median(runs.map((r) => r.signInMs)),
      listedMs: median(runs.map((r) => r.listedMs)),
      openMs: median(runs.map((r) => r.openMs)),
      searchMs: Object.fromEntries(SEARCHES.map((text) => [text, median(runs.map((r) => r.searchMs[text]!))])),
      heapMb: median(runs.map((r) => r.heapMb)),
      pageHeapMb: median(runs.map((r) => r.pageHeapMb)),
      workerHeapMb: median(runs.map((r) => r.workerHeapMb)),
      runs,
    };
  } finally {
    await browser.close();
    await server.stop();
    await rm(buildDir, { recursive: true, force: true });
  }
}

function table(figures: WebBenchFigures, settings: WebBenchSettings): string {
  const ok = (value: number, target: number): string => (value < target ? 'yes' : 'NO');
  const worstSearch = Math.max(...Object.values(figures.searchMs));
  const rows = [
    ['sign-in to an interactive conversation list', `${figures.signInMs} ms`, '1,000 ms', ok(figures.signInMs, 1000)],
    ['open a conversation to its newest page', `${figures.openMs} ms`, '100 ms', ok(figures.openMs, 100)],
    ['JS heap after GC, page and SharedWorker', `${figures.heapMb} MB`, '60 MB', ok(figures.heapMb, 60)],
    ...SEARCHES.map((text) => [`search \`${text}\` over all stored messages`, `${figures.searchMs[text]} ms`, '200 ms', ok(figures.searchMs[text]!, 200)]),
  ];
  const lines = [
    `${settings.messages} messages in ${settings.conversations} conversations, medians of ${settings.runs} runs (fill: ${Math.round(figures.fillMs)} ms; list rendered: ${figures.listedMs} ms; heap: page ${figures.pageHeapMb} MB, SharedWorker ${figures.workerHeapMb} MB; slowest search: ${worstSearch} ms)`,
    '',
    '| measure | median | target | met |',
    '| --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ];
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '5' },
      messages: { type: 'string', default: '100000' },
      conversations: { type: 'string', default: '500' },
    },
  });
  const settings: WebBenchSettings = { runs: Number(values.runs), messages: Number(values.messages), conversations: Number(values.conversations) };
  const figures = await runWebBench(settings, (line) => console.error(line));
  console.log(table(figures, settings));
}
