/** Webhooks: signed HTTP deliveries of account events from a durable queue. */
export { WebhookUrlError, isPublicAddress, parseWebhookUrl } from './address-policy.js';
export { type EndpointInput, addEndpoint, checkedUrl, unknownEventType } from './endpoints.js';
export { ACCOUNT_EVENT_TYPES, PING_EVENT_TYPE, WEBHOOK_EVENT_TYPES, enqueueAccountEvent } from './events.js';
export type { AccountEventType, AccountWebhookEvent } from './events.js';
export { HEADER_ATTEMPT, HEADER_DELIVERY, HEADER_EVENT, HEADER_EVENT_ID, HEADER_SIGNATURE, HEADER_TIMESTAMP, signBody } from './signature.js';
export { WebhookService, attachWebhooks, webhooksOf } from './service.js';
