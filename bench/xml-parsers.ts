/**
 * Compares Parley's StreamParser with ltx (through the stream parser of @xmpp/xml, which
 * drives ltx/lib/parsers/ltx.js) and saxes, on throughput and on the XMPP parsing rules.
 *
 * Run: npx tsx bench/xml-parsers.ts [--runs N] [--stanzas N] [--only NAME]
 *
 * Throughput: a stream of typical chat stanzas fed in 1400-byte chunks. The table gives
 * medians over the measured runs (default 5, after one warm-up run per parser).
 * Correctness: each rule is checked on the parser as installed, with no extra code.
 */
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { SaxesParser } from 'saxes';
import type { SaxesTagNS } from 'saxes';

import type { Element } from '../packages/xmpp/src/xml/element.js';
import { StreamParser } from '../packages/xmpp/src/xml/parser.js';

const CHUNK_BYTES = 1400;
const MAX_STANZA_BYTES = 65_536;
/** The script stops measuring when it has run this long, so that one invocation stays under a minute. */
const TIME_BUDGET_MS = 50_000;

/** The fields of a parsed top-level element that the checks compare. */
interface Parsed {
  name: string;
  ns: string | undefined;
  id: string | undefined;
  body: string | undefined;
}

interface Writer {
  write(chunk: Uint8Array): void;
}

interface Candidate {
  name: string;
  /** Starts a stream parser that passes each top-level element to onElement and each error to onError. */
  open(onElement: (element: unknown) => void, onError: (message: string) => void): Writer;
  describe(element: unknown): Parsed;
}

const parley: Candidate = {
  name: 'parley StreamParser',
  open(onElement, onError) {
    const parser = new StreamParser(
      { streamStart: () => {}, element: onElement, streamEnd: () => {}, error: (err) => onError(err.message) },
      { maxStanzaBytes: MAX_STANZA_BYTES },
    );
    return { write: (chunk) => parser.write(chunk) };
  },
  describe(element) {
    const el = element as Element;
    return { name: el.name, ns: el.ns, id: el.attrs.id, body: el.getChildText('body') };
  },
};

/** The parts of @xmpp/xml 0.14 and ltx 3.1 that the benchmark uses, because neither package ships types. */
interface LtxElement {
  attrs: Record<string, string>;
  getName(): string;
  getNS(): string | undefined;
  getChildText(name: string): string | null;
}
interface XmppXmlParser {
  on(event: 'element', listener: (element: LtxElement) => void): void;
  on(event: 'error', listener: (err: Error) => void): void;
  write(data: Uint8Array | string): void;
}
type XmppXmlParserClass = new () => XmppXmlParser;

async function loadLtx(): Promise<Candidate> {
  // A non-literal specifier, because @xmpp/xml has no type declarations for TypeScript to find.
  const specifier: string = '@xmpp/xml/lib/Parser.js';
  const { default: Parser } = (await import(specifier)) as { default: XmppXmlParserClass };
  return {
    name: 'ltx (@xmpp/xml Parser)',
    open(onElement, onError) {
      const parser = new Parser();
      parser.on('element', onElement);
      parser.on('error', (err) => onError(err.message));
      return { write: (chunk) => parser.write(chunk) };
    },
    describe(element) {
      const el = element as LtxElement;
      return { name: el.getName(), ns: el.getNS(), id: el.attrs.id, body: el.getChildText('body') ?? undefined };
    },
  };
}

/** A minimal tree for saxes, which reports tags and text but builds no elements. */
interface SaxesNode {
  name: string;
  ns: string;
  attrs: Record<string, string>;
  children: (SaxesNode | string)[];
}

