import { describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { JID } from '@parley/xmpp';
import { keepOnLoopback } from './support/browser.js';
import { useWebE2e } from './support/web-e2e.js';
import { delay } from './support/raw.js';

// The built web client, served by the server's HTTP listener, in Debian's Chromium: tabs of
// one account share one connection (a SharedWorker, or a leader tab without it).
const PASSWORD = 'browser-password';
const STEP_MS = 15_000;

const pageErrors: string[] = [];

const env = useWebE2e({ users: ['alice', 'bob', 'carol'], password: PASSWORD });

async function newContext(): Promise<{ context: BrowserContext; blocked: string[] }> {
  const context = await env.browser.newContext();
  const blocked = await keepOnLoopback(context);
  return { context, blocked };
}

async function openPage(context: BrowserContext, query: string): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  await page.goto(`${env.origin}/${query}`);
  return page;
}

async function signIn(context: BrowserContext, user: string, query = ''): Promise<Page> {
  const page = await openPage(context, query);
  await page.getByTestId('signin-jid').fill(`${user}@${env.server.domain}`);
  await page.getByTestId('signin-password').fill(PASSWORD);
  await page.getByTestId('signin-submit').click();
  await onlineLayout(page).waitFor({ timeout: STEP_MS });
  return page;
}

/** A further tab of the signed-in account: it joins the shared connection without the password. */
async function secondTab(context: BrowserContext, query = ''): Promise<Page> {
  const page = await openPage(context, query);
  await onlineLayout(page).waitFor({ timeout: STEP_MS });
  return page;
}

/** The signed-in screen while the connection is online. */
function onlineLayout(page: Page) {
  return page.locator('[data-testid="main-layout"][data-connection-status="online"]');
}

function sessionsOf(user: string): number {
  return env.server.server.sessions.resources(JID.parse(`${user}@${env.server.domain}`)).length;
}

describe('web client in Chromium', () => {
  it('shares one server session between two tabs through the SharedWorker', async () => {
    const { context, blocked } = await newContext();
    try {
      await signIn(context, 'alice');
      await secondTab(context);
      expect(sessionsOf('alice')).toBe(1);
      expect(blocked).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('ends the session when the last tab closes', async () => {
    const { context } = await newContext();
    try {
      const first = await signIn(context, 'carol');
      const second = await secondTab(context);
      await second.close({ runBeforeUnload: true });
      await delay(500);
      expect(sessionsOf('carol')).toBe(1);

      await first.close({ runBeforeUnload: true });
      // Contacts see carol leave now, not after the resumption timeout.
      await expect.poll(() => sessionsOf('carol'), { timeout: STEP_MS }).toBe(0);
      expect(env.server.server.resumableSessions.size).toBe(0);
    } finally {
      await context.close();
    }
  });

  it('leader tab shares and hands over', async () => {
    const { context, blocked } = await newContext();
    try {
      const leader = await signIn(context, 'bob', '?connection=leader');
      const follower = await secondTab(context, '?connection=leader');
      expect(sessionsOf('bob')).toBe(1);

      const first = env.server.server.sessions.resources(JID.parse(`bob@${env.server.domain}`));
      await leader.close();
      // The follower takes over with the keys the leader shared: a new session, no password asked.
      // Bind 2 gives it the same resource (same device), so compare the session objects.
      const newSessions = () => env.server.server.sessions.resources(JID.parse(`bob@${env.server.domain}`)).filter((session) => !first.includes(session));
      await expect.poll(() => newSessions().length, { timeout: STEP_MS }).toBe(1);
      await onlineLayout(follower).waitFor({ timeout: STEP_MS });
      expect(blocked).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
