/**
 * Finds the XMPP domain of the server that serves this client, to complete a bare user name
 * (`alice` becomes `alice@<domain>`): the `domain` of `GET /api/v1/registration` when the server
 * sends it, else the host of the WebSocket URL in host-meta (XEP-0156), else the page's host.
 */
const WEBSOCKET_REL = 'urn:xmpp:alt-connections:websocket';
const DOMAIN = /^[^@/\s:]+$/;

const found = new Map<string, Promise<string>>();

/** Returns the domain served at `origin` (an http(s) origin); looked up once per origin. */
export function servedDomain(origin: string, fetchImpl: typeof fetch = fetch): Promise<string> {
  let domain = found.get(origin);
  if (!domain) {
    domain = discover(origin, fetchImpl);
    found.set(origin, domain);
  }
  return domain;
}

/** Appends the domain served at `server` to an input without `@`; leaves full addresses as they are. */
export async function completeJid(input: string, server: string, fetchImpl: typeof fetch = fetch): Promise<string> {
  const text = input.trim();
  if (text === '' || text.includes('@')) return text;
  return `${text}@${await servedDomain(httpOrigin(server), fetchImpl)}`;
}

/** Maps what the user typed as the server (http(s) origin or ws(s) URL) to its HTTP origin. */
export function httpOrigin(server: string): string {
  const url = new URL(server.includes('://') ? server : `http://${server}`);
  if (url.protocol === 'wss:') url.protocol = 'https:';
  if (url.protocol === 'ws:') url.protocol = 'http:';
  return url.origin;
}

async function discover(origin: string, fetchImpl: typeof fetch): Promise<string> {
  const registration = await readJson<{ domain?: unknown }>(new URL('/api/v1/registration', origin), fetchImpl);
  if (typeof registration?.domain === 'string' && DOMAIN.test(registration.domain)) return registration.domain.toLowerCase();

  const hostMeta = await readJson<{ links?: { rel?: unknown; href?: unknown }[] }>(new URL('/.well-known/host-meta.json', origin), fetchImpl);
  const href = hostMeta?.links?.find((link) => link.rel === WEBSOCKET_REL)?.href;
  const fromLink = typeof href === 'string' ? hostOf(href) : undefined;
  return fromLink ?? new URL(origin).hostname;
}

async function readJson<T>(url: URL, fetchImpl: typeof fetch): Promise<T | undefined> {
  try {
    const response = await fetchImpl(url, { headers: { accept: 'application/json' } });
    return response.ok ? ((await response.json()) as T) : undefined;
  } catch {
    return undefined;
  }
}

function hostOf(href: string): string | undefined {
  try {
    return new URL(href).hostname || undefined;
  } catch {
    return undefined;
  }
}
