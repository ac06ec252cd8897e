/** Request and response schemas of the webhook routes, and the JSON form of endpoints and deliveries. */
import { type Static, Type } from '@sinclair/typebox';
import type { WebhookDelivery, WebhookEndpoint } from '../../storage/index.js';
import { WEBHOOK_EVENT_TYPES } from '../../webhooks/index.js';
import { Page, PageQuery as PageFields, Timestamp, timestamp } from '../schemas.js';

const EventFilter = Type.Array(Type.Union([Type.Literal('*'), ...WEBHOOK_EVENT_TYPES.map((type) => Type.Literal(type))]), {
  minItems: 1,
  uniqueItems: true,
  description: 'event types to send, or ["*"] for all',
});
const Url = Type.String({ minLength: 1, maxLength: 2048, description: 'http or https URL that receives POST requests' });
const Description = Type.Union([Type.String({ maxLength: 500 }), Type.Null()]);
const Secret = Type.String({ minLength: 16, maxLength: 256, description: 'HMAC-SHA256 key; generated when left out' });

export const EndpointParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const DeliveryParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }), delivery: Type.String({ pattern: '^[0-9]{1,15}$' }) });

export const CreateEndpointBody = Type.Object(
  { url: Url, events: Type.Optional(EventFilter), description: Type.Optional(Description), enabled: Type.Optional(Type.Boolean()), secret: Type.Optional(Secret) },
  { additionalProperties: false },
);
export type CreateEndpointInput = Static<typeof CreateEndpointBody>;

export const UpdateEndpointBody = Type.Object(
  { url: Type.Optional(Url), events: Type.Optional(EventFilter), description: Type.Optional(Description), enabled: Type.Optional(Type.Boolean()), secret: Type.Optional(Secret) },
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateEndpointInput = Static<typeof UpdateEndpointBody>;

export const EndpointQuery = Type.Object(PageFields, { additionalProperties: false });

export const DeliveryQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')])),
    limit: PageFields.limit,
    after: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'the last delivery id of the previous page' })),
  },
  { additionalProperties: false },
);

export const Endpoint = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  description: Description,
  enabled: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});

/** The creation response, the only one that shows the secret. */
export const CreatedEndpoint = Type.Composite([Endpoint, Type.Object({ secret: Type.String() })]);

export const Delivery = Type.Object({
  id: Type.String(),
  endpoint_id: Type.String(),
  event_id: Type.String(),
  event_type: Type.String(),
  status: Type.String({ enum: ['pending', 'delivered', 'failed'] }),
  attempts: Type.Integer(),
  next_attempt_at: Type.Union([Timestamp, Type.Null()], { description: 'when the next attempt is due; null unless pending' }),
  last_attempt_at: Type.Union([Timestamp, Type.Null()]),
  last_status: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status of the last response, or null when none came' }),
  last_error: Type.Union([Type.String(), Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
  payload: Type.Object({}, { additionalProperties: true, description: 'the JSON body sent' }),
});

export const EndpointPage = Page(Endpoint);
export const DeliveryPage = Page(Delivery);

export function endpointJson(endpoint: WebhookEndpoint): Static<typeof Endpoint> {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    description: endpoint.description,
    enabled: endpoint.enabled,
    created_at: timestamp(endpoint.createdAt),
    updated_at: timestamp(endpoint.updatedAt),
  };
}

export function deliveryJson(delivery: WebhookDelivery): Static<typeof Delivery> {
  return {
    id: String(delivery.id),
    endpoint_id: delivery.endpointId,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    status: delivery.status,
    attempts: delivery.attempts,
    next_attempt_at: delivery.status === 'pending' ? timestamp(delivery.nextAttemptAt) : null,
    last_attempt_at: delivery.lastAttemptAt === null ? null : timestamp(delivery.lastAttemptAt),
    last_status: delivery.lastStatus,
    last_error: delivery.lastError,
    created_at: timestamp(delivery.createdAt),
    updated_at: timestamp(delivery.updatedAt),
    payload: JSON.parse(delivery.payload) as Record<string, unknown>,
  };
}
