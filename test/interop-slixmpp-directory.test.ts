import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { upsertAccount } from '../packages/server/src/provisioning/accounts-service.js';
import { startTestServer, type TestServer } from './support/server.js';
import { lastJsonLine, runPythonScript, type ScriptRun } from './support/python.js';

const SCRIPT = fileURLToPath(new URL('./interop/slixmpp_directory_scenario.py', import.meta.url));
const SCRIPT_TIMEOUT_MS = 60_000;
const STEPS = ['log_in', 'discover', 'search_form', 'search_pinyin', 'search_department', 'paging'];

interface ScenarioResult {
  steps: Record<string, boolean>;
  errors: Record<string, string>;
}

let server: TestServer;
let run: ScriptRun;
let result: ScenarioResult | undefined;

beforeAll(async () => {
  server = await startTestServer();
  await server.createAccount('searcher', 'searcher-password');
  await upsertAccount(server.server, { username: 'zhangsan', password: 'pw-zhangsan', displayName: '张三', department: 'rd', departmentName: '研发部' });
  await upsertAccount(server.server, { username: 'lisi', password: 'pw-lisi', displayName: '李四', department: 'rd' });
  const args = ['--host', '127.0.0.1', '--port', String(server.c2sPort), '--domain', server.domain, '--user', 'searcher', '--password', 'searcher-password'];
  if (process.env.PARLEY_TEST_LOG) args.push('--debug');
  run = await runPythonScript(SCRIPT, args, SCRIPT_TIMEOUT_MS);
  result = lastJsonLine<ScenarioResult>(run.stdout);
}, SCRIPT_TIMEOUT_MS + 10_000);

afterAll(async () => {
  await server?.stop();
});

describe('slixmpp searches the organisation directory', () => {
  it('prints a result', () => {
    expect(result, `exit ${run.code}\n${run.stderr.slice(-2000)}`).toBeDefined();
  });

  it.each(STEPS)('step %s passes', (step) => {
    expect(result?.steps[step], result?.errors[step]).toBe(true);
  });
});
