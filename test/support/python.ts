import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/** What a Python script printed and how it ended. */
export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Returns the Python interpreter that has Debian's python3-slixmpp: PARLEY_PYTHON if set,
 * else /usr/bin/python3, because a python3 earlier on PATH (pyenv, for one) does not see
 * Debian's packages.
 */
export function pythonBinary(): string {
  if (process.env.PARLEY_PYTHON) return process.env.PARLEY_PYTHON;
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

/** Runs a Python script to its end, killing it after `timeoutMs`. */
export function runPythonScript(script: string, args: string[], timeoutMs: number): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(pythonBinary(), [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Parses the last line a scenario script printed as JSON; undefined when it is not JSON. */
export function lastJsonLine<T>(stdout: string): T | undefined {
  const lastLine = stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(lastLine) as T;
  } catch {
    return undefined;
  }
}
