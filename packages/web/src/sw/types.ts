// The parts of the service worker API that sw.ts uses. The client's tsconfig loads the DOM
// library, and adding the WebWorker library next to it would change the globals of every file,
// so the worker's scope and events are declared here instead (after the Service Workers spec).

export interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void;
}

export interface FetchEvent extends ExtendableEvent {
  readonly request: Request;
  respondWith(response: Response | Promise<Response>): void;
}

export interface ExtendableMessageEvent extends ExtendableEvent {
  readonly data: unknown;
}

export interface NotificationEvent extends ExtendableEvent {
  readonly notification: Notification;
  readonly action: string;
}

export interface WindowClient {
  readonly url: string;
  readonly focused: boolean;
  focus(): Promise<WindowClient>;
  postMessage(message: unknown): void;
}

export interface Clients {
  claim(): Promise<void>;
  matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<readonly WindowClient[]>;
  openWindow(url: string): Promise<WindowClient | null>;
}

interface ServiceWorkerEvents {
  install: ExtendableEvent;
  activate: ExtendableEvent;
  fetch: FetchEvent;
  message: ExtendableMessageEvent;
  notificationclick: NotificationEvent;
}

export interface ServiceWorkerScope {
  readonly location: Location;
  readonly clients: Clients;
  readonly registration: ServiceWorkerRegistration;
  readonly caches: CacheStorage;
  skipWaiting(): Promise<void>;
  addEventListener<K extends keyof ServiceWorkerEvents>(type: K, listener: (event: ServiceWorkerEvents[K]) => void): void;
}

/** The app shell the build injects: every file to precache and a version made from their contents. */
export interface PrecacheManifest {
  version: string;
  urls: string[];
}
