import type { Kysely, Selectable, Updateable } from 'kysely';

import type { Database, WebhookDeliveriesTable, WebhookDeliveryStatus, WebhookEndpointsTable } from './schema.js';

/** Event filter entry that matches every event type. */
export const ALL_EVENTS = '*';

/** A receiver of events. `secret` signs the bodies sent to it. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  secret: string;
  /** Event types sent to the endpoint; `['*']` for all. */
  events: string[];
  description: string | null;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export type NewWebhookEndpoint = Omit<WebhookEndpoint, 'createdAt' | 'updatedAt'> & { createdAt?: number };

export type WebhookEndpointChanges = Partial<Pick<WebhookEndpoint, 'url' | 'secret' | 'events' | 'description' | 'enabled'>>;

/** One event queued for one endpoint. */
export interface WebhookDelivery {
  id: number;
  endpointId: string;
  eventId: string;
  eventType: string;
  /** The JSON body, sent as stored. */
  payload: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastAttemptAt: number | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A due delivery with what sending it needs from its endpoint. */
export interface DueDelivery extends WebhookDelivery {
  url: string;
  secret: string;
}

/** An event to queue: `payload` is the JSON body. */
export interface QueuedEvent {
  id: string;
  type: string;
  payload: string;
  createdAt: number;
}

/** The outcome of one attempt. `nextAttemptAt` undefined marks the delivery failed for good. */
export interface AttemptFailure {
  status: number | null;
  error: string;
  nextAttemptAt: number | undefined;
}

export interface PageOptions {
  limit: number;
  after?: string;
}

/** Webhook endpoints and the durable queue of their deliveries. */
export class WebhookRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async createEndpoint(endpoint: NewWebhookEndpoint): Promise<WebhookEndpoint> {
    const createdAt = endpoint.createdAt ?? Date.now();
    await this.db
      .insertInto('webhook_endpoints')
      .values({
        id: endpoint.id,
        url: endpoint.url,
        secret: endpoint.secret,
        events: JSON.stringify(endpoint.events),
        description: endpoint.description,
        enabled: endpoint.enabled ? 1 : 0,
        created_at: createdAt,
        updated_at: createdAt,
      })
      .execute();
    return { ...endpoint, createdAt, updatedAt: createdAt };
  }

  async getEndpoint(id: string): Promise<WebhookEndpoint | undefined> {
    const row = await this.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toEndpoint(row);
  }

  /** Lists endpoints in id order, after the id `after` when given. */
  async listEndpoints({ limit, after }: PageOptions): Promise<WebhookEndpoint[]> {
    let query = this.db.selectFrom('webhook_endpoints').selectAll().orderBy('id').limit(limit);
    if (after !== undefined) query = query.where('id', '>', after);
    return (await query.execute()).map(toEndpoint);
  }

  /** Applies `changes` and returns the endpoint as stored, or undefined when it does not exist. */
  async updateEndpoint(id: string, changes: WebhookEndpointChanges, now = Date.now()): Promise<WebhookEndpoint | undefined> {
    const values: Updateable<WebhookEndpointsTable> = { updated_at: now };
    if (changes.url !== undefined) values.url = changes.url;
    if (changes.secret !== undefined) values.secret = changes.secret;
    if (changes.events !== undefined) values.events = JSON.stringify(changes.events);
    if (changes.description !== undefined) values.description = changes.description;
    if (changes.enabled !== undefined) values.enabled = changes.enabled ? 1 : 0;

    const result = await this.db.updateTable('webhook_endpoints').set(values).where('id', '=', id).executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return undefined;
    return this.getEndpoint(id);
  }

