import { type Element, NS, x } from '@parley/xmpp';

export const EXTERNAL = 'EXTERNAL';

/** True when stream features offer SASL EXTERNAL. */
export function offersExternal(features: Element): boolean {
  const mechanisms = features.getChild('mechanisms', NS.SASL);
  return mechanisms?.getChildren('mechanism', NS.SASL).some((mechanism) => mechanism.text() === EXTERNAL) ?? false;
}

/** Builds the mechanisms feature that offers only EXTERNAL. */
export function externalFeature(): Element {
  return x('mechanisms', NS.SASL, {}, x('mechanism', NS.SASL, {}, EXTERNAL));
}

/** Builds `<auth/>` for EXTERNAL with our domain as the authorization identity (RFC 6120). */
export function externalAuth(domain: string): Element {
  return x('auth', NS.SASL, { mechanism: EXTERNAL }, Buffer.from(domain, 'utf8').toString('base64'));
}

/**
 * Reads the authorization identity of an EXTERNAL `<auth/>`: the decoded initial response,
 * or undefined for an empty one ("="), which means the domain of the stream header.
 * Returns null when the payload is not valid base64.
 */
export function readAuthzid(auth: Element): string | undefined | null {
  const text = auth.text().trim();
  if (text === '' || text === '=') return undefined;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  return Buffer.from(text, 'base64').toString('utf8').toLowerCase();
}

/** Builds a SASL `<failure/>` with a defined condition and a text. */
export function saslFailure(condition: string, text: string): Element {
  return x('failure', NS.SASL, {}, x(condition, NS.SASL), x('text', NS.SASL, { 'xml:lang': 'en' }, text));
}
