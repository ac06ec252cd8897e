/**
 * Sends due deliveries from the durable queue: at most `concurrency` at a time, each with a
 * deadline, retrying failures with exponential backoff until `maxAttempts`. The queue is the
 * database, so deliveries that were pending when the process stopped are sent after a
 * restart. An attempt cut short by the stop stays pending with its attempt count
 * unchanged, so a delivery may arrive twice, and receivers deduplicate by event id.
 */
import type { Logger } from 'pino';
import type { DueDelivery, WebhookRepository } from '../storage/webhooks.js';
import { type BackoffSettings, retryDelay } from './backoff.js';
import { postWebhook } from './sender.js';
import { signedHeaders } from './signature.js';

/** Maximum wait between two scans of the queue; a scan also finds deliveries that parleyctl queued. */
const IDLE_SCAN_MS = 5000;

export interface DispatcherSettings {
  timeoutMs: number;
  maxAttempts: number;
  backoff: BackoffSettings;
  concurrency: number;
  allowPrivateAddresses: boolean;
}

export class WebhookDispatcher {
  private readonly inFlight = new Map<number, Promise<void>>();
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** The scan under way, which stop() waits for. */
  private scanning: Promise<void> | undefined;
  private rescan = false;

  constructor(
    private readonly repository: WebhookRepository,
    private readonly settings: DispatcherSettings,
    private readonly log: Logger,
  ) {}

  start(): void {
    if (this.running || this.stopping.signal.aborted) return;
    this.running = true;
    this.schedule(0);
  }

  /** Scans the queue now, for a delivery just queued or made due. */
  wake(): void {
    if (this.running) this.schedule(0);
  }

  /** Stops scanning, aborts the attempts under way and waits until they settled. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.stopping.abort();
    await this.scanning;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.scan(), ms);
    this.timer.unref();
  }

  private scan(): void {
    if (!this.running) return;
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = this.scanOnce().finally(() => {
      this.scanning = undefined;
    });
  }

  private async scanOnce(): Promise<void> {
    let wait = IDLE_SCAN_MS;
    try {
      wait = await this.launchDue();
    } catch (err) {
      this.log.error({ err }, 'webhook queue scan failed');
    }

    if (!this.running) return;
    if (this.rescan) wait = 0;
    this.rescan = false;
    this.schedule(wait);
  }

  /** Starts due deliveries in the free slots; returns the milliseconds until the next scan. */
  private async launchDue(): Promise<number> {
    const free = this.settings.concurrency - this.inFlight.size;
    // A finishing attempt wakes the dispatcher.
    if (free <= 0) return IDLE_SCAN_MS;

    const due = await this.repository.due(Date.now(), free, [...this.inFlight.keys()]);
    if (!this.running) return IDLE_SCAN_MS;
    for (const delivery of due) this.launch(delivery);
    if (due.length === free) return IDLE_SCAN_MS;

    const next = await this.repository.nextDueAt([...this.inFlight.keys()]);
    if (next === undefined) return IDLE_SCAN_MS;
    return Math.min(Math.max(next - Date.now(), 0), IDLE_SCAN_MS);
  }

  private launch(delivery: DueDelivery): void {
    const attempt = this.attempt(delivery)
      .catch((err: unknown) => this.log.error({ err, delivery: delivery.id }, 'webhook attempt could not be recorded'))
      .finally(() => {
        this.inFlight.delete(delivery.id);
        this.wake();
      });
    this.inFlight.set(delivery.id, attempt);
  }

  private async attempt(delivery: DueDelivery): Promise<void> {
    const attempt = delivery.attempts + 1;
    const headers = signedHeaders({
      eventType: delivery.eventType,
      eventId: delivery.eventId,
      deliveryId: delivery.id,
      attempt,
      body: delivery.payload,
      secret: delivery.secret,
      now: Date.now(),
    });
    const result = await postWebhook(delivery.url, headers, delivery.payload, {
      timeoutMs: this.settings.timeoutMs,
      allowPrivateAddresses: this.settings.allowPrivateAddresses,
      signal: this.stopping.signal,
    });

    if (result.ok) {
      await this.repository.recordSuccess(delivery.id, result.status ?? 200);
      return;
    }
    if (this.stopping.signal.aborted) return;

    const final = attempt >= this.settings.maxAttempts;
    const nextAttemptAt = final ? undefined : Date.now() + retryDelay(attempt, this.settings.backoff);
    await this.repository.recordFailure(delivery.id, { status: result.status, error: result.error ?? 'failed', nextAttemptAt });
    this.log.warn(
      { endpoint: delivery.endpointId, delivery: delivery.id, event: delivery.eventType, attempt, status: result.status, error: result.error, final },
      final ? 'webhook delivery failed for good' : 'webhook delivery failed; will retry',
    );
  }
}
