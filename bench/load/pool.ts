/**
 * The parent side of the load workers: child processes that run bench/load/worker.ts, so
 * the load generator can use every core and is not the bottleneck of a single event loop.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import type { ParentMessage, TaskSpec, WorkerMessage } from './protocol.js';

const WORKER_FILE = fileURLToPath(new URL('./worker.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START_TIMEOUT_MS = 30_000;

/** Options of a worker pool. */
export interface PoolOptions {
  /** Number of worker processes. */
  workers: number;
  /** Open-file limit to set for each worker, when the current soft limit is lower. */
  fdLimit?: number;
}

interface WorkerHandle {
  child: ChildProcess;
  /** Receives the messages of the task running on this worker. */
  listener: ((message: WorkerMessage) => void) | undefined;
  /** Called if the worker exits while a task runs on it. */
  onExit: ((reason: string) => void) | undefined;
}

/** Events, results and CPU time collected from one worker per task of a group. */
export interface Gathered<T> {
  values: T[];
  /** CPU time all workers used since their previous message, in milliseconds. */
  cpuMs: number;
}

let nextTaskId = 1;

/** A set of load worker processes that run one task each at a time. */
export class WorkerPool {
  private constructor(private readonly workers: WorkerHandle[]) {}

  /** Starts the worker processes and waits until each is listening. */
  static async start(options: PoolOptions): Promise<WorkerPool> {
    const workers = Array.from({ length: options.workers }, () => startWorker(options.fdLimit));
    try {
      await Promise.all(workers.map(waitStarted));
    } catch (err) {
      for (const worker of workers) worker.child.kill('SIGTERM');
      throw err;
    }
    return new WorkerPool(workers);
  }

  /** Number of workers. */
  get size(): number {
    return this.workers.length;
  }

  /** Process ids of the workers. */
  get pids(): number[] {
    return this.workers.map((worker) => worker.child.pid ?? 0);
  }

  /** Runs one task per spec, spec i on worker i. */
  run(specs: TaskSpec[]): TaskGroup {
    if (specs.length > this.workers.length) throw new Error(`${specs.length} tasks for ${this.workers.length} workers`);
    return new TaskGroup(this.workers.slice(0, specs.length), specs);
  }

  /** Ends the workers: closes their IPC channels, then sends SIGTERM to any still running after a second. */
  async stop(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.child.exitCode !== null || worker.child.signalCode !== null) return resolve();
            worker.onExit = undefined;
            const timer = setTimeout(() => worker.child.kill('SIGTERM'), 1000);
            worker.child.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            worker.child.disconnect();
          }),
      ),
    );
  }
}

/** The tasks of one scenario step, one per worker, and what they report. */
export class TaskGroup {
  private readonly id = nextTaskId++;
  private readonly inbox: WorkerMessage[][];
  private readonly wakers = new Set<() => void>();
  private failure: Error | undefined;

  constructor(
    private readonly workers: WorkerHandle[],
    specs: TaskSpec[],
  ) {
    this.inbox = workers.map(() => []);
    workers.forEach((worker, index) => {
      worker.listener = (message) => this.receive(index, message);
      worker.onExit = (reason) => this.fail(new Error(`load worker ${worker.child.pid} exited (${reason})`));
      this.post(worker, { type: 'task', id: this.id, spec: specs[index]! });
    });
  }

  /** Sends a signal to every worker; `data` is one value per worker, or one for all. */
  signal(name: string, data?: unknown, perWorker = false): void {
    this.workers.forEach((worker, index) => {
      this.post(worker, { type: 'signal', id: this.id, name, data: perWorker ? (data as unknown[])[index] : data });
    });
  }

  /** Waits until every worker has sent the event `name`; returns their data and CPU time. */
  event<T>(name: string, timeoutMs: number): Promise<Gathered<T>> {
    return this.gather((message) => (message.type === 'event' && message.name === name ? message.data : undefined), `event ${name}`, timeoutMs) as Promise<Gathered<T>>;
  }

  /** Waits until every worker has finished its task; returns their results and CPU time. */
  done<T>(timeoutMs: number): Promise<Gathered<T>> {
    return this.gather((message) => (message.type === 'done' ? message.result : undefined), 'the end of the task', timeoutMs) as Promise<Gathered<T>>;
  }

  private async gather(pick: (message: WorkerMessage) => unknown, description: string, timeoutMs: number): Promise<Gathered<unknown>> {
    const deadline = Date.now() + timeoutMs;
    const values: unknown[] = [];
    let cpuMs = 0;
    for (let index = 0; index < this.workers.length; index++) {
      const message = await this.take(index, (candidate) => pick(candidate) !== undefined, description, deadline);
      values.push(pick(message));
      if ('cpuMs' in message) cpuMs += message.cpuMs;
    }
    return { values, cpuMs };
  }

  private async take(index: number, match: (message: WorkerMessage) => boolean, description: string, deadline: number): Promise<WorkerMessage> {
    while (true) {
      const queue = this.inbox[index]!;
      const position = queue.findIndex(match);
      if (position !== -1) return queue.splice(position, 1)[0]!;
      if (this.failure) throw this.failure;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${description} from load worker ${this.workers[index]!.child.pid}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, remaining);
        function wake(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wakers.add(wake);
      });
    }
  }

  private receive(index: number, message: WorkerMessage): void {
    // A task of an earlier group that timed out may still report; its messages are not this group's.
    if ('id' in message && message.id !== this.id) return;
    if (message.type === 'failed') this.fail(new Error(`load worker ${this.workers[index]!.child.pid} failed: ${message.error}`));
    else this.inbox[index]!.push(message);
    this.wakeAll();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.wakeAll();
  }

  private wakeAll(): void {
    const wakers = [...this.wakers];
    this.wakers.clear();
    for (const wake of wakers) wake();
  }

  private post(worker: WorkerHandle, message: ParentMessage): void {
    worker.child.send(message);
  }
}

function startWorker(fdLimit: number | undefined): WorkerHandle {
  const nodeArgs = ['--conditions=source', '--import', 'tsx', WORKER_FILE];
  const stdio: ['ignore', 'inherit', 'inherit', 'ipc'] = ['ignore', 'inherit', 'inherit', 'ipc'];
  // A shell raises the soft limit and then becomes node, so the worker keeps the shell's pid and IPC channel.
  const child =
    fdLimit === undefined
      ? spawn(process.execPath, nodeArgs, { cwd: REPO_ROOT, stdio })
      : spawn('sh', ['-c', `ulimit -n ${fdLimit} && exec "$0" "$@"`, process.execPath, ...nodeArgs], { cwd: REPO_ROOT, stdio });
  const handle: WorkerHandle = { child, listener: undefined, onExit: undefined };
  child.on('message', (message: WorkerMessage) => handle.listener?.(message));
  child.on('exit', (code, signal) => handle.onExit?.(signal ?? `code ${code}`));
  return handle;
}

function waitStarted(worker: WorkerHandle): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`load worker ${worker.child.pid} did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    worker.listener = (message) => {
      if (message.type !== 'started') return;
      clearTimeout(timer);
      worker.listener = undefined;
      worker.onExit = undefined;
      resolve();
    };
    worker.onExit = (reason) => {
      clearTimeout(timer);
      reject(new Error(`load worker ${worker.child.pid} exited (${reason}) while starting`));
    };
  });
}