const saxes: Candidate = {
  name: 'saxes',
  open(onElement, onError) {
    const parser = new SaxesParser({ xmlns: true, position: false });
    const stack: SaxesNode[] = [];
    parser.on('opentag', (tag: SaxesTagNS) => {
      const attrs: Record<string, string> = {};
      for (const [name, attr] of Object.entries(tag.attributes)) attrs[name] = attr.value;
      const node: SaxesNode = { name: tag.local, ns: tag.uri, attrs, children: [] };
      stack[stack.length - 1]?.children.push(node);
      stack.push(node);
    });
    parser.on('text', (text) => stack[stack.length - 1]?.children.push(text));
    parser.on('closetag', () => {
      const node = stack.pop();
      if (stack.length === 1) onElement(node);
    });
    parser.on('error', (err) => onError(err.message));
    // The saxes types accept strings only, but at runtime write() turns any other chunk into a string with toString().
    return { write: (chunk) => parser.write(chunk as unknown as string) };
  },
  describe(element) {
    const node = element as SaxesNode;
    const body = node.children.find((child): child is SaxesNode => typeof child !== 'string' && child.name === 'body');
    const bodyText = body?.children.filter((child): child is string => typeof child === 'string').join('');
    return { name: node.name, ns: node.ns, id: node.attrs.id, body: bodyText };
  },
};

// ---------------------------------------------------------------------------------------
// Corpus

const HEADER =
  "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
  "to='example.test' version='1.0' xml:lang='en'>";

const BODIES = [
  'ok',
  'Are we still meeting at 5? I can bring the slides &amp; the projector.',
  'Grüße aus Köln 日本語 🎉',
  'https://example.test/photos/2024/summer/IMG_0042.jpg',
  'I will be a bit late, the train is delayed by about 15 minutes. Start without me &lt;3',
];

/** Deterministic pseudo-random numbers (a linear congruential generator), so every run parses the same corpus. */
function makeRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function message(random: () => number, n: number): string {
  const body = BODIES[Math.floor(random() * BODIES.length)] ?? 'ok';
  return (
    `<message from='user${n % 997}@example.test/phone' to='user${(n * 7) % 997}@example.test' type='chat' id='m${n}'>` +
    `<body>${body}</body><active xmlns='http://jabber.org/protocol/chatstates'/>` +
    `<request xmlns='urn:xmpp:receipts'/><origin-id xmlns='urn:xmpp:sid:0' id='0f3a${n}-7c1e-4b2d-9a55-1d2e3f4a5b6c'/>` +
    `</message>`
  );
}

function presence(n: number): string {
  return (
    `<presence from='user${n % 997}@example.test/laptop' id='p${n}'><show>away</show><status>In a meeting</status>` +
    `<priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' ` +
    `node='https://conversations.im' ver='QgayPKawpkPSDYmwT/WM94uAlu0='/></presence>`
  );
}

function roster(n: number): string {
  const items = [1, 2, 3]
    .map((k) => `<item jid='contact${(n + k) % 997}@example.test' name='Contact ${k}' subscription='both'><group>Friends</group></item>`)
    .join('');
  return `<iq type='result' id='r${n}' to='user${n % 997}@example.test/phone'><query xmlns='jabber:iq:roster' ver='v${n}'>${items}</query></iq>`;
}

/** Builds a stream of `count` stanzas: 60% messages, 25% presences with caps, 15% roster results. */
function makeStream(count: number): Buffer {
  const random = makeRandom(6120);
  const parts = [`<?xml version='1.0'?>${HEADER}`];
  for (let n = 0; n < count; n++) {
    const pick = random();
    parts.push(pick < 0.6 ? message(random, n) : pick < 0.85 ? presence(n) : roster(n));
    if (n % 10 === 9) parts.push('\n');
  }
  parts.push('</stream:stream>');
  return Buffer.from(parts.join(''));
}

function chunks(data: Uint8Array, size: number): Uint8Array[] {
  const result: Uint8Array[] = [];
  for (let i = 0; i < data.length; i += size) result.push(data.subarray(i, i + size));
  return result;
}

// ---------------------------------------------------------------------------------------
// Throughput

// A full collection before each run, so that no run pays for the garbage of the previous one.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

interface Measurement {
  mbPerSecond: number;
  stanzasPerSecond: number;
  elements: number;
  errors: number;
}

