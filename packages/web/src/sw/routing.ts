// The strategy the service worker uses for each request. Pure, so it is tested without a browser.

/**
 * - `bypass`: the worker does not respond, so the browser goes to the network as without it
 *   (the XMPP endpoints, the API, uploads, other origins and everything but GET).
 * - `navigation`: the network first; without it the cached index.html, so client routes open offline.
 * - `cache-first`: files whose content never changes under their name (hashed /assets/) or
 *   that belong to the precached shell; the network only on a cache miss.
 * - `network-first`: any other GET of this origin, with the cache as the fallback.
 */
export type Strategy = 'bypass' | 'navigation' | 'cache-first' | 'network-first';

/** Path prefixes other parts of the server own. Their responses are live data and are never cached. */
const NEVER_CACHED = ['/xmpp-websocket', '/http-bind', '/api/', '/upload/', '/.well-known/', '/health'];

export interface RequestInfo {
  url: string;
  method: string;
  mode: string;
}

/** Matches a prefix as a whole path segment: '/api/' covers '/api' and '/api/x', never '/apiary'. */
export function isNeverCached(pathname: string): boolean {
  return NEVER_CACHED.some((prefix) => {
    const base = prefix.replace(/\/$/, '');
    return pathname === base || pathname.startsWith(`${base}/`);
  });
}

/** Picks the strategy for `request` in a worker at `origin` whose shell is `precached` (paths). */
export function strategyFor(request: RequestInfo, origin: string, precached: ReadonlySet<string>): Strategy {
  if (request.method !== 'GET') return 'bypass';

  const url = new URL(request.url);
  if (url.origin !== origin || isNeverCached(url.pathname)) return 'bypass';

  if (request.mode === 'navigate') return 'navigation';
  if (url.pathname.startsWith('/assets/') || precached.has(url.pathname)) return 'cache-first';
  return 'network-first';
}

/** The cache of one build; a new build gets a new name, and activation deletes the others. */
export const CACHE_PREFIX = 'parley-shell-';

export function cacheName(version: string): string {
  return `${CACHE_PREFIX}${version}`;
}
