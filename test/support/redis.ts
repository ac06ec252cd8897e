import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';

const REDIS_SERVER = '/usr/bin/redis-server';

/** A redis-server of the test's own on 127.0.0.1, without persistence. */
export interface TestRedis {
  port: number;
  /** Process id of redis-server, for reading its CPU time. */
  pid: number;
  url: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for its exit. */
  stop(): Promise<void>;
}

/** Returns a port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Resolves once something accepts connections on `port` of 127.0.0.1; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number, exited?: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited?.()) throw new Error(`the process meant to listen on port ${port} exited`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
}

/** Starts Debian's redis-server on a free port of 127.0.0.1, in working folder `dir`, with no RDB or AOF files. */
export async function startRedis(dir = '/tmp'): Promise<TestRedis> {
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes', '--dir', dir];
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let exited = false;
  void exit.then(() => (exited = true));
  try {
    await waitForPort(port, 10_000, () => exited);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return { port, pid: child.pid!, url: `redis://127.0.0.1:${port}`, stop: () => stopProcess(child, exit) };
}

/** Sends SIGTERM to `child`, SIGKILL after 5 s, and waits for `exit`. */
export async function stopProcess(child: ChildProcess, exit: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exit;
  clearTimeout(timer);
}
