import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { pythonBinary } from './python.js';

const PEER_SCRIPT = fileURLToPath(new URL('../interop/slixmpp_peer.py', import.meta.url));
const READY_TIMEOUT_MS = 15_000;
const EXIT_TIMEOUT_MS = 5_000;

/** One line that test/interop/slixmpp_peer.py printed, as JSON. */
export interface PeerEvent {
  event: 'ready' | 'joined' | 'message' | 'presence' | 'failed';
  [field: string]: unknown;
}

export interface PeerOptions {
  host: string;
  port: number;
  domain: string;
  user: string;
  password: string;
}

/**
 * A slixmpp client in a child process (test/interop/slixmpp_peer.py) that a test drives:
 * it sends commands as JSON lines and waits for the events the client prints.
 */
export class SlixmppPeer {
  /** Every event so far, in order of arrival. */
  readonly events: PeerEvent[] = [];
  /** The client's full JID once it is ready. */
  jid = '';
  private stderr = '';
  private readonly waiters = new Set<() => void>();
  private readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => this.onLine(line));
    child.stderr.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString('utf8')).slice(-8000)));
    this.exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  }

  /** Starts the peer and resolves once it has logged in. */
  static async start(options: PeerOptions): Promise<SlixmppPeer> {
    const args = ['--host', options.host, '--port', String(options.port), '--domain', options.domain];
    args.push('--user', options.user, '--password', options.password);
    if (process.env.PARLEY_TEST_LOG) args.push('--debug');
    const peer = new SlixmppPeer(spawn(pythonBinary(), [PEER_SCRIPT, ...args]));

    try {
      const ready = await peer.waitFor((e) => e.event === 'ready' || (e.event === 'failed' && e.op === 'login'), 'login', READY_TIMEOUT_MS);
      if (ready.event === 'failed') throw new Error(`the slixmpp peer could not log in: ${String(ready.error)}`);
      peer.jid = String(ready.jid);
      return peer;
    } catch (err) {
      await peer.stop();
      throw err;
    }
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  /** Resolves with the first event, past or future, that matches `predicate`. */
  waitFor(predicate: (event: PeerEvent) => boolean, description: string, timeoutMs = 10_000): Promise<PeerEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.events.find(predicate);
        if (found) resolve(found);
        return found !== undefined;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`the slixmpp peer: no ${description} within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`));
      }, timeoutMs);
      const waiter = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  /** Asks the peer to log out and exit, and kills it when it has not exited after EXIT_TIMEOUT_MS. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.stdin.writable) this.send({ op: 'quit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  private onLine(line: string): void {
    let event: PeerEvent;
    try {
      event = JSON.parse(line) as PeerEvent;
    } catch {
      return; // slixmpp's own output
    }
    this.events.push(event);
    for (const waiter of [...this.waiters]) waiter();
  }
}
