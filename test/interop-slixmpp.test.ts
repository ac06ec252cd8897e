import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

const SCRIPT = fileURLToPath(new URL('./interop/slixmpp_scenario.py', import.meta.url));
const SCRIPT_TIMEOUT_MS = 90_000;
const STEPS = ['register_a', 'register_b', 'subscribe', 'presence', 'messages', 'offline'];

interface ScenarioResult {
  steps: Record<string, boolean>;
  errors: Record<string, string>;
  /** The SASL mechanism each registering client logged in with. */
  mechanisms: Record<string, string | null>;
}

interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Returns the Python interpreter that has Debian's python3-slixmpp: PARLEY_PYTHON if set,
 * else /usr/bin/python3, because a python3 earlier on PATH (pyenv, for one) does not see
 * Debian's packages.
 */
function pythonBinary(): string {
  if (process.env.PARLEY_PYTHON) return process.env.PARLEY_PYTHON;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

function runScript(args: string[]): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonBinary(), [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), SCRIPT_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let server: TestServer;
let run: ScriptRun;
let result: ScenarioResult | undefined;

beforeAll(async () => {
  server = await startTestServer();
  const args = ['--host', '127.0.0.1', '--port', String(server.c2sPort), '--domain', server.domain];
  if (process.env.PARLEY_TEST_LOG) args.push('--debug');
  run = await runScript(args);
  const lastLine = run.stdout.trim().split('\n').pop() ?? '';
  try {
    result = JSON.parse(lastLine) as ScenarioResult;
  } catch {
    result = undefined;
  }
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
