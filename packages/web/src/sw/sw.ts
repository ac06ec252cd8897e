// The service worker (built to /sw.js by the plugin in vite.config.ts). It precaches the app
// shell of its build, so the client opens without a network, and it routes notification
// clicks to the conversation. It never touches the XMPP connection or the API (routing.ts).
import { conversationUrl, OPEN_CONVERSATION, SKIP_WAITING, type NotificationData, type OpenConversationMessage } from './messages.js';
import { cacheName, CACHE_PREFIX, strategyFor } from './routing.js';
import type { FetchEvent, PrecacheManifest, ServiceWorkerScope, WindowClient } from './types.js';

declare const __PARLEY_PRECACHE__: PrecacheManifest;
declare const self: ServiceWorkerScope;

const SHELL = '/index.html';
const precache = __PARLEY_PRECACHE__;
const precached = new Set(precache.urls);
const CACHE = cacheName(precache.version);

self.addEventListener('install', (event) => {
  // `reload` skips the HTTP cache, so the shell stored is the one this build served.
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(precache.urls.map((url) => new Request(url, { cache: 'reload' })))));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(deleteOldCaches().then(() => self.clients.claim()));
});

self.addEventListener('message', (event) => {
  // A new version waits until the user agrees to reload, so no page swaps code under the user.
  if (event.data === SKIP_WAITING) event.waitUntil(self.skipWaiting());
});

self.addEventListener('fetch', (event) => {
  const strategy = strategyFor(event.request, self.location.origin, precached);
  if (strategy === 'bypass') return;
  event.respondWith(answer(event, strategy));
});

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data as Partial<NotificationData> | null;
  event.waitUntil(showConversation(typeof data?.conversation === 'string' ? data.conversation : ''));
});

async function deleteOldCaches(): Promise<void> {
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE).map((name) => caches.delete(name)));
}

function answer(event: FetchEvent, strategy: 'navigation' | 'cache-first' | 'network-first'): Promise<Response> {
  switch (strategy) {
    case 'navigation':
      return fromNetwork(event.request).catch(() => fromCache(SHELL));
    case 'cache-first':
      return fromCache(event.request).catch(() => fromNetwork(event.request));
    case 'network-first':
      return fromNetwork(event.request).catch(() => fromCache(event.request));
  }
}

async function fromCache(request: Request | string): Promise<Response> {
  const cached = await caches.match(request, { cacheName: CACHE, ignoreSearch: typeof request === 'string' });
  if (!cached) throw new Error(`not in the cache: ${typeof request === 'string' ? request : request.url}`);
  return cached;
}

/** Fetches from the network. Only a network failure rejects, so the caller falls back; an HTTP error such as 404 is a response. */
function fromNetwork(request: Request): Promise<Response> {
  return fetch(request);
}

/** Focuses a window of the client and shows `conversation` in it, or opens a new window there. */
async function showConversation(conversation: string): Promise<void> {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const target = windows.find((client) => client.focused) ?? windows[0];
  if (!target) {
    await self.clients.openWindow(conversation ? conversationUrl(conversation) : '/');
    return;
  }

  const focused: WindowClient = await target.focus().catch(() => target);
  if (!conversation) return;
  const message: OpenConversationMessage = { type: OPEN_CONVERSATION, conversation };
  focused.postMessage(message);
}
