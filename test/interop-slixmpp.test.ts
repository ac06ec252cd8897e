import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';
import { lastJsonLine, runPythonScript, type ScriptRun } from './support/python.js';

const SCRIPT = fileURLToPath(new URL('./interop/slixmpp_scenario.py', import.meta.url));
const SCRIPT_TIMEOUT_MS = 90_000;
const STEPS = ['register_a', 'register_b', 'subscribe', 'presence', 'messages', 'offline'];

interface ScenarioResult {
  steps: Record<string, boolean>;
  errors: Record<string, string>;
  /** The SASL mechanism each registering client logged in with. */
  mechanisms: Record<string, string | null>;
}

let server: TestServer;
let run: ScriptRun;
let result: ScenarioResult | undefined;

beforeAll(async () => {
  server = await startTestServer();
  const args = ['--host', '127.0.0.1', '--port', String(server.c2sPort), '--domain', server.domain];
  if (process.env.PARLEY_TEST_LOG) args.push('--debug');
  run = await runPythonScript(SCRIPT, args, SCRIPT_TIMEOUT_MS);
  result = lastJsonLine<ScenarioResult>(run.stdout);
}, SCRIPT_TIMEOUT_MS + 10_000);

afterAll(async () => {
  await server?.stop();
});

describe('slixmpp scenario', () => {
  it('prints its results as JSON', () => {
    expect(result, `stdout: ${run.stdout}\nstderr: ${run.stderr.slice(-4000)}`).toBeDefined();
  });

  for (const step of STEPS) {
    it(`passes step ${step}`, () => {
      expect(result?.steps[step], result?.errors[step] ?? 'no result for this step').toBe(true);
    });
  }

  it('logs in with SCRAM', () => {
    expect(result?.mechanisms.a).toMatch(/^SCRAM-/);
    expect(result?.mechanisms.b).toMatch(/^SCRAM-/);
  });

  it('exits with status 0', () => {
    expect(run.code, run.stderr.slice(-4000)).toBe(0);
  });
});
