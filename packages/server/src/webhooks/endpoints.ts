/** Adding webhook endpoints, shared by the admin API and parleyctl. */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { Storage, WebhookEndpoint } from '../storage/index.js';
import { ALL_EVENTS } from '../storage/webhooks.js';
import { WebhookUrlError, parseWebhookUrl } from './address-policy.js';
import { WEBHOOK_EVENT_TYPES } from './events.js';

export interface EndpointInput {
  url: string;
  events?: string[];
  description?: string | null;
  enabled?: boolean;
  /** Generated when left out. */
  secret?: string;
}

/** Returns the URL in normalized form, or throws WebhookUrlError when the policy refuses it. */
export function checkedUrl(config: Config, text: string): string {
  return parseWebhookUrl(text, config.webhooks.allow_private_addresses).href;
}

/** Returns the first entry of `events` that is neither an event type nor '*', if any. */
export function unknownEventType(events: readonly string[]): string | undefined {
  return events.find((type) => type !== ALL_EVENTS && !WEBHOOK_EVENT_TYPES.includes(type));
}

/** Stores a new endpoint; throws WebhookUrlError for a refused URL. */
export async function addEndpoint(storage: Storage, config: Config, input: EndpointInput): Promise<WebhookEndpoint> {
  const url = checkedUrl(config, input.url);
  const unknown = unknownEventType(input.events ?? []);
  if (unknown !== undefined) throw new RangeError(`Unknown event type "${unknown}"; use * or ${WEBHOOK_EVENT_TYPES.join(', ')}.`);

  return storage.webhooks.createEndpoint({
    id: newEndpointId(),
    url,
    secret: input.secret ?? `whsec_${randomBytes(32).toString('base64url')}`,
    events: input.events ?? [ALL_EVENTS],
    description: input.description ?? null,
    enabled: input.enabled ?? true,
  });
}

/** Returns a new endpoint id: the time in base 36, so that ids list in creation order, then random characters. */
function newEndpointId(): string {
  return `wh_${Date.now().toString(36).padStart(9, '0')}${randomBytes(6).toString('hex')}`;
}

export { WebhookUrlError };