function measure(candidate: Candidate, data: Uint8Array[], totalBytes: number): Measurement {
  collectGarbage();
  let elements = 0;
  let errors = 0;
  const writer = candidate.open(
    () => elements++,
    () => errors++,
  );
  const start = performance.now();
  for (const chunk of data) writer.write(chunk);
  const seconds = (performance.now() - start) / 1000;
  return { mbPerSecond: totalBytes / 1e6 / seconds, stanzasPerSecond: elements / seconds, elements, errors };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

// ---------------------------------------------------------------------------------------
// Correctness

interface Outcome {
  elements: Parsed[];
  errors: string[];
}

/** Writes each chunk to a fresh parser. An exception thrown by write() counts as an error report. */
function run(candidate: Candidate, writes: (string | Uint8Array)[]): Outcome {
  const outcome: Outcome = { elements: [], errors: [] };
  const writer = candidate.open(
    (element) => outcome.elements.push(candidate.describe(element)),
    (message) => outcome.errors.push(message),
  );
  for (const data of writes) {
    try {
      writer.write(typeof data === 'string' ? Buffer.from(data) : data);
    } catch (err) {
      outcome.errors.push(err instanceof Error ? err.message : String(err));
      break;
    }
  }
  return outcome;
}

const UTF8_STANZA = "<message to='bob@example.test' id='日本' type='chat'><body>Grüße 日本語 🎉</body></message>";

function parsesUtf8Stanza(outcome: Outcome): boolean {
  const element = outcome.elements[0];
  return outcome.errors.length === 0 && element?.body === 'Grüße 日本語 🎉' && element.id === '日本';
}

function rejects(outcome: Outcome): boolean {
  return outcome.errors.length > 0;
}

function rejectsWithoutElements(outcome: Outcome): boolean {
  return outcome.errors.length > 0 && outcome.elements.length === 0;
}

function billionLaughs(): string {
  const entities = ['<!ENTITY lol "lol">'];
  for (let i = 1; i <= 9; i++) entities.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
  return `<?xml version="1.0"?><!DOCTYPE lolz [${entities.join('')}]>${HEADER}<message><body>&lol9;</body></message>`;
}

const INVALID_UTF8 = [
  [0xc3, 0x3c],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf5, 0x80, 0x80, 0x80],
];

interface Check {
  rule: string;
  passes(candidate: Candidate): boolean;
}

const CHECKS: Check[] = [
  {
    rule: 'UTF-8 split at every byte offset',
    passes: (candidate) => {
      const stanza = Buffer.from(UTF8_STANZA);
      for (let offset = 1; offset < stanza.length; offset++) {
        const outcome = run(candidate, [HEADER, stanza.subarray(0, offset), stanza.subarray(offset)]);
        if (!parsesUtf8Stanza(outcome)) return false;
      }
      return true;
    },
  },
  {
    rule: 'one byte per write',
    passes: (candidate) => parsesUtf8Stanza(run(candidate, chunks(Buffer.from(HEADER + UTF8_STANZA), 1))),
  },
  {
    rule: 'whitespace keepalives ignored',
    passes: (candidate) => {
      const outcome = run(candidate, [HEADER, ' ', '<presence/>', '\n', '<presence/>', '\r\n\t  ', '<presence/>']);
      return outcome.errors.length === 0 && outcome.elements.length === 3;
    },
  },
  {
    rule: 'DTD rejected (billion laughs), nothing emitted',
    passes: (candidate) => rejectsWithoutElements(run(candidate, [billionLaughs()])),
  },
  {
    rule: 'undeclared entity rejected',
    passes: (candidate) => rejects(run(candidate, [HEADER, '<message><body>&foo;</body></message>'])),
  },
  {
    rule: 'comment rejected',
    passes: (candidate) => rejects(run(candidate, [HEADER, '<!-- hello --><presence/>'])),
  },
  {
    rule: 'processing instruction rejected',
    passes: (candidate) => rejects(run(candidate, [HEADER, '<?php echo 1 ?><presence/>'])),
  },
  {
    rule: 'oversize stanza rejected (1 MB body, 64 KiB limit)',
    passes: (candidate) => {
      const writes = [HEADER, '<message><body>', ...chunks(Buffer.from('x'.repeat(1_000_000)), 65_536), '</body></message>'];
      return rejectsWithoutElements(run(candidate, writes));
    },
  },
  {
    rule: 'invalid UTF-8 rejected, not repaired',
    passes: (candidate) =>
      INVALID_UTF8.every((sequence) => {
        const bad = Buffer.concat([Buffer.from('<message><body>a'), Buffer.from(sequence), Buffer.from('b</body></message>')]);
        return rejectsWithoutElements(run(candidate, [HEADER, bad]));
      }),
  },
  {
    rule: 'U+0000 and U+0001 rejected',
    passes: (candidate) =>
      ['\u0000', '\u0001'].every((char) => rejects(run(candidate, [HEADER, `<message><body>${char}</body></message>`]))),
  },
  {
    rule: 'mismatched end tag rejected',
    passes: (candidate) => rejects(run(candidate, [HEADER, '<message><body></message></body>'])),
  },
  {
    rule: 'prefixed element resolved to its namespace',
    passes: (candidate) => {
      const element = run(candidate, [HEADER, "<p:x xmlns:p='urn:a'/>"]).elements[0];
      return element?.name === 'x' && element.ns === 'urn:a';
    },
  },
];

