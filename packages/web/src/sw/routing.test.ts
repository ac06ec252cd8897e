import { describe, expect, it } from 'vitest';
import { cacheName, CACHE_PREFIX, strategyFor } from './routing.js';

const ORIGIN = 'https://chat.example.org';
const PRECACHED = new Set(['/index.html', '/manifest.webmanifest', '/icons/icon-192.png']);

function strategy(path: string, options: { method?: string; mode?: string; origin?: string } = {}) {
  const url = `${options.origin ?? ORIGIN}${path}`;
  return strategyFor({ url, method: options.method ?? 'GET', mode: options.mode ?? 'cors' }, ORIGIN, PRECACHED);
}

describe('service worker routing', () => {
  it('bypasses the server endpoints', () => {
    for (const path of ['/xmpp-websocket', '/http-bind', '/http-bind/x', '/api/v1/registration', '/api', '/upload/abc/file.png', '/.well-known/host-meta', '/health']) {
      expect(strategy(path), path).toBe('bypass');
      expect(strategy(path, { mode: 'navigate' }), `${path} as a navigation`).toBe('bypass');
    }
  });

  it('bypasses other methods and origins', () => {
    expect(strategy('/assets/index-abc.js', { method: 'POST' })).toBe('bypass');
    expect(strategy('/assets/index-abc.js', { origin: 'https://cdn.example.org' })).toBe('bypass');
  });

  it('sends navigations to the shell', () => {
    expect(strategy('/', { mode: 'navigate' })).toBe('navigation');
    expect(strategy('/chats/alice@example.org', { mode: 'navigate' })).toBe('navigation');
    expect(strategy('/index.html', { mode: 'navigate' })).toBe('navigation');
  });

  it('serves assets and the shell from the cache', () => {
    expect(strategy('/assets/index-abc.js')).toBe('cache-first');
    expect(strategy('/assets/shared-worker-def.js')).toBe('cache-first');
    expect(strategy('/icons/icon-192.png')).toBe('cache-first');
    expect(strategy('/manifest.webmanifest')).toBe('cache-first');
  });

  it('tries the network first for other files', () => {
    expect(strategy('/robots.txt')).toBe('network-first');
    expect(strategy('/apiary.json')).toBe('network-first');
    expect(strategy('/uploads.txt')).toBe('network-first');
  });

  it('names caches by version', () => {
    expect(cacheName('abc')).toBe(`${CACHE_PREFIX}abc`);
    expect(cacheName('abc')).not.toBe(cacheName('abd'));
  });
});
