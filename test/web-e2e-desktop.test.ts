import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { NS, x } from '@parley/xmpp';
import { keepOnLoopback } from './support/browser.js';
import { TestClient } from './support/client.js';
import { createRoom, roomJid } from './support/muc.js';
import { conversationRow, messagesWithBody, signIn, startWebSocketCutter, watch, type PageProblems, type WebSocketCutter, useWebE2e } from './support/web-e2e.js';

// The client as a desktop app in Debian's Chromium. It covers the manifest and the service
// worker, desktop notifications shown through the worker's registration (muted, do-not-disturb
// and privacy cases), the unread count in the title and on the app badge, reopening offline on
// the stored conversations, and the prompt for a new version. alice's page goes through a proxy
// that can cut WebSockets, so her connection fails whichever workers Playwright's offline mode reaches.
const PASSWORD = 'desktop-password';
const STEP_MS = 15_000;
/** Reconnecting waits for the backoff (1 s base, doubling, full jitter, 60 s cap). */
const RECONNECT_MS = 75_000;
const SENDERS = ['bob', 'carol', 'dave', 'erin'] as const;

let cutter: WebSocketCutter;
const problems: PageProblems = { errors: [] };
const senders = new Map<string, TestClient>();

const env = useWebE2e({ users: ['alice', 'zed', ...SENDERS], password: PASSWORD });

beforeAll(async () => {
  for (const user of SENDERS) senders.set(user, await TestClient.connect(env.server, { username: user, password: PASSWORD }));
  cutter = await startWebSocketCutter(env.server.httpPort);
}, 150_000);

afterAll(async () => {
  for (const client of senders.values()) await client.close();
  await cutter?.close();
});

const jidOf = (user: string): string => `${user}@${env.server.domain}`;

function say(user: (typeof SENDERS)[number], body: string): void {
  senders.get(user)!.send(x('message', NS.CLIENT, { to: jidOf('alice'), type: 'chat', id: `${user}-${Date.now()}` }, x('body', NS.CLIENT, {}, body)));
}

interface ShownNotification {
  title: string;
  body: string;
  tag: string;
  icon: string;
  badge: string;
  conversation: unknown;
}

/** Lists the notifications the service worker registration shows for `conversation`. */
function notificationsOf(page: Page, conversation: string): Promise<ShownNotification[]> {
  return page.evaluate(async (tag) => {
    const registration = await navigator.serviceWorker.ready;
    const shown = await registration.getNotifications({ tag });
    return shown.map((item) => ({ title: item.title, body: item.body, tag: item.tag, icon: item.icon, badge: item.badge, conversation: (item.data as { conversation?: unknown } | null)?.conversation }));
  }, conversation);
}

interface BadgeRecord {
  supported: boolean;
  calls: (number | 'clear')[];
}

/** Records the page's calls of navigator.setAppBadge and clearAppBadge, where Chromium has them. */
async function recordBadgeCalls(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const record = { supported: typeof navigator.setAppBadge === 'function', calls: [] as (number | 'clear')[] };
    (window as unknown as { badgeRecord: typeof record }).badgeRecord = record;
    if (!record.supported) return;
    const set = navigator.setAppBadge.bind(navigator);
    const clear = navigator.clearAppBadge.bind(navigator);
    navigator.setAppBadge = (count?: number) => {
      record.calls.push(count ?? 0);
      return set(count);
    };
    navigator.clearAppBadge = () => {
      record.calls.push('clear');
      return clear();
    };
  });
}

function badgeRecord(page: Page): Promise<BadgeRecord> {
  return page.evaluate(() => (window as unknown as { badgeRecord: BadgeRecord }).badgeRecord);
}

function connectionStatus(page: Page): Promise<string | null> {
  return page.getByTestId('main-layout').getAttribute('data-connection-status');
}

/** Waits until the row of `user` (or of the conversation `jid`) shows `text` as its last message, so the message has been handled. */
async function waitForPreview(page: Page, user: string, text: string, jid = jidOf(user)): Promise<void> {
  await expect.poll(() => conversationRow(page, jid).textContent(), { timeout: STEP_MS }).toContain(text);
}

