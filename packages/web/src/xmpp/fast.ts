import { x, type XElement } from './element.js';
import { NS } from './ns.js';

/**
 * The one FAST mechanism a browser can use: WebSocket gives no access to TLS channel binding
 * data, so the HT variants with binding (-EXPR, -ENDP, -UNIQ) are out of reach.
 */
export const FAST_MECHANISM = 'HT-SHA-256-NONE';

/** A FAST token (XEP-0484) the server issued to this client, with its replay counter. */
export interface FastToken {
  mechanism: typeof FAST_MECHANISM;
  token: string;
  /** Expiry in milliseconds since the epoch. */
  expiry: number;
  /** The `count` of the last login attempt with this token; 0 before the first one. */
  count: number;
}

const encoder = new TextEncoder();

/** True when the SASL2 `<authentication/>` feature offers FAST with HT-SHA-256-NONE. */
export function fastOffered(authentication: XElement): boolean {
  const fast = authentication.getChild('inline', NS.SASL2)?.getChild('fast', NS.FAST);
  return !!fast?.getChildren('mechanism', NS.FAST).some((mechanism) => mechanism.text().trim() === FAST_MECHANISM);
}

/** True when `token` can still be used at `now` (milliseconds since the epoch). */
export function fastTokenUsable(token: FastToken | undefined, now = Date.now()): token is FastToken {
  return !!token && token.mechanism === FAST_MECHANISM && token.token !== '' && token.expiry > now;
}

/** Builds `<request-token/>`, which requests a token in the server's `<success/>`. */
export function requestTokenElement(): XElement {
  return x('request-token', NS.FAST, { mechanism: FAST_MECHANISM });
}

/** Builds the `<fast/>` element of a token login. With `invalidate`, the server deletes the token once the login succeeds. */
export function fastElement(count: number, invalidate = false): XElement {
  return x('fast', NS.FAST, { count, invalidate: invalidate ? 'true' : undefined });
}

/**
 * Computes the HT-SHA-256-NONE initial response: the username, a NUL byte, and the HMAC-SHA-256
 * keyed with the token over "Initiator" (no channel binding data follows with -NONE).
 */
export async function htInitialResponse(username: string, token: string): Promise<Uint8Array<ArrayBuffer>> {
  const name = encoder.encode(username);
  const proof = await htProof(token, 'Initiator');
  const message = new Uint8Array(name.length + 1 + proof.length);
  message.set(name, 0);
  message.set(proof, name.length + 1);
  return message;
}

/** Checks the server's proof in the `<additional-data/>` of a token login's success. */
export async function htResponderValid(token: string, data: Uint8Array): Promise<boolean> {
  const expected = await htProof(token, 'Responder');
  return data.length === expected.length && expected.every((byte, i) => byte === data[i]);
}

/** Reads the `<token/>` of a SASL2 `<success/>`; undefined when there is none or it is malformed. */
export function parseFastToken(success: XElement): FastToken | undefined {
  const element = success.getChild('token', NS.FAST);
  const token = element?.attr('token');
  const expiry = Date.parse(element?.attr('expiry') ?? '');
  if (!token || Number.isNaN(expiry)) return undefined;
  return { mechanism: FAST_MECHANISM, token, expiry, count: 0 };
}

async function htProof(token: string, label: 'Initiator' | 'Responder'): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(token), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(label)));
}