  /** Deletes the endpoint with its deliveries; false when it did not exist. */
  async deleteEndpoint(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('webhook_endpoints').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * Queues `event` for every enabled endpoint whose filter matches it, or for the one
   * endpoint `only` whatever its filter. Returns the ids of the deliveries queued.
   */
  async enqueue(event: QueuedEvent, only?: string): Promise<number[]> {
    let query = this.db.selectFrom('webhook_endpoints').select(['id', 'events']);
    query = only === undefined ? query.where('enabled', '=', 1) : query.where('id', '=', only);
    const endpoints = (await query.execute()).filter((row) => only !== undefined || matches(JSON.parse(row.events) as string[], event.type));
    if (endpoints.length === 0) return [];

    const rows = await this.db
      .insertInto('webhook_deliveries')
      .values(
        endpoints.map((endpoint) => ({
          endpoint_id: endpoint.id,
          event_id: event.id,
          event_type: event.type,
          payload: event.payload,
          status: 'pending' as const,
          attempts: 0,
          next_attempt_at: event.createdAt,
          created_at: event.createdAt,
          updated_at: event.createdAt,
        })),
      )
      .returning('id')
      .execute();
    return rows.map((row) => Number(row.id));
  }

  /** Returns pending deliveries of enabled endpoints due at `now`, oldest due first, leaving out the ids in `skip`. */
  async due(now: number, limit: number, skip: readonly number[] = []): Promise<DueDelivery[]> {
    let query = this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .selectAll('d')
      .select(['e.url', 'e.secret'])
      .where('d.status', '=', 'pending')
      .where('d.next_attempt_at', '<=', now)
      .where('e.enabled', '=', 1)
      .orderBy('d.next_attempt_at')
      .orderBy('d.id')
      .limit(limit);
    if (skip.length > 0) query = query.where('d.id', 'not in', skip);
    const rows = await query.execute();
    return rows.map((row) => ({ ...toDelivery(row), url: row.url, secret: row.secret }));
  }

  /** Returns when the earliest pending delivery of an enabled endpoint is due, leaving out the ids in `skip`; undefined when none waits. */
  async nextDueAt(skip: readonly number[] = []): Promise<number | undefined> {
    let query = this.db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhook_endpoints as e', 'e.id', 'd.endpoint_id')
      .select((eb) => eb.fn.min('d.next_attempt_at').as('next'))
      .where('d.status', '=', 'pending')
      .where('e.enabled', '=', 1);
    if (skip.length > 0) query = query.where('d.id', 'not in', skip);
    const row = await query.executeTakeFirst();
    return row?.next == null ? undefined : Number(row.next);
  }

  /** Records an attempt that got a 2xx response with `status`. */
  async recordSuccess(id: number, status: number, now = Date.now()): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({ status: 'delivered', attempts: eb('attempts', '+', 1), last_attempt_at: now, last_status: status, last_error: null, updated_at: now }))
      .where('id', '=', id)
      .execute();
  }

  /** Records a failed attempt: pending again at `nextAttemptAt`, or failed when there is none. */
  async recordFailure(id: number, failure: AttemptFailure, now = Date.now()): Promise<void> {
    const status: WebhookDeliveryStatus = failure.nextAttemptAt === undefined ? 'failed' : 'pending';
    await this.db
      .updateTable('webhook_deliveries')
      .set((eb) => ({
        status,
        attempts: eb('attempts', '+', 1),
        next_attempt_at: failure.nextAttemptAt ?? now,
        last_attempt_at: now,
        last_status: failure.status,
        last_error: failure.error,
        updated_at: now,
      }))
      .where('id', '=', id)
      .execute();
  }

  /** Lists an endpoint's deliveries, newest first, with ids below `after` when given. */
  async listDeliveries(endpointId: string, options: PageOptions & { status?: WebhookDeliveryStatus }): Promise<WebhookDelivery[]> {
    let query = this.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).orderBy('id', 'desc').limit(options.limit);
    if (options.status !== undefined) query = query.where('status', '=', options.status);
    if (options.after !== undefined) query = query.where('id', '<', Number(options.after));
    return (await query.execute()).map(toDelivery);
  }

  async getDelivery(endpointId: string, id: number): Promise<WebhookDelivery | undefined> {
    const row = await this.db.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId).where('id', '=', id).executeTakeFirst();
    return row && toDelivery(row);
  }

  /**
   * Makes the delivery pending and due at `now`, whatever its status. The attempt count
   * stays, so a delivery that had used up its attempts gets one more.
   */
  async retry(endpointId: string, id: number, now = Date.now()): Promise<WebhookDelivery | undefined> {
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'pending', next_attempt_at: now, updated_at: now })
      .where('endpoint_id', '=', endpointId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(result.numUpdatedRows) === 0) return undefined;
    return this.getDelivery(endpointId, id);
  }

  /** Deletes delivered and failed deliveries last changed before `before`; returns how many. */
  async prune(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('webhook_deliveries')
      .where('status', 'in', ['delivered', 'failed'])
      .where('updated_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

/** True when the endpoint filter `events` lets `type` through. */
export function matches(events: readonly string[], type: string): boolean {
  return events.includes(ALL_EVENTS) || events.includes(type);
}

function toEndpoint(row: Selectable<WebhookEndpointsTable>): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    secret: row.secret,
    events: JSON.parse(row.events) as string[],
    description: row.description,
    enabled: row.enabled === 1,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: Number(row.id),
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: Number(row.next_attempt_at),
    lastAttemptAt: row.last_attempt_at === null ? null : Number(row.last_attempt_at),
    lastStatus: row.last_status,
    lastError: row.last_error,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}
