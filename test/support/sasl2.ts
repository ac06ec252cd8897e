/** A SASL2 (XEP-0388) test client: SCRAM and HT-* (FAST) logins with inline requests, over a RawConnection. */
import { createHmac, randomUUID } from 'node:crypto';
import { type Element, NS, x } from '@parley/xmpp';
import type { RawConnection } from './raw.js';
import { type ChannelBindingName, ScramClient, clientChannelBinding } from './scram-client.js';

export const NS_SASL2 = 'urn:xmpp:sasl:2';
export const NS_BIND2 = 'urn:xmpp:bind:0';
export const NS_FAST = 'urn:xmpp:fast:0';
export const NS_CARBONS = 'urn:xmpp:carbons:2';

/** The HT channel binding suffixes by binding type (draft-schmaus-kitten-sasl-ht). */
const HT_TYPES: Record<string, ChannelBindingName | undefined> = { NONE: undefined, EXPR: 'tls-exporter', ENDP: 'tls-server-end-point', UNIQ: 'tls-unique' };

/** Waits for the end of a SASL2 step: `<challenge/>`, `<success/>` or `<failure/>`. */
export function nextSasl2Step(connection: RawConnection, timeoutMs = 5000): Promise<Element> {
  return connection.next((el) => el.ns === NS_SASL2 && ['challenge', 'success', 'failure', 'continue'].includes(el.name), timeoutMs);
}

/** Returns the condition of a SASL2 `<failure/>`, or undefined for another element. */
export function sasl2Failure(el: Element): string | undefined {
  if (el.name !== 'failure' || el.ns !== NS_SASL2) return undefined;
  return el.elements().find((child) => child.ns === NS.SASL)?.name;
}

/** Builds `<user-agent/>` with an id, a software name and a device. */
export function userAgent(id: string = randomUUID()): Element {
  return x('user-agent', NS_SASL2, { id }, x('software', NS_SASL2, {}, 'Parley tests'), x('device', NS_SASL2, {}, 'vitest'));
}

/** Builds a Bind 2 request with a tag and inline requests. */
export function bind2(tag: string | undefined, ...requests: Element[]): Element {
  return x('bind', NS_BIND2, {}, tag === undefined ? undefined : x('tag', NS_BIND2, {}, tag), ...requests);
}

/**
 * Authenticates with SCRAM-SHA-256 over SASL2, `inline` inside `<authenticate/>`, and returns
 * `<success/>` or `<failure/>`. Throws when the success carries a wrong server signature.
 */
export async function sasl2Scram(connection: RawConnection, username: string, password: string, inline: Element[]): Promise<Element> {
  const scram = new ScramClient({ hash: 'SHA-256', username, password });
  const initial = x('initial-response', NS_SASL2, {}, scram.clientFirst().toString('base64'));
  connection.send(x('authenticate', NS_SASL2, { mechanism: scram.mechanism }, initial, ...inline));
  const challenge = await nextSasl2Step(connection);
  if (challenge.name !== 'challenge') return challenge;

  const final = scram.clientFinal(Buffer.from(challenge.text(), 'base64'));
  connection.send(x('response', NS_SASL2, {}, final.toString('base64')));
  const outcome = await nextSasl2Step(connection);
  if (outcome.name === 'success') {
    const data = Buffer.from(outcome.getChildText('additional-data', NS_SASL2) ?? '', 'base64');
    if (!scram.verifyServerFinal(data)) throw new Error('the server signature in <success/> is wrong');
  }
  return outcome;
}

/** Computes the HMAC of an HT message, keyed with the token, over the label and the channel binding data. */
export function htHmac(token: string, label: string, bindingData: Buffer): Buffer {
  return createHmac('sha256', Buffer.from(token, 'utf8')).update(label).update(bindingData).digest();
}

/**
 * Authenticates with a FAST token and an HT-SHA-256-* mechanism; `fast` contains the attributes of
 * `<fast/>`. Returns `<success/>` or `<failure/>`; throws when the responder proof is wrong.
 */
export async function sasl2Fast(
  connection: RawConnection,
  options: { mechanism: string; username: string; token: string; inline: Element[]; fast?: Record<string, string> },
): Promise<Element> {
  const type = HT_TYPES[options.mechanism.replace('HT-SHA-256-', '')];
  const bindingData = type ? clientChannelBinding(connection.tlsSocket!, type) : Buffer.alloc(0);
  const message = Buffer.concat([Buffer.from(`${options.username}\0`, 'utf8'), htHmac(options.token, 'Initiator', bindingData)]);
  const initial = x('initial-response', NS_SASL2, {}, message.toString('base64'));
  const fast = x('fast', NS_FAST, options.fast ?? {});
  connection.send(x('authenticate', NS_SASL2, { mechanism: options.mechanism }, initial, fast, ...options.inline));
  const outcome = await nextSasl2Step(connection);
  if (outcome.name === 'success') {
    const data = Buffer.from(outcome.getChildText('additional-data', NS_SASL2) ?? '', 'base64');
    if (!data.equals(htHmac(options.token, 'Responder', bindingData))) throw new Error('the responder proof in <success/> is wrong');
  }
  return outcome;
}

/** Returns the `token` of the FAST `<token/>` in a `<success/>`, if any. */
export function issuedToken(success: Element): string | undefined {
  return success.getChild('token', NS_FAST)?.attr('token');
}
