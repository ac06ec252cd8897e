import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';
import { lastJsonLine, runPythonScript, type ScriptRun } from './support/python.js';

const SCRIPT = fileURLToPath(new URL('./interop/muc.py', import.meta.url));
const SCRIPT_TIMEOUT_MS = 60_000;
const ACCOUNTS = { a: 'slix-muc-owner', b: 'slix-muc-guest' } as const;
const STEPS = [
  'log_in',
  'create_room',
  'configure_room',
  'join',
  'exchange_messages',
  'change_subject',
  'grant_membership',
  'grant_admin',
  'admin_cannot_kick_owner',
  'revoke_admin',
  'kick',
  'ban',
  'no_error_messages',
];

interface ScenarioResult {
  steps: Record<string, boolean>;
  errors: Record<string, string>;
}

let server: TestServer;
let run: ScriptRun;
let result: ScenarioResult | undefined;

beforeAll(async () => {
  server = await startTestServer();
  const args = ['--host', '127.0.0.1', '--port', String(server.c2sPort), '--domain', server.domain];
  args.push('--muc-domain', `conference.${server.domain}`);
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

describe('slixmpp MUC scenario', () => {
  it('prints its results as JSON', () => {
    expect(result, `stdout: ${run.stdout}\nstderr: ${run.stderr.slice(-4000)}`).toBeDefined();
  });

  for (const step of STEPS) {
    it(`passes step ${step}`, () => {
      expect(result?.steps[step], result?.errors[step] ?? 'no result for this step').toBe(true);
    });
  }

  it('exits with status 0', () => {
    expect(run.code, run.stderr.slice(-4000)).toBe(0);
  });
});
