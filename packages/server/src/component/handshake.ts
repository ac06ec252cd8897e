import { createHash, timingSafeEqual } from 'node:crypto';

/** Computes the handshake value of XEP-0114 section 3, the hex SHA-1 of the stream id followed by the secret. */
export function handshakeDigest(streamId: string, secret: string): string {
  return createHash('sha1').update(streamId + secret, 'utf8').digest('hex');
}

/** Checks a component's handshake in constant time; hex digits may come in either case. */
export function verifyHandshake(streamId: string, secret: string, received: string): boolean {
  const expected = Buffer.from(handshakeDigest(streamId, secret), 'utf8');
  const actual = Buffer.from(received.trim().toLowerCase(), 'utf8');
  if (actual.length !== expected.length) return false;
  return timingSafeEqual(actual, expected);
}