// ---------------------------------------------------------------------------------------
// Report

function option(name: string, fallback: number): number {
  const index = process.argv.indexOf(name);
  const value = index === -1 ? fallback : Number(process.argv[index + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

async function main(): Promise<void> {
  const runs = option('--runs', 5);
  const stanzaCount = option('--stanzas', 100_000);
  const began = performance.now();
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] ?? '' : '';
  const candidates = [parley, await loadLtx(), saxes].filter((candidate) => candidate.name.includes(only));

  const stream = makeStream(stanzaCount);
  const data = chunks(stream, CHUNK_BYTES);
  console.log(`Load average at the start: ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
  console.log(`Corpus: ${stanzaCount} stanzas, ${(stream.length / 1e6).toFixed(1)} MB, ${data.length} chunks of ${CHUNK_BYTES} bytes`);

  const results = new Map<string, Measurement[]>(candidates.map((candidate) => [candidate.name, []]));
  for (const candidate of candidates) measure(candidate, data, stream.length);
  for (let round = 0; round < runs; round++) {
    if (performance.now() - began > TIME_BUDGET_MS) {
      console.log(`Stopped after ${round} runs: the time budget of ${TIME_BUDGET_MS / 1000} s is used up`);
      break;
    }
    for (const candidate of candidates) results.get(candidate.name)?.push(measure(candidate, data, stream.length));
  }

  console.log('\n| parser | MB/s (median) | stanzas/s (median) | elements | errors | runs |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const candidate of candidates) {
    const measurements = results.get(candidate.name) ?? [];
    const last = measurements[measurements.length - 1];
    const mb = median(measurements.map((m) => m.mbPerSecond)).toFixed(1);
    const stanzas = Math.round(median(measurements.map((m) => m.stanzasPerSecond))).toLocaleString('en-US');
    console.log(`| ${candidate.name} | ${mb} | ${stanzas} | ${last?.elements ?? 0} | ${last?.errors ?? 0} | ${measurements.length} |`);
  }

  console.log(`\n| rule (out of the box) | ${candidates.map((candidate) => candidate.name).join(' | ')} |`);
  console.log(`| --- | ${candidates.map(() => ':---:').join(' | ')} |`);
  for (const check of CHECKS) {
    const cells = candidates.map((candidate) => (check.passes(candidate) ? 'yes' : 'no'));
    console.log(`| ${check.rule} | ${cells.join(' | ')} |`);
  }
  console.log(`\nTotal time: ${((performance.now() - began) / 1000).toFixed(1)} s, load average at the end: ${loadavg().map((load) => load.toFixed(2)).join(' ')}`);
}

await main();
