/**
 * The headers of a webhook request. The signature is HMAC-SHA256 with the endpoint's
 * secret over `timestamp + "." + body`, where timestamp is the `Parley-Timestamp` header
 * (Unix seconds at the attempt) and body the raw request body. A receiver recomputes it,
 * compares in constant time and rejects timestamps far from its clock, which stops replays.
 */
import { createHmac } from 'node:crypto';

export const HEADER_EVENT = 'parley-event';
export const HEADER_EVENT_ID = 'parley-event-id';
export const HEADER_DELIVERY = 'parley-delivery';
export const HEADER_ATTEMPT = 'parley-attempt';
export const HEADER_TIMESTAMP = 'parley-timestamp';
export const HEADER_SIGNATURE = 'parley-signature';

/** Version prefix of the signature value, so that the scheme can change without ambiguity. */
const SIGNATURE_VERSION = 'v1';

/** Returns the signature header value: `v1=` and the hex HMAC-SHA256 of `timestamp.body`. */
export function signBody(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `${SIGNATURE_VERSION}=${mac}`;
}

export interface SignedRequestFields {
  eventType: string;
  eventId: string;
  deliveryId: number;
  /** 1 for the first attempt. */
  attempt: number;
  body: string;
  secret: string;
  /** Milliseconds since the Unix epoch. */
  now: number;
}

/** Builds the headers of one attempt. */
export function signedHeaders(fields: SignedRequestFields): Record<string, string> {
  const timestamp = Math.floor(fields.now / 1000);
  return {
    'content-type': 'application/json',
    'user-agent': 'Parley-Webhooks/1',
    [HEADER_EVENT]: fields.eventType,
    [HEADER_EVENT_ID]: fields.eventId,
    [HEADER_DELIVERY]: String(fields.deliveryId),
    [HEADER_ATTEMPT]: String(fields.attempt),
    [HEADER_TIMESTAMP]: String(timestamp),
    [HEADER_SIGNATURE]: signBody(fields.secret, timestamp, fields.body),
  };
}
