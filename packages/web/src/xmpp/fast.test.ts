import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fromBase64 } from './base64.js';
import { x } from './element.js';
import { fastElement, fastOffered, fastTokenUsable, htInitialResponse, htResponderValid, parseFastToken, requestTokenElement, FAST_MECHANISM, type FastToken } from './fast.js';
import { NS } from './ns.js';
import { parseFrame } from './xml-parser.js';

// The HMAC is computed here with node:crypto, independently of the WebCrypto code under test.
function referenceProof(token: string, label: string): Buffer {
  return createHmac('sha256', Buffer.from(token, 'utf8')).update(label).digest();
}

function authentication(...mechanisms: string[]) {
  return x('authentication', NS.SASL2, {}, x('inline', NS.SASL2, {}, x('fast', NS.FAST, {}, ...mechanisms.map((name) => x('mechanism', NS.FAST, {}, name)))));
}

describe('HT-SHA-256-NONE', () => {
  it('sends username, NUL, and the initiator HMAC', async () => {
    const message = await htInitialResponse('alice', 'secret-token');
    const separator = message.indexOf(0);
    expect(new TextDecoder().decode(message.subarray(0, separator))).toBe('alice');
    expect(Buffer.from(message.subarray(separator + 1))).toEqual(referenceProof('secret-token', 'Initiator'));
  });

  it('accepts only the responder HMAC of the same token', async () => {
    expect(await htResponderValid('secret-token', referenceProof('secret-token', 'Responder'))).toBe(true);
    expect(await htResponderValid('secret-token', referenceProof('secret-token', 'Initiator'))).toBe(false);
    expect(await htResponderValid('secret-token', referenceProof('other-token', 'Responder'))).toBe(false);
    expect(await htResponderValid('secret-token', new Uint8Array(0))).toBe(false);
  });
});

describe('FAST elements', () => {
  it('detects the -NONE mechanism among those offered', () => {
    expect(fastOffered(authentication('HT-SHA-256-EXPR', 'HT-SHA-256-NONE'))).toBe(true);
    expect(fastOffered(authentication('HT-SHA-256-ENDP'))).toBe(false);
    expect(fastOffered(x('authentication', NS.SASL2))).toBe(false);
  });

  it('builds request-token and fast with count and invalidate', () => {
    expect(requestTokenElement().toString()).toBe(`<request-token xmlns="${NS.FAST}" mechanism="${FAST_MECHANISM}"/>`);
    expect(fastElement(3).toString()).toBe(`<fast xmlns="${NS.FAST}" count="3"/>`);
    expect(fastElement(4, true).toString()).toBe(`<fast xmlns="${NS.FAST}" count="4" invalidate="true"/>`);
  });

  it('parses the token of a success, with its expiry', () => {
    const success = parseFrame(
      `<success xmlns="${NS.SASL2}"><authorization-identifier>a@b/c</authorization-identifier><token xmlns="${NS.FAST}" token="WXZz" expiry="2030-03-12T14:36:15Z"/></success>`,
    );
    expect(parseFastToken(success)).toEqual({ mechanism: FAST_MECHANISM, token: 'WXZz', expiry: Date.UTC(2030, 2, 12, 14, 36, 15), count: 0 });
  });

  it('ignores a token without a token or with a bad expiry', () => {
    const noToken = x('success', NS.SASL2, {}, x('token', NS.FAST, { expiry: '2030-03-12T14:36:15Z' }));
    const badExpiry = x('success', NS.SASL2, {}, x('token', NS.FAST, { token: 'abc', expiry: 'soon' }));
    expect(parseFastToken(noToken)).toBeUndefined();
    expect(parseFastToken(badExpiry)).toBeUndefined();
    expect(parseFastToken(x('success', NS.SASL2))).toBeUndefined();
  });

  it('treats an expired or empty token as unusable', () => {
    const token: FastToken = { mechanism: FAST_MECHANISM, token: 'abc', expiry: 2_000, count: 1 };
    expect(fastTokenUsable(token, 1_000)).toBe(true);
    expect(fastTokenUsable(token, 2_000)).toBe(false);
    expect(fastTokenUsable({ ...token, token: '' }, 1_000)).toBe(false);
    expect(fastTokenUsable(undefined, 1_000)).toBe(false);
  });

  it('round-trips base64 of the initial response', async () => {
    const message = await htInitialResponse('bob', 't');
    const encoded = Buffer.from(message).toString('base64');
    expect(Buffer.from(fromBase64(encoded))).toEqual(Buffer.from(message));
  });
});
