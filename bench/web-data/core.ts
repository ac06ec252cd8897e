/**
 * The data benchmark itself, free of Node APIs so that it runs in Node on fake-indexeddb and
 * in Chromium on real IndexedDB (bench/web-data.ts bundles it for the browser).
 */
import type { DexieOptions } from 'dexie';
import { ChatStore, ParleyDb, accountDbName, tokenize, type Conversation, type Message } from '../../packages/web/src/data/index.js';
import { TestConnection } from '../../packages/web/src/data/test-connection.js';

export interface BenchOptions {
  messages: number;
  conversations: number;
  dexie?: DexieOptions;
  /** The JS heap in bytes, where the engine can tell. */
  heap?: () => number | undefined;
}

export interface Timing {
  median: number;
  p95: number;
  max: number;
}

export interface BenchReport {
  messages: number;
  conversations: number;
  fillMs: number;
  openAndListMs: number;
  newestPageColdMs: number;
  newestPage: Timing;
  olderPage: Timing;
  search: Record<string, Timing & { hits: number }>;
  heapBytes?: number;
}

const ACCOUNT = 'bench@example.test';
const PAGE = 50;
const WORDS = ['hello', 'thanks', 'see', 'you', 'later', 'the', 'report', 'is', 'ready', 'lunch', 'today', 'meeting', 'at', 'three', 'please', 'check', 'deploy', 'done'];
const CHINESE = ['今天的会议改到三点', '午饭吃什么', '报告已经发给你了', '明天见', '收到,谢谢', '这个问题我来处理'];

function timing(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { median: round(at(0.5)), p95: round(at(0.95)), max: round(sorted.at(-1) ?? 0) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** A deterministic pseudo-random sequence, so that runs are comparable. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function body(next: () => number, i: number): string {
  if (i % 50 === 7) return 'the quarterly budget review moved to Friday';
  if (next() < 0.3) return CHINESE[Math.floor(next() * CHINESE.length)]!;
  const length = 3 + Math.floor(next() * 10);
  return Array.from({ length }, () => WORDS[Math.floor(next() * WORDS.length)]!).join(' ');
}

async function fill(db: ParleyDb, options: BenchOptions): Promise<void> {
  const next = random(42);
  const perConversation = Math.ceil(options.messages / options.conversations);
  const start = Date.UTC(2026, 0, 1);
  const conversations: Conversation[] = [];
  let batch: Message[] = [];
  for (let c = 0; c < options.conversations; c++) {
    const jid = `contact${c}@example.test`;
    let last = '';
    for (let i = 0; i < perConversation; i++) {
      const timestamp = start + i * 60_000 + c * 7;
      const stanzaId = `${timestamp.toString(36)}${c.toString(36).padStart(4, '0')}`;
      const text = body(next, i);
      last = text;
      batch.push({ key: `${String(timestamp).padStart(15, '0')}~${stanzaId}`, conversation: jid, kind: 'chat', direction: i % 3 === 0 ? 'out' : 'in', from: jid, body: text, timestamp, stanzaId, state: i % 3 === 0 ? 'read' : 'received', tokens: tokenize(text) });
      if (batch.length === 2000) {
        await db.messages.bulkPut(batch);
        batch = [];
      }
    }
    conversations.push({ jid, kind: 'chat', preview: last, lastActivity: start + perConversation * 60_000 + c, unread: c % 5, pinned: c % 97 === 0 ? 1 : 0, mutedUntil: 0, archived: false, reachedBeginning: true });
  }
  await db.messages.bulkPut(batch);
  await db.conversations.bulkPut(conversations);
}

/** Replaces the stored data of `account` with the benchmark's messages; returns the milliseconds it took. */
export async function fillAccount(account: string, options: BenchOptions): Promise<number> {
  const name = accountDbName(account);
  await new ParleyDb(name, options.dexie).delete();
  const db = new ParleyDb(name, options.dexie);
  const filled = await measure(() => fill(db, options));
  db.close();
  return round(filled.ms);
}

async function measure<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await run();
  return { ms: performance.now() - start, value };
}

export async function runWebDataBench(options: BenchOptions): Promise<BenchReport> {
  const name = accountDbName(ACCOUNT);
  const setup = new ParleyDb(name, options.dexie);
  await setup.delete();
  const filling = new ParleyDb(name, options.dexie);
  const filled = await measure(() => fill(filling, options));
  filling.close();

  // A sign-in: open the database and read the first screen of the conversation list.
  const opened = await measure(async () => {
    const db = new ParleyDb(name, options.dexie);
    const store = new ChatStore(db, new TestConnection(ACCOUNT));
    const list = await store.conversations(PAGE);
    return { db, store, list };
  });
  const { db, store, list } = opened.value;

  const next = random(7);
  const pick = (): string => `contact${Math.floor(next() * options.conversations)}@example.test`;
  const cold = await measure(() => store.newestPage(list[0]!.jid, PAGE));
  const newest: number[] = [];
  const older: number[] = [];
  for (let i = 0; i < 50; i++) {
    const jid = pick();
    const page = await measure(() => store.newestPage(jid, PAGE));
    newest.push(page.ms);
    let oldest = page.value[0];
    for (let p = 0; p < 2 && oldest; p++) {
      const before = oldest;
      const result = await measure(() => store.olderPage(jid, before, PAGE));
      older.push(result.ms);
      oldest = result.value[0];
    }
  }

  const search: BenchReport['search'] = {};
  const queries: [string, string | undefined][] = [['budget', undefined], ['会议', undefined], ['the', undefined], ['budget review', undefined], ['meeting', pick()]];
  for (const [text, conversation] of queries) {
    const samples: number[] = [];
    let hits = 0;
    for (let i = 0; i < 5; i++) {
      const result = await measure(() => store.search(text, { conversation, limit: PAGE }));
      samples.push(result.ms);
      hits = result.value.messages.length;
    }
    search[conversation ? `${text} (one conversation)` : text] = { ...timing(samples), hits };
  }

  const report: BenchReport = {
    messages: await db.messages.count(),
    conversations: await db.conversations.count(),
    fillMs: round(filled.ms),
    openAndListMs: round(opened.ms),
    newestPageColdMs: round(cold.ms),
    newestPage: timing(newest),
    olderPage: timing(older),
    search,
  };
  const heap = options.heap?.();
  if (heap !== undefined) report.heapBytes = heap;
  store.close();
  db.close();
  return report;
}
