import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type ClusterEvent, EVENTS_CHANNEL, type NodeMessage, nodeChannel } from './messages.js';

/** Time allowed to reach Redis at start. */
const CONNECT_TIMEOUT_MS = 5000;

export interface BusHandlers {
  event(event: ClusterEvent): void;
  message(message: NodeMessage): void;
}

/**
 * A node's two Redis connections: one for commands and publishing, one subscribed to the
 * cluster's event channel and to the node's own channel.
 */
export class ClusterBus {
  private constructor(
    readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly log: Logger,
  ) {}

  /** Connects to `url`, subscribes, and passes what arrives to `handlers`. */
  static async connect(url: string, node: string, log: Logger, handlers: BusHandlers): Promise<ClusterBus> {
    const options = { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 1 };
    // Commands issued in one tick go out in one write: a node publishes once per routed stanza.
    const redis = new Redis(url, { ...options, connectionName: `parley-${node}`, enableAutoPipelining: true });
    const subscriber = new Redis(url, { ...options, connectionName: `parley-${node}-sub` });
    const bus = new ClusterBus(redis, subscriber, log);

    for (const connection of [redis, subscriber]) {
      connection.on('error', (err: unknown) => log.warn({ err }, 'cluster: Redis connection error'));
    }
    try {
      await Promise.all([redis.connect(), subscriber.connect()]);
      subscriber.on('message', (channel: string, text: string) => bus.receive(channel, text, handlers));
      await subscriber.subscribe(EVENTS_CHANNEL, nodeChannel(node));
    } catch (err) {
      redis.disconnect();
      subscriber.disconnect();
      throw new Error(`cluster: connecting to Redis at ${hostOf(url)} failed. Check [cluster] redis_url and that Redis is running.`, { cause: err });
    }
    return bus;
  }

  private receive(channel: string, text: string, handlers: BusHandlers): void {
    try {
      const parsed: unknown = JSON.parse(text);
      if (channel === EVENTS_CHANNEL) handlers.event(parsed as ClusterEvent);
      else handlers.message(parsed as NodeMessage);
    } catch (err) {
      this.log.error({ err, channel }, 'cluster: a message from Redis could not be handled');
    }
  }

  publishEvent(event: ClusterEvent): Promise<number> {
    return this.redis.publish(EVENTS_CHANNEL, JSON.stringify(event));
  }

  /** Publishes `message` to `node`; false when no node reads its channel or Redis failed. */
  async sendToNode(node: string, message: NodeMessage): Promise<boolean> {
    try {
      return (await this.redis.publish(nodeChannel(node), JSON.stringify(message))) > 0;
    } catch (err) {
      this.log.warn({ err, node }, 'cluster: publishing to a node failed');
      return false;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.subscriber.quit(), this.redis.quit()]);
  }
}

/** Returns host and port of a Redis URL, without credentials, for messages. */
function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}
