/**
 * Archive queries (XEP-0313) on one account's pre-filled archive, one at a time, each
 * timed from sending the query to the `<fin/>` result, with the result messages before it.
 */
import { performance } from 'node:perf_hooks';

import { type Element, escapeAttr, escapeText } from '@parley/xmpp';

import { XmppConnection, XmppStepError } from './client.js';
import { Histogram, type HistogramData } from './histogram.js';
import type { ArchiveTask, ErrorSummary } from './protocol.js';
import { ErrorCollector } from './util.js';

const NS_MAM = 'urn:xmpp:mam:2';
const NS_RSM = 'http://jabber.org/protocol/rsm';
const FULLTEXT_FIELD = '{urn:xmpp:fulltext:0}fulltext';
const PAGE_SIZE = 50;
/** Bound on one query; a slower one counts as an error. */
export const QUERY_TIMEOUT_MS = 120_000;

/** A query, as the form fields and RSM elements it sends. */
interface QuerySpec {
  fields: Record<string, string>;
  rsm: string;
}

/** Measurements of one kind of query. */
export interface ArchiveKindResult {
  kind: string;
  /** Queries that returned a result, not counting the warm-up query. */
  queries: number;
  latency: HistogramData;
  /** Mean number of result messages per query that returned a result. */
  resultsPerPage: number;
  errors: ErrorSummary;
  /** Reason the kind did not run, if it did not. */
  skipped?: string;
}

/** Result of an archive task. */
export interface ArchiveResult {
  kinds: ArchiveKindResult[];
}

interface Answer {
  results: number;
  ms: number;
}

let nextQuery = 1;

/** Logs in as the owner, finds the id in the middle, then runs each kind of query in turn. */
export async function runArchive(task: ArchiveTask): Promise<ArchiveResult> {
  const connection = await XmppConnection.login(task.target, task.owner, false);
  try {
    const fields = await formFields(connection);
    const middle = await firstIdFrom(connection, task.middleTime);
    const kinds: [string, QuerySpec | string][] = [
      ['last page', { fields: {}, rsm: '<before/>' }],
      ['page after an id in the middle', middle === undefined ? 'no message found at the middle time' : { fields: {}, rsm: `<after>${escapeText(middle)}</after>` }],
      ['with one partner', { fields: { with: task.withJid }, rsm: '' }],
      ['start and end one hour apart', { fields: { start: iso(task.rangeStart), end: iso(task.rangeEnd) }, rsm: '' }],
      ['full-text search', fields.has(FULLTEXT_FIELD) ? { fields: { [FULLTEXT_FIELD]: task.searchWord }, rsm: '' } : 'the server does not offer full-text search'],
    ];
    const results: ArchiveKindResult[] = [];
    for (const [kind, spec] of kinds) {
      if (typeof spec === 'string') results.push({ kind, queries: 0, latency: new Histogram().toData(), resultsPerPage: 0, errors: { count: 0, samples: [] }, skipped: spec });
      else results.push(await runKind(connection, kind, spec, task));
    }
    return { kinds: results };
  } finally {
    await connection.close();
  }
}

/**
 * Runs one warm-up query and then up to queriesPerKind timed ones. No query after the
 * first timed one starts once kindTimeoutMs has passed, so a slow server still gets one.
 */
async function runKind(connection: XmppConnection, kind: string, spec: QuerySpec, task: ArchiveTask): Promise<ArchiveKindResult> {
  const latency = new Histogram();
  const errors = new ErrorCollector();
  const deadline = performance.now() + task.kindTimeoutMs;
  let answered = 0;
  let results = 0;
  for (let i = 0; i <= task.queriesPerKind && (i <= 1 || performance.now() < deadline); i++) {
    try {
      const answer = await query(connection, spec);
      if (i === 0) continue;
      answered++;
      results += answer.results;
      latency.record(answer.ms);
    } catch (err) {
      errors.add(err);
    }
  }
  return { kind, queries: answered, latency: latency.toData(), resultsPerPage: answered > 0 ? results / answered : 0, errors: errors.summary() };
}

/** Sends a query and waits for its `<fin/>`; returns the results received and the time taken. */
function query(connection: XmppConnection, spec: QuerySpec): Promise<Answer> {
  const id = `q${nextQuery++}`;
  const form = Object.entries(spec.fields)
    .map(([name, value]) => `<field var='${escapeAttr(name)}'><value>${escapeText(value)}</value></field>`)
    .join('');
  const xml =
    `<iq type='set' id='${id}'><query xmlns='${NS_MAM}' queryid='${id}'>` +
    `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${NS_MAM}</value></field>${form}</x>` +
    `<set xmlns='${NS_RSM}'><max>${PAGE_SIZE}</max>${spec.rsm}</set></query></iq>`;

  return new Promise((resolve, reject) => {
    let results = 0;
    const start = performance.now();
    const timer = setTimeout(() => finish(new XmppStepError(`the archive query timed out after ${QUERY_TIMEOUT_MS} ms without a response`)), QUERY_TIMEOUT_MS);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      connection.onStanza = undefined;
      if (err) reject(err);
      else resolve({ results, ms: performance.now() - start });
    };
    connection.onStanza = (el) => {
      if (el.name === 'message' && el.getChild('result', NS_MAM)?.attrs.queryid === id) results++;
      else if (el.name === 'iq' && el.attrs.id === id) finish(el.attrs.type === 'result' ? undefined : queryError(el));
    };
    connection.send(xml);
  });
}

/** Returns the form fields the server's archive accepts (a query form get, XEP-0313 section 4.1.6). */
function formFields(connection: XmppConnection): Promise<Set<string>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new XmppStepError('the archive form request timed out without a response')), QUERY_TIMEOUT_MS);
    connection.onStanza = (el) => {
      if (el.name !== 'iq' || el.attrs.id !== 'form1') return;
      clearTimeout(timer);
      connection.onStanza = undefined;
      const form = el.getChild('query', NS_MAM)?.getChild('x', 'jabber:x:data');
      resolve(new Set(form?.getChildren('field', 'jabber:x:data').map((field) => field.attrs.var ?? '') ?? []));
    };
    connection.send(`<iq type='get' id='form1'><query xmlns='${NS_MAM}'/></iq>`);
  });
}

/** Returns the archive id of the first message at or after `time`, from a one-result query. */
function firstIdFrom(connection: XmppConnection, time: number): Promise<string | undefined> {
  const id = `q${nextQuery++}`;
  return new Promise((resolve, reject) => {
    let found: string | undefined;
    const timer = setTimeout(() => reject(new XmppStepError('the query for the middle id timed out without a response')), QUERY_TIMEOUT_MS);
    connection.onStanza = (el) => {
      const result = el.name === 'message' ? el.getChild('result', NS_MAM) : undefined;
      if (result?.attrs.queryid === id) found ??= result.attrs.id;
      if (el.name !== 'iq' || el.attrs.id !== id) return;
      clearTimeout(timer);
      connection.onStanza = undefined;
      if (el.attrs.type === 'result') resolve(found);
      else reject(queryError(el));
    };
    connection.send(
      `<iq type='set' id='${id}'><query xmlns='${NS_MAM}' queryid='${id}'>` +
        `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>${NS_MAM}</value></field>` +
        `<field var='start'><value>${iso(time)}</value></field></x><set xmlns='${NS_RSM}'><max>1</max></set></query></iq>`,
    );
  });
}

function queryError(el: Element): XmppStepError {
  const condition = el.getChild('error')?.elements()[0]?.name;
  return new XmppStepError(`the archive query failed: ${condition ?? el.attrs.type ?? 'unknown'}`, condition);
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
