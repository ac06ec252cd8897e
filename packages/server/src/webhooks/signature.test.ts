import { describe, expect, it } from 'vitest';
import { HEADER_SIGNATURE, HEADER_TIMESTAMP, signBody, signedHeaders } from './signature.js';

describe('signBody', () => {
  it('matches HMAC-SHA256 over timestamp.body (computed with openssl)', () => {
    expect(signBody('whsec_test', 1_700_000_000, '{"id":"evt_1"}')).toBe('v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925');
  });
});

describe('signedHeaders', () => {
  it('signs with the timestamp header in seconds', () => {
    const headers = signedHeaders({ eventType: 'account/created', eventId: 'evt_1', deliveryId: 7, attempt: 1, body: '{"id":"evt_1"}', secret: 'whsec_test', now: 1_700_000_000_999 });
    expect(headers[HEADER_TIMESTAMP]).toBe('1700000000');
    expect(headers[HEADER_SIGNATURE]).toBe(signBody('whsec_test', 1_700_000_000, '{"id":"evt_1"}'));
  });
});
