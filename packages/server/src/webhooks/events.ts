/** The events webhooks carry and their JSON body. */
import { randomBytes } from 'node:crypto';
import type { ServerEvents } from '../core/events.js';
import type { QueuedEvent, Storage } from '../storage/index.js';

/** Account events sent to webhook endpoints, by their server event names. */
export const ACCOUNT_EVENT_TYPES = ['account/created', 'account/updated', 'account/disabled', 'account/enabled', 'account/deleted', 'account/registered'] as const;

export type AccountEventType = (typeof ACCOUNT_EVENT_TYPES)[number];

/** The event of `POST /webhooks/{id}:test`, sent to one endpoint whatever its filter. */
export const PING_EVENT_TYPE = 'webhook/ping';

/** Every type an endpoint filter may name. */
export const WEBHOOK_EVENT_TYPES: readonly string[] = [...ACCOUNT_EVENT_TYPES, PING_EVENT_TYPE];

/** An account event with its name, as the server fires it or as parleyctl reports it. */
export type AccountWebhookEvent = { [K in AccountEventType]: { type: K } & ServerEvents[K] }[AccountEventType];

/**
 * Returns a new event id: the time in base 36 then random characters, so that ids sort
 * roughly by time and cannot be guessed.
 */
export function newEventId(now: number): string {
  return `evt_${now.toString(36).padStart(9, '0')}${randomBytes(9).toString('base64url')}`;
}

/**
 * Builds the queued form of an event. The body is
 * `{"id", "type", "created_at" (ISO 8601), "data": {...}}`; account events carry `host`,
 * `username` and `jid` in `data`, plus `changed` (updated) or `via` and `invited` (registered).
 */
export function buildEvent(type: string, data: Record<string, unknown>, now = Date.now()): QueuedEvent {
  const id = newEventId(now);
  const payload = JSON.stringify({ id, type, created_at: new Date(now).toISOString(), data });
  return { id, type, payload, createdAt: now };
}

/** Builds the queued form of an account event, with the fields of its type only. */
export function accountEvent(event: AccountWebhookEvent, now = Date.now()): QueuedEvent {
  const data: Record<string, unknown> = { host: event.host, username: event.username, jid: `${event.username}@${event.host}` };
  if (event.type === 'account/updated') data.changed = event.changed;
  if (event.type === 'account/registered') {
    data.via = event.via;
    data.invited = event.invited;
  }
  return buildEvent(event.type, data, now);
}

/**
 * Queues an account event for every enabled endpoint whose filter matches it, whatever
 * `[webhooks] enabled` says; a running server sends the deliveries within seconds. Returns
 * the number of deliveries queued. parleyctl does not call it: its changes reach the
 * webhooks through the server's hooks, live or replayed from the account outbox.
 */
export async function enqueueAccountEvent(storage: Storage, event: AccountWebhookEvent): Promise<number> {
  return (await storage.webhooks.enqueue(accountEvent(event))).length;
}
