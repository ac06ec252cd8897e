import { type Element, NS, XmlParseError, escapeAttr, parseFrame, serialize } from '@parley/xmpp';
import { serializeStreamLevel } from '../stream-level.js';

export const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
export const NS_XBOSH = 'urn:xmpp:xbosh';
/** The XEP-0124 version this server speaks. */
export const BOSH_VERSION = '1.11';

/** Terminal binding conditions of XEP-0124 section 17.2 that Parley sends. */
export type BoshCondition = 'bad-request' | 'host-unknown' | 'item-not-found' | 'policy-violation' | 'remote-stream-error' | 'system-shutdown' | 'internal-server-error';

/** A terminal binding error, sent as `<body type='terminate' condition/>` in the response to the request. */
export class BoshError extends Error {
  constructor(
    readonly condition: BoshCondition,
    message: string,
  ) {
    super(message);
    this.name = 'BoshError';
  }
}

/** Parses a request body: exactly one `<body/>` in the httpbind namespace. Throws BoshError. */
export function parseBody(text: string, maxBytes: number): Element {
  const withoutDeclaration = text.replace(/^\s*<\?xml[^>]*\?>/, '');
  let body: Element;
  try {
    body = parseFrame(withoutDeclaration, { maxStanzaBytes: maxBytes });
  } catch (err) {
    if (!(err instanceof XmlParseError)) throw err;
    throw new BoshError(err.condition === 'policy-violation' ? 'policy-violation' : 'bad-request', `The request body is not acceptable XML: ${err.message}`);
  }
  if (body.name !== 'body' || body.ns !== NS_HTTPBIND) throw new BoshError('bad-request', `The request must be a <body/> in ${NS_HTTPBIND}.`);
  return body;
}

/** Reads an attribute in the XEP-0206 namespace (`xmpp:version`, `xmpp:restart`), whatever prefix the client chose. */
export function xboshAttr(body: Element, name: string): string | undefined {
  for (const [key, value] of Object.entries(body.attrs)) {
    if (key.startsWith('xmlns:') && value === NS_XBOSH) return body.attr(`${key.slice(6)}:${name}`);
  }
  return undefined;
}

/** Reads a non-negative integer attribute; undefined when absent, NaN when malformed. */
export function integerAttr(body: Element, name: string): number | undefined {
  const text = body.attr(name);
  if (text === undefined) return undefined;
  return /^\d{1,16}$/.test(text) ? Number(text) : NaN;
}

/** Serializes one payload for a response body: stream-level elements with the `stream:` prefix, stanzas with their namespace. */
export function serializePayload(element: Element): string {
  return element.ns === NS.STREAM ? serializeStreamLevel(element, false) : serialize(element, '');
}

/** Builds a response `<body/>` around already serialized payloads. */
export function responseBody(attrs: Record<string, string | number | undefined>, payloads: string[] = []): string {
  let open = `<body xmlns="${NS_HTTPBIND}" xmlns:xmpp="${NS_XBOSH}" xmlns:stream="${NS.STREAM}"`;
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined) open += ` ${key}="${escapeAttr(String(value))}"`;
  }
  if (payloads.length === 0) return `${open}/>`;
  return `${open}>${payloads.join('')}</body>`;
}

/** Builds the response that ends a session, with a terminal binding condition or without one. */
export function terminateBody(condition: BoshCondition | undefined, payloads: string[] = []): string {
  return responseBody({ type: 'terminate', condition }, payloads);
}
