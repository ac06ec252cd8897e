/**
 * Temporary TURN credentials of the TURN REST scheme (draft-uberti-behave-turn-rest), which
 * coturn checks with use-auth-secret. The username is "EXPIRY:JID" with EXPIRY in Unix
 * seconds. The password is the base64 HMAC-SHA1 of the username, keyed with the shared secret.
 */
import { createHmac } from 'node:crypto';
import { xmppStamp } from '../upload/quota.js';

export interface TurnCredentials {
  username: string;
  password: string;
  /** XEP-0082 time at which the credentials expire. */
  expires: string;
}

export function turnCredentials(secret: string, account: string, now: number, ttlSeconds: number): TurnCredentials {
  const expiry = Math.floor(now / 1000) + ttlSeconds;
  const username = `${expiry}:${account}`;
  const password = createHmac('sha1', secret).update(username, 'utf8').digest('base64');
  return { username, password, expires: xmppStamp(expiry * 1000) };
}
