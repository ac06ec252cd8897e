/**
 * Entry point of a load worker process. The parent (bench/load/pool.ts) starts it with an
 * IPC channel and sends it tasks. The worker runs each task and forwards the task's
 * events. Every message carries the worker's CPU time, so the parent can report how much
 * CPU the load generator used.
 */
import type { ParentMessage, TaskContext, TaskSpec, WorkerMessage } from './protocol.js';
import { runArchive } from './task-archive.js';
import { runFanout } from './task-fanout.js';
import { runIdle } from './task-idle.js';
import { runLogins } from './task-logins.js';
import { runMessages } from './task-messages.js';
import { runRegister } from './task-register.js';

const signalWaiters = new Map<string, (data: unknown) => void>();
const earlySignals = new Map<string, unknown>();
let lastCpu = process.cpuUsage();

/** CPU time, user plus system, in milliseconds since the previous call. */
function cpuSinceLast(): number {
  const delta = process.cpuUsage(lastCpu);
  lastCpu = process.cpuUsage();
  return (delta.user + delta.system) / 1000;
}

function post(message: WorkerMessage): void {
  process.send?.(message);
}

function contextFor(id: number): TaskContext {
  return {
    emit: (name, data) => post({ type: 'event', id, name, data, cpuMs: cpuSinceLast() }),
    signal: <T>(name: string) =>
      new Promise<T>((resolve) => {
        const key = `${id}:${name}`;
        if (earlySignals.has(key)) {
          const data = earlySignals.get(key);
          earlySignals.delete(key);
          resolve(data as T);
          return;
        }
        signalWaiters.set(key, (data) => resolve(data as T));
      }),
  };
}

function runTask(spec: TaskSpec, context: TaskContext): Promise<unknown> {
  switch (spec.kind) {
    case 'register':
      return runRegister(spec);
    case 'logins':
      return runLogins(spec);
    case 'idle':
      return runIdle(spec, context);
    case 'messages':
      return runMessages(spec, context);
    case 'fanout':
      return runFanout(spec, context);
    case 'archive':
      return runArchive(spec);
  }
}

function onMessage(message: ParentMessage): void {
  if (message.type === 'signal') {
    const key = `${message.id}:${message.name}`;
    const waiter = signalWaiters.get(key);
    signalWaiters.delete(key);
    if (waiter) waiter(message.data);
    else earlySignals.set(key, message.data);
    return;
  }

  cpuSinceLast();
  runTask(message.spec, contextFor(message.id)).then(
    (result) => post({ type: 'done', id: message.id, result, cpuMs: cpuSinceLast() }),
    (err: unknown) => post({ type: 'failed', id: message.id, error: err instanceof Error ? (err.stack ?? err.message) : String(err), cpuMs: cpuSinceLast() }),
  );
}

if (!process.send) {
  console.error('bench/load/worker.ts runs as a child process of bench/run.ts and needs its IPC channel.');
  process.exit(2);
}
process.on('message', onMessage);
post({ type: 'started' });
// The parent closes the channel when it is done or dies; the worker then has nothing left to do.
process.on('disconnect', () => process.exit(0));
