import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';
import { lastJsonLine, runPythonScript, type ScriptRun } from './support/python.js';

const SCRIPT = fileURLToPath(new URL('./interop/slixmpp_archive_scenario.py', import.meta.url));
const SCRIPT_TIMEOUT_MS = 90_000;
const ACCOUNTS = { a: 'slix-archive-a', b: 'slix-archive-b', c: 'slix-archive-c' } as const;
const STEPS = [
  'log_in',
  'sm_enable',
  'sm_acks',
  'sm_resume',
  'carbons_enable',
  'carbons_sent',
  'carbons_received',
  'receipts',
  'chat_states',
  'more_messages',
  'archive_forward',
  'archive_reverse',
  'archive_with',
  'stanza_ids',
  'chat_states_not_archived',
  'no_error_messages',
];
/**
 * Messages in a's archive: 6 while stream management is counted and 5 while a's connection
 * is cut, 2 for carbons, 2 with receipt requests, 1 with a chat state, and 30 more. Receipts
 * and chat-state-only messages have no body and stay out.
 */
const ARCHIVED_MESSAGES = 6 + 5 + 2 + 2 + 1 + 30;
const PAGE_SIZE = 10;

interface ScenarioResult {
  steps: Record<string, boolean>;
  errors: Record<string, string>;
  /** Counts the script measured: stream management counters, archive pages and results. */
  figures: Record<string, number>;
}

let server: TestServer;
let run: ScriptRun;
let result: ScenarioResult | undefined;

beforeAll(async () => {
  server = await startTestServer();
  const args = ['--host', '127.0.0.1', '--port', String(server.c2sPort), '--domain', server.domain];
  for (const [key, username] of Object.entries(ACCOUNTS)) {
    const password = `password-${key}`;
    await server.createAccount(username, password);
    args.push(`--user-${key}`, username, `--password-${key}`, password);
  }
  if (process.env.PARLEY_TEST_LOG) args.push('--debug');
  run = await runPythonScript(SCRIPT, args, SCRIPT_TIMEOUT_MS);
  result = lastJsonLine<ScenarioResult>(run.stdout);
}, SCRIPT_TIMEOUT_MS + 10_000);

afterAll(async () => {
  await server?.stop();
});

describe('slixmpp archive scenario', () => {
  it('prints its results as JSON', () => {
    expect(result, `stdout: ${run.stdout}\nstderr: ${run.stderr.slice(-4000)}`).toBeDefined();
  });

  for (const step of STEPS) {
    it(`passes step ${step}`, () => {
      expect(result?.steps[step], result?.errors[step] ?? 'no result for this step').toBe(true);
    });
  }

  // Each way: 3 messages and one disco#info request or result.
  it('counts sent stanzas in seq', () => {
    expect(result?.figures.sm_sent).toBe(4);
  });

  it('counts received stanzas in handled', () => {
    expect(result?.figures.sm_handled).toBe(4);
  });

  it('archives every message with a body', () => {
    expect(result?.figures.archive_results).toBe(ARCHIVED_MESSAGES);
  });

  it('pages the archive ten at a time', () => {
    expect(result?.figures.archive_pages).toBe(Math.ceil(ARCHIVED_MESSAGES / PAGE_SIZE));
  });

  it('exits with status 0', () => {
    expect(run.code, run.stderr.slice(-4000)).toBe(0);
  });
});
