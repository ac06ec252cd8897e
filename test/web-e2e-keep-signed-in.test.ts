import { describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { JID } from '@parley/xmpp';
import { upsertAccount } from '../packages/server/src/provisioning/accounts-service.js';
import { openDevice, signIn, watch, type PageProblems, useWebE2e } from './support/web-e2e.js';

// "Keep me signed in" in Debian's Chromium: a reload and a second tab reach the conversation
// list without the password, from the SCRAM keys stored in IndexedDB (never the password).
// Sign-out deletes them, and keys the server no longer accepts lead to "please sign in again".
const PASSWORD = 'keep-signed-in-password';
const STEP_MS = 15_000;

const problems: PageProblems = { errors: [] };

const env = useWebE2e({ users: ['alice', 'bob'], password: PASSWORD });

const jidOf = (user: string): string => `${user}@${env.server.domain}`;

function onlineLayout(page: Page) {
  return page.locator('[data-testid="main-layout"][data-connection-status="online"]');
}

interface StoredRow {
  jid: string;
  fields: string[];
  keyFields: string[];
  clientKeyLength: number;
}

/** Reads the stored sign-in rows straight from IndexedDB, as the browser holds them. */
function storedCredentials(page: Page): Promise<StoredRow[]> {
  return page.evaluate(
    () =>
      new Promise<StoredRow[]>((resolve, reject) => {
        const request = indexedDB.open('parley-credentials');
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const db = request.result;
          if (!db.objectStoreNames.contains('accounts')) {
            db.close();
            return resolve([]);
          }
          const all = db.transaction('accounts', 'readonly').objectStore('accounts').getAll();
          all.onerror = () => reject(all.error);
          all.onsuccess = () => {
            db.close();
            resolve(
              (all.result as { jid: string; keys: Record<string, unknown> & { clientKey: Uint8Array } }[]).map((row) => ({
                jid: row.jid,
                fields: Object.keys(row).sort(),
                keyFields: Object.keys(row.keys).sort(),
                clientKeyLength: row.keys.clientKey.length,
              })),
            );
          };
        };
      }),
  );
}

function resourcesOf(user: string): string[] {
  return env.server.server.sessions.resources(JID.parse(jidOf(user))).map((session) => session.jid!.resource);
}

describe('web client keeps the user signed in', () => {
  let context: BrowserContext;
  let alice: Page;

  it('stores the SCRAM keys, never the password, when signing in', async () => {
    ({ context, page: alice } = await openDevice(env.browser, `${env.origin}/`, problems));
    expect(await alice.getByTestId('signin-keep').isChecked()).toBe(true);
    await signIn(alice, jidOf('alice'), PASSWORD, STEP_MS);

    await expect.poll(() => storedCredentials(alice), { timeout: STEP_MS }).toHaveLength(1);
    const [row] = await storedCredentials(alice);
    // 'fast' is the FAST token the server issued at this SASL2 login.
    expect(row).toEqual({ jid: jidOf('alice'), fields: ['fast', 'jid', 'keys', 'savedAt', 'server'], keyFields: ['clientKey', 'hash', 'iterations', 'salt', 'serverKey'], clientKeyLength: 32 });
    const everything = JSON.stringify(await alice.evaluate(() => ({ ...localStorage })));
    expect(everything).not.toContain(PASSWORD);
  });

  it('reaches the conversation list after a reload without the password', async () => {
    await alice.reload();
    await onlineLayout(alice).waitFor({ timeout: STEP_MS });
    expect(await alice.getByTestId('signin-form').count()).toBe(0);
    expect(await alice.getByTestId('conversation-list').count()).toBe(1);
  });

  it('joins the live session in a second tab without the password', async () => {
    // The session from before the reload may still wait for resumption, so count new ones.
    const before = resourcesOf('alice');
    const second = await context.newPage();
    watch(second, problems);
    await second.goto(`${env.origin}/`);
    await onlineLayout(second).waitFor({ timeout: STEP_MS });
    // Both tabs share the SharedWorker's one session.
    expect(resourcesOf('alice').filter((resource) => !before.includes(resource))).toEqual([]);
    await second.close();
  });

  it('deletes the keys on sign-out, so a reload shows the sign-in screen', async () => {
    await alice.getByTestId('nav-signout').click();
    await alice.getByTestId('signin-form').waitFor({ timeout: STEP_MS });
    expect(await storedCredentials(alice)).toEqual([]);

    await alice.reload();
    await alice.getByTestId('signin-form').waitFor({ timeout: STEP_MS });
    await alice.waitForTimeout(1_000);
    expect(await alice.getByTestId('main-layout').count()).toBe(0);
    expect(await alice.getByTestId('signin-password').inputValue()).toBe('');
    await context.close();
  });

  it('stores nothing when "keep me signed in" is off', async () => {
    const { context: other, page } = await openDevice(env.browser, `${env.origin}/`, problems);
    await page.getByTestId('signin-keep').uncheck();
    await signIn(page, jidOf('bob'), PASSWORD, STEP_MS);
    await page.waitForTimeout(500);
    expect(await storedCredentials(page)).toEqual([]);
    await other.close();
  });

  it('asks to sign in again when the server no longer accepts the stored keys', async () => {
    const { context: other, page } = await openDevice(env.browser, `${env.origin}/`, problems);
    await signIn(page, jidOf('bob'), PASSWORD, STEP_MS);
    await expect.poll(() => storedCredentials(page), { timeout: STEP_MS }).toHaveLength(1);

    // A new password brings a new salt, so the stored keys no longer match.
    await upsertAccount(env.server.server, { username: 'bob', password: 'a-new-password-for-bob' });
    await page.reload();
    await page.getByTestId('signin-error').waitFor({ timeout: STEP_MS });
    expect(await page.getByTestId('signin-error').textContent()).toContain('Please sign in again');
    expect(await storedCredentials(page)).toEqual([]);
    await other.close();
  });

  it('serves the icon the page links, so no favicon request fails', async () => {
    const { context: other, page } = await openDevice(env.browser, `${env.origin}/`, problems);
    const href = await page.locator('link[rel="icon"]').getAttribute('href');
    const response = await page.request.get(new URL(href ?? '/favicon.ico', env.origin).toString());
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toContain('image/svg+xml');
    await other.close();
  });

  it('had no page errors', () => {
    expect(problems.errors).toEqual([]);
  });
});
