import { randomBytes } from 'node:crypto';
import { JID, parseFrame, serialize } from '@parley/xmpp';
import type { Logger } from 'pino';
import type { StanzaEvent } from '../core/events.js';
import type { ClusterBus } from './bus.js';
import type { NodeMessage } from './messages.js';

/** Handles a stanza that another node passed on to a service hosted here; `hops` counts the passes so far. */
export type ServiceHandler = (event: StanzaEvent, hops: number) => Promise<void>;

/** The outcome of passing a stanza to another node's service. */
export interface Relayed {
  /** False when no node read the stanza: the node is gone. */
  delivered: boolean;
  /** Resolves once the host's durable writes for the stanza settled; rejects when they failed or the host went silent. */
  settled: Promise<void>;
}

type ServiceMessage = Extract<NodeMessage, { t: 'service' }>;
type AckMessage = Extract<NodeMessage, { t: 'service-ack' }>;

interface PendingAck {
  resolve: () => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * Stanzas to services that one node hosts at a time, such as MUC rooms. The node where a
 * stanza enters publishes it on the host's channel. With `durable`, the host reports when the
 * writes it made for the stanza settled, so that the sender's stream management
 * acknowledgement waits for the host's commit as it would on one node.
 */
export class ServiceRelay {
  private readonly handlers = new Map<string, ServiceHandler>();
  private readonly pending = new Map<string, PendingAck>();
  /** Per sender, the stanzas from other nodes still being handled, so that they keep their order. */
  private readonly chains = new Map<string, Promise<void>>();

  constructor(
    private readonly bus: ClusterBus,
    private readonly nodeId: string,
    private readonly ackTimeoutMs: number,
    private readonly maxStanzaBytes: number,
    private readonly log: Logger,
  ) {}

  /** Hands stanzas to `domain` that other nodes pass on to this one to `handler`. */
  serve(domain: string, handler: ServiceHandler): void {
    this.handlers.set(domain, handler);
  }

  /** Passes `event` to the service on `node`. */
  async send(node: string, event: StanzaEvent, hops: number, durable: boolean): Promise<Relayed> {
    const message: ServiceMessage = { t: 'service', xml: serialize(event.stanza), from: event.from.toString(), to: event.to.toString(), hops };
    if (!durable) return { delivered: await this.bus.sendToNode(node, message), settled: Promise.resolve() };

    const ack = randomBytes(9).toString('base64url');
    const settled = this.awaitAck(ack, node);
    const delivered = await this.bus.sendToNode(node, { ...message, ack, reply: this.nodeId });
    if (!delivered) this.settle({ t: 'service-ack', ack, ok: true });
    return { delivered, settled };
  }

  /** Handles a 'service' or 'service-ack' message from another node. */
  receive(message: ServiceMessage | AckMessage): void {
    if (message.t === 'service-ack') {
      this.settle(message);
      return;
    }
    const previous = this.chains.get(message.from) ?? Promise.resolve();
    const next = previous.then(() => this.handle(message));
    this.chains.set(message.from, next);
    void next.finally(() => {
      if (this.chains.get(message.from) === next) this.chains.delete(message.from);
    });
  }

  /** Runs the service's handler; the writes it tracks are reported to the sending node once they settle. */
  private async handle(message: ServiceMessage): Promise<void> {
    const writes: Promise<unknown>[] = [];
    let ok = true;
    try {
      const stanza = parseFrame(message.xml, { maxStanzaBytes: this.maxStanzaBytes });
      const to = JID.parse(message.to);
      const track = message.ack === undefined ? undefined : (write: Promise<unknown>) => void writes.push(write);
      const handler = this.handlers.get(to.domain);
      if (handler) await handler({ stanza, from: JID.parse(message.from), to, track }, message.hops);
      else this.log.warn({ to: message.to }, 'cluster: a stanza came for a service this node does not run');
    } catch (err) {
      ok = false;
      this.log.error({ err, to: message.to }, 'cluster: handling a stanza from another node failed');
    }
    if (message.ack === undefined || message.reply === undefined) return;

    const { ack, reply } = message;
    void Promise.allSettled(writes).then(async (results) => {
      const stored = ok && results.every((result) => result.status === 'fulfilled');
      await this.bus.sendToNode(reply, { t: 'service-ack', ack, ok: stored });
    });
  }

  private awaitAck(ack: string, node: string): Promise<void> {
    const settled = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ack);
        reject(new Error(`cluster: node ${node} did not confirm a stanza within ${this.ackTimeoutMs} ms`));
      }, this.ackTimeoutMs);
      this.pending.set(ack, { resolve, reject, timer });
    });
    // The caller may never look at it when the publish reached no node.
    settled.catch(() => undefined);
    return settled;
  }

  private settle(message: AckMessage): void {
    const pending = this.pending.get(message.ack);
    if (pending === undefined) return;
    this.pending.delete(message.ack);
    clearTimeout(pending.timer);
    if (message.ok) pending.resolve();
    else pending.reject(new Error('cluster: the hosting node failed to store a stanza'));
  }
}
