/** Webhooks of one server: queues account events as they fire and runs the dispatcher. */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Hooks } from '../core/hooks.js';
import type { ServerEvents } from '../core/events.js';
import type { Storage } from '../storage/index.js';
import { WebhookDispatcher } from './dispatcher.js';
import { ACCOUNT_EVENT_TYPES, type AccountWebhookEvent, PING_EVENT_TYPE, accountEvent, buildEvent } from './events.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
/** Runs before other handlers, so that no handler that claims or fails an account event keeps it from the queue. */
const HOOK_PRIORITY = 10_000;

export interface WebhookServerParts {
  config: Config;
  storage: Storage;
  hooks: Hooks<ServerEvents>;
  log: Logger;
}

export class WebhookService {
  private readonly dispatcher: WebhookDispatcher;
  private readonly log: Logger;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(private readonly server: WebhookServerParts) {
    const settings = server.config.webhooks;
    this.log = server.log.child({ component: 'webhooks' });
    this.dispatcher = new WebhookDispatcher(
      server.storage.webhooks,
      {
        timeoutMs: settings.timeout_ms,
        maxAttempts: settings.max_attempts,
        backoff: { baseMs: settings.backoff_base_ms, maxMs: settings.backoff_max_ms },
        concurrency: settings.concurrency,
        allowPrivateAddresses: settings.allow_private_addresses,
      },
      this.log,
    );
  }

  get enabled(): boolean {
    return this.server.config.webhooks.enabled;
  }

  /** Queues every account event the server fires, when webhooks are enabled. */
  subscribe(): void {
    if (!this.enabled) return;
    for (const type of ACCOUNT_EVENT_TYPES) {
      this.server.hooks.on(type, (event) => this.queue({ ...event, type } as AccountWebhookEvent), { priority: HOOK_PRIORITY, owner: 'webhooks' });
    }
  }

  /** Starts sending, including deliveries left pending by an earlier run. */
  start(): void {
    if (!this.enabled) return;
    this.dispatcher.start();
    void this.prune();
    this.pruneTimer = setInterval(() => void this.prune(), PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
  }

  /** Stops sending; attempts under way are aborted and stay pending. */
  async stop(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.dispatcher.stop();
  }

  /** Sends pending deliveries that are due now, such as one an administrator retried. */
  wake(): void {
    this.dispatcher.wake();
  }

  /** Queues a ping event for the endpoint alone, whatever its filter; returns the delivery id. */
  async ping(endpointId: string): Promise<number | undefined> {
    const event = buildEvent(PING_EVENT_TYPE, { endpoint: endpointId });
    const [id] = await this.server.storage.webhooks.enqueue(event, endpointId);
    this.wake();
    return id;
  }

  private async queue(event: AccountWebhookEvent): Promise<void> {
    try {
      const ids = await this.server.storage.webhooks.enqueue(accountEvent(event));
      if (ids.length > 0) this.wake();
    } catch (err) {
      this.log.error({ err, event: event.type, user: event.username }, 'could not queue the webhook event');
    }
  }

  private async prune(): Promise<void> {
    try {
      await this.server.storage.webhooks.prune(Date.now() - this.server.config.webhooks.retention_days * DAY_MS);
    } catch (err) {
      this.log.error({ err }, 'could not delete old webhook deliveries');
    }
  }
}

const services = new WeakMap<object, WebhookService>();

/** Creates the server's webhook service and subscribes it to account events. */
export function attachWebhooks(server: WebhookServerParts): WebhookService {
  const service = new WebhookService(server);
  service.subscribe();
  services.set(server, service);
  return service;
}

/** Returns the webhook service of a running server, or undefined when none was attached. */
export function webhooksOf(server: object): WebhookService | undefined {
  return services.get(server);
}
