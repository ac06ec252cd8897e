import type { Logger } from 'pino';
import type { ClusterRegistry } from './registry.js';

/**
 * Sends this node's heartbeat, which keeps its Redis entries from expiring, and drops
 * other nodes whose heartbeats stopped, every `intervalMs`.
 */
export class NodeHealth {
  private timer: NodeJS.Timeout | undefined;

  /**
   * `onLost` runs when this node's hash was missing from Redis at a heartbeat, and
   * `onExpired` with the full JIDs of each other node whose heartbeats stopped.
   */
  constructor(
    private readonly registry: ClusterRegistry,
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly onLost: () => void,
    private readonly onExpired: (node: string, jids: string[]) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    this.registry.heartbeat().then(
      (found) => {
        if (!found) this.onLost();
      },
      (err: unknown) => this.log.warn({ err }, 'cluster: heartbeat failed'),
    );
    this.registry.sweep(Date.now(), (node, jids) => {
      this.log.warn({ node }, 'cluster: node stopped sending heartbeats; its sessions are dropped');
      this.onExpired(node, jids);
    });
  }
}
