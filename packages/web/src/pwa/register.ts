// Registers the service worker (/sw.js, built only by `vite build`) and follows its updates:
// a new version waits until the user agrees to reload (UpdatePrompt.vue).
import { reactive } from 'vue';
import { isOpenConversation, SKIP_WAITING } from '../sw/messages.js';

/** Checks for a new build at most this often while the page stays open. */
const UPDATE_CHECK_MS = 60 * 60 * 1000;

/** Set by the build (vite.config.ts), which emits /sw.js; the dev server has none. */
declare const __PARLEY_SERVICE_WORKER__: boolean;

export const serviceWorkerState = reactive({
  /** A new version is installed and waits for the user's consent. */
  updateReady: false,
});

let registration: ServiceWorkerRegistration | undefined;
let reloadOnChange = false;

function supported(): boolean {
  return typeof navigator !== 'undefined' && 'serviceWorker' in navigator;
}

/**
 * Registers /sw.js in builds. `openConversation` gets the conversation
 * of a clicked notification. Returns the registration, or undefined where there is none.
 */
export async function registerServiceWorker(openConversation: (jid: string) => void): Promise<ServiceWorkerRegistration | undefined> {
  if (!supported() || !__PARLEY_SERVICE_WORKER__) return undefined;
  const container = navigator.serviceWorker;

  container.addEventListener('message', (event: MessageEvent) => {
    if (isOpenConversation(event.data)) openConversation(event.data.conversation);
  });
  container.addEventListener('controllerchange', () => {
    if (reloadOnChange) location.reload();
  });

  try {
    registration = await container.register('/sw.js', { scope: '/', updateViaCache: 'none' });
  } catch (err) {
    console.warn('registering the service worker failed', err);
    return undefined;
  }
  followUpdates(registration);
  return registration;
}

/** Marks an update as ready once a new worker is installed while an older one controls the page. */
function followUpdates(current: ServiceWorkerRegistration): void {
  const check = (): void => {
    if (current.waiting && navigator.serviceWorker.controller) serviceWorkerState.updateReady = true;
  };
  check();
  current.addEventListener('updatefound', () => {
    const installing = current.installing;
    installing?.addEventListener('statechange', () => {
      if (installing.state === 'installed') check();
    });
  });

  let lastCheck = Date.now();
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState !== 'visible' || Date.now() - lastCheck < UPDATE_CHECK_MS) return;
    lastCheck = Date.now();
    current.update().catch((err: unknown) => console.warn('checking for a new version failed', err));
  });
}

/** Activates the waiting version; the page reloads once it takes control. */
export function applyUpdate(): void {
  const waiting = registration?.waiting;
  if (!waiting) {
    location.reload();
    return;
  }
  reloadOnChange = true;
  waiting.postMessage(SKIP_WAITING);
}

/** Returns the active registration for notifications, or undefined without a service worker. */
export async function activeRegistration(): Promise<ServiceWorkerRegistration | undefined> {
  if (!supported() || !registration) return undefined;
  return registration.active ? registration : navigator.serviceWorker.ready;
}