describe('web client as a desktop app', () => {
  let context: BrowserContext;
  let alice: Page;

  it('serves the manifest, the worker and the icons', async () => {
    const manifestResponse = await fetch(`${env.origin}/manifest.webmanifest`);
    expect(manifestResponse.status).toBe(200);
    expect(manifestResponse.headers.get('content-type')).toBe('application/manifest+json');
    expect(manifestResponse.headers.get('cache-control')).toBe('no-cache');
    const manifest = (await manifestResponse.json()) as Record<string, unknown> & { icons: { src: string; sizes: string; purpose: string }[] };
    expect(manifest).toMatchObject({ name: 'Parley', short_name: 'Parley', start_url: '/', scope: '/', display: 'standalone', categories: ['communication'], lang: 'en', dir: 'ltr' });
    expect(manifest.theme_color).toMatch(/^#[0-9a-f]{6}$/);
    expect(manifest.background_color).toMatch(/^#[0-9a-f]{6}$/);
    expect(manifest.icons.map((icon) => `${icon.sizes} ${icon.purpose}`)).toEqual(expect.arrayContaining(['192x192 any', '512x512 any', '512x512 maskable']));

    for (const icon of manifest.icons.filter((item) => item.src.endsWith('.png'))) {
      const response = await fetch(`${env.origin}${icon.src}`);
      expect(response.status, icon.src).toBe(200);
      expect(response.headers.get('content-type'), icon.src).toBe('image/png');
    }

    const worker = await fetch(`${env.origin}/sw.js`);
    expect(worker.status).toBe(200);
    expect(worker.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(worker.headers.get('cache-control')).toBe('no-cache');
    const source = await worker.text();
    expect(source).toContain('/index.html');
    expect(source).toMatch(/\/assets\/index-[\w-]+\.js/);
    expect(source).not.toMatch(/\.map"/);

    const html = await (await fetch(`${env.origin}/`)).text();
    expect(html).toContain('rel="manifest" href="/manifest.webmanifest"');
    expect(html).toContain('rel="apple-touch-icon"');
    expect(html).toContain('name="theme-color"');
  });

  it('registers a worker that controls the page', async () => {
    context = await env.browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 700 } });
    const blocked = await keepOnLoopback(context);
    await context.grantPermissions(['notifications'], { origin: cutter.origin });
    await recordBadgeCalls(context);
    alice = await context.newPage();
    watch(alice, problems, blocked);
    await alice.goto(`${cutter.origin}/`);
    await signIn(alice, jidOf('alice'), PASSWORD, STEP_MS);

    await expect.poll(() => alice.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? ''), { timeout: STEP_MS }).toBe(`${cutter.origin}/sw.js`);
    const cacheNames = await alice.evaluate(() => caches.keys());
    expect(cacheNames).toHaveLength(1);
    expect(cacheNames[0]).toMatch(/^parley-shell-[0-9a-f]{16}$/);
    expect(await alice.evaluate(() => Notification.permission)).toBe('granted');
  });

  it('meets the install criteria', async () => {
    // Chromium's own check behind the install prompt: manifest, icons and a worker with a fetch handler.
    const session = await context.newCDPSession(alice);
    try {
      const manifest = (await session.send('Page.getAppManifest')) as { url: string; errors: unknown[] };
      expect(manifest.url).toBe(`${cutter.origin}/manifest.webmanifest`);
      expect(manifest.errors).toEqual([]);
      const installability = (await session.send('Page.getInstallabilityErrors')) as { installabilityErrors: { errorId: string }[] };
      // Playwright's contexts are incognito, where Chromium never installs apps; nothing else may fail.
      expect(installability.installabilityErrors.map((error) => error.errorId).filter((id) => id !== 'in-incognito')).toEqual([]);
    } finally {
      await session.detach();
    }
  });

  it('notifies about a message in another conversation', async () => {
    await alice.goto(`${cutter.origin}/#/chats/${encodeURIComponent(jidOf('zed'))}`);
    await alice.getByTestId('composer-input').waitFor({ timeout: STEP_MS });

    say('bob', 'hello from bob');
    await expect.poll(() => notificationsOf(alice, jidOf('bob')), { timeout: STEP_MS }).toHaveLength(1);
    const [shown] = await notificationsOf(alice, jidOf('bob'));
    expect(shown?.title).toBe('bob');
    expect(shown?.body).toBe('hello from bob');
    expect(shown?.icon).toBe(`${cutter.origin}/icons/icon-192.png`);
    expect(shown?.badge).toBe(`${cutter.origin}/icons/badge-96.png`);
    expect(shown?.conversation).toBe(jidOf('bob'));
    await expect.poll(() => alice.title(), { timeout: STEP_MS }).toBe('(1) Parley');
  });

  it('updates the notification and the count', async () => {
    say('bob', 'second from bob');
    await expect.poll(() => alice.title(), { timeout: STEP_MS }).toBe('(2) Parley');
    await expect.poll(async () => (await notificationsOf(alice, jidOf('bob'))).map((item) => item.body), { timeout: STEP_MS }).toEqual(['second from bob']);

    const badge = await badgeRecord(alice);
    if (badge.supported) expect(badge.calls.slice(-2)).toEqual([1, 2]);
  });

  it('clears both when the conversation is read', async () => {
    await conversationRow(alice, jidOf('bob')).click();
    await messagesWithBody(alice, 'second from bob').waitFor({ timeout: STEP_MS });
    await expect.poll(() => alice.title(), { timeout: STEP_MS }).toBe('Parley');
    await expect.poll(() => notificationsOf(alice, jidOf('bob')), { timeout: STEP_MS }).toEqual([]);

    const badge = await badgeRecord(alice);
    if (badge.supported) expect(badge.calls.at(-1)).toBe('clear');
  });

  it('skips a muted conversation', async () => {
    await alice.goto(`${cutter.origin}/#/chats/${encodeURIComponent(jidOf('zed'))}`);
    say('carol', 'carol before the mute');
    await expect.poll(() => notificationsOf(alice, jidOf('carol')), { timeout: STEP_MS }).toHaveLength(1);
    await expect.poll(() => alice.title(), { timeout: STEP_MS }).toBe('(1) Parley');

    const row = conversationRow(alice, jidOf('carol'));
    await row.hover();
    await row.getByTestId('conversation-mute').click();
    await expect.poll(() => row.getAttribute('data-muted'), { timeout: STEP_MS }).toBe('true');
    // Muted conversations do not count towards the total.
    await expect.poll(() => alice.title(), { timeout: STEP_MS }).toBe('Parley');
    await alice.evaluate(async (tag) => {
      const registration = await navigator.serviceWorker.ready;
      for (const item of await registration.getNotifications({ tag })) item.close();
    }, jidOf('carol'));

    say('carol', 'carol after the mute');
    await waitForPreview(alice, 'carol', 'carol after the mute');
    expect(await notificationsOf(alice, jidOf('carol'))).toEqual([]);
    expect(await alice.title()).toBe('Parley');
  });

  it('keeps quiet in do not disturb', async () => {
    await alice.getByTestId('presence-button').click();
    await alice.getByTestId('presence-dnd').check();
    await alice.getByTestId('presence-apply').click();
    await expect.poll(() => alice.getByTestId('own-presence').getAttribute('data-show'), { timeout: STEP_MS }).toBe('dnd');

    say('dave', 'dave while busy');
    await waitForPreview(alice, 'dave', 'dave while busy');
    expect(await notificationsOf(alice, jidOf('dave'))).toEqual([]);
    await expect.poll(() => alice.title(), { timeout: STEP_MS }).toBe('(1) Parley');

    await alice.getByTestId('presence-button').click();
    await alice.getByTestId('presence-available').check();
    await alice.getByTestId('presence-apply').click();
    await expect.poll(() => alice.getByTestId('own-presence').getAttribute('data-show'), { timeout: STEP_MS }).toBe('available');
  });

  it('hides the text when asked', async () => {
    await alice.getByTestId('nav-settings').click();
    await alice.getByTestId('settings-notification-preview').uncheck();

    say('erin', 'erin private words');
    await expect.poll(() => notificationsOf(alice, jidOf('erin')), { timeout: STEP_MS }).toHaveLength(1);
    const [shown] = await notificationsOf(alice, jidOf('erin'));
    expect(shown?.title).toBe('erin');
    expect(shown?.body).toBe('New message');
    expect(shown?.body).not.toContain('private');
    await expect.poll(() => alice.title(), { timeout: STEP_MS }).toBe('(2) Parley');

    await alice.screenshot({ path: '/tmp/parley-desktop-settings.en.png' });
    await alice.getByTestId('language-select').selectOption('zh-CN');
    await expect.poll(() => alice.title(), { timeout: STEP_MS }).toBe('(2) Parley');
    await alice.screenshot({ path: '/tmp/parley-desktop-settings.zh-CN.png' });
    await alice.getByTestId('language-select').selectOption('en');
  });

  it('shows the conversation of a clicked notification', async () => {
    const [worker] = context.serviceWorkers();
    expect(worker?.url()).toBe(`${cutter.origin}/sw.js`);
    // Headless Chromium has no notification to click, so the worker gets the event the click would fire.
    const dispatched = await worker!.evaluate(async (tag) => {
      const scope = globalThis as unknown as { registration: ServiceWorkerRegistration; dispatchEvent(event: Event): boolean };
      const EventClass = Reflect.get(globalThis, 'NotificationEvent') as new (type: string, init: { notification: Notification }) => Event;
      const [notification] = await scope.registration.getNotifications({ tag });
      if (!notification) return false;
      scope.dispatchEvent(new EventClass('notificationclick', { notification }));
      return true;
    }, jidOf('erin'));
    expect(dispatched).toBe(true);

    await expect.poll(() => alice.evaluate(() => location.hash), { timeout: STEP_MS }).toBe(`#/chats/${encodeURIComponent(jidOf('erin'))}`);
    await messagesWithBody(alice, 'erin private words').waitFor({ timeout: STEP_MS });
    await expect.poll(() => notificationsOf(alice, jidOf('erin')), { timeout: STEP_MS }).toEqual([]);
  });

  it('opens offline on the stored conversations', async () => {
    await alice.goto(`${cutter.origin}/#/chats/${encodeURIComponent(jidOf('bob'))}`);
    await messagesWithBody(alice, 'hello from bob').waitFor({ timeout: STEP_MS });

    cutter.cut();
    await context.setOffline(true);
    await alice.reload();

    await alice.getByTestId('main-layout').waitFor({ timeout: STEP_MS });
    await expect.poll(() => connectionStatus(alice), { timeout: STEP_MS }).not.toBe('online');
    expect(await alice.getByTestId('connection-status').isVisible()).toBe(true);
    await messagesWithBody(alice, 'hello from bob').waitFor({ timeout: STEP_MS });
    await messagesWithBody(alice, 'second from bob').waitFor({ timeout: STEP_MS });
    for (const user of SENDERS) await conversationRow(alice, jidOf(user)).waitFor({ timeout: STEP_MS });
    await alice.screenshot({ path: '/tmp/parley-desktop-offline.png' });
  }, 60_000);

  it('reconnects when the network is back', async () => {
    await context.setOffline(false);
    cutter.restore();
    await expect.poll(() => connectionStatus(alice), { timeout: RECONNECT_MS }).toBe('online');

    say('bob', 'back online');
    await messagesWithBody(alice, 'back online').waitFor({ timeout: STEP_MS });
  }, RECONNECT_MS + STEP_MS);

  it('offers a new version and reloads on consent', async () => {
    // A new build: the same files under a new version, so the worker script changes.
    const workerFile = path.join(env.buildDir, 'sw.js');
    const source = await readFile(workerFile, 'utf8');
    const oldVersion = /version:\s*"([0-9a-f]{16})"/.exec(source)?.[1] ?? '';
    expect(oldVersion).toMatch(/^[0-9a-f]{16}$/);
    const newVersion = [...oldVersion].reverse().join('');
    await writeFile(workerFile, source.replace(oldVersion, newVersion));

    await alice.evaluate(async () => (await navigator.serviceWorker.ready).update());
    await alice.getByTestId('update-prompt').waitFor({ timeout: STEP_MS });
    // The new version has stored its shell but waits: the old one stays in charge until the user agrees.
    expect((await alice.evaluate(() => caches.keys())).sort()).toEqual([`parley-shell-${newVersion}`, `parley-shell-${oldVersion}`].sort());
    expect(await alice.evaluate(async () => (await navigator.serviceWorker.ready).waiting?.state)).toBe('installed');
    await alice.screenshot({ path: '/tmp/parley-desktop-update.en.png' });

    const reloaded = alice.waitForEvent('load', { timeout: STEP_MS });
    await alice.getByTestId('update-reload').click();
    await reloaded;
    await expect.poll(() => alice.evaluate(() => caches.keys()), { timeout: STEP_MS }).toEqual([`parley-shell-${newVersion}`]);
    await alice.getByTestId('main-layout').waitFor({ timeout: STEP_MS });
    expect(await alice.getByTestId('update-prompt').count()).toBe(0);
  }, 60_000);

  it('lets group mentions through do not disturb', async () => {
    // The reloads above started a new notifier, so its rate limit starts from zero.
    const room = roomJid('desktop-room');
    const bob = senders.get('bob')!;
    await createRoom(bob, `${room}/bob`);
    bob.send(x('message', NS.CLIENT, { to: jidOf('alice') }, x('x', 'jabber:x:conference', { jid: room })));
    await alice.getByTestId('invitation-accept').click({ timeout: STEP_MS });
    await expect.poll(() => alice.getByTestId('chat-view').getAttribute('data-jid'), { timeout: STEP_MS }).toBe(room);

    await alice.goto(`${cutter.origin}/#/settings`);
    await alice.getByTestId('settings-mentions-in-dnd').check();
    // The privacy test turned the text off, and settings stay in localStorage.
    await alice.getByTestId('settings-notification-preview').check();
    await alice.getByTestId('presence-button').click();
    await alice.getByTestId('presence-dnd').check();
    await alice.getByTestId('presence-apply').click();
    await expect.poll(() => alice.getByTestId('own-presence').getAttribute('data-show'), { timeout: STEP_MS }).toBe('dnd');

    const groupMessage = (body: string) => x('message', NS.CLIENT, { to: room, type: 'groupchat', id: `group-${Date.now()}` }, x('body', NS.CLIENT, {}, body));
    bob.send(groupMessage('a plain group line'));
    await alice.getByTestId('nav-chats').click();
    await waitForPreview(alice, room.split('@')[0]!, 'a plain group line', room);
    expect(await notificationsOf(alice, room)).toEqual([]);

    bob.send(groupMessage('Alice, a question for you'));
    await expect.poll(() => notificationsOf(alice, room), { timeout: STEP_MS }).toHaveLength(1);
    const [shown] = await notificationsOf(alice, room);
    expect(shown?.title).toMatch(/^You were mentioned in /);
    expect(shown?.body).toBe('bob: Alice, a question for you');

    await alice.getByTestId('presence-button').click();
    await alice.getByTestId('presence-available').check();
    await alice.getByTestId('presence-apply').click();
    await expect.poll(() => alice.getByTestId('own-presence').getAttribute('data-show'), { timeout: STEP_MS }).toBe('available');
  });

  it('names the file of a file message', async () => {
    const url = `http://127.0.0.1:${env.server.httpPort}/upload/desktop/photo.png`;
    const oob = x('x', 'jabber:x:oob', {}, x('url', 'jabber:x:oob', {}, url));
    senders.get('dave')!.send(x('message', NS.CLIENT, { to: jidOf('alice'), type: 'chat', id: `dave-file-${Date.now()}` }, x('body', NS.CLIENT, {}, url), oob));

    await expect.poll(async () => (await notificationsOf(alice, jidOf('dave'))).map((item) => item.body), { timeout: STEP_MS }).toEqual(['[Image] photo.png']);
  });

  it('had no page errors', () => {
    // Chromium logs refused WebSockets and offline requests as console errors; only those are expected.
    const offlineNoise = /WebSocket connection to .* failed|net::ERR_INTERNET_DISCONNECTED|Failed to load resource/;
    expect(problems.errors.filter((error) => !offlineNoise.test(error))).toEqual([]);
  });
});
