import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { upsertAccount } from '../packages/server/src/provisioning/accounts-service.js';
import { openDevice, signIn, type PageProblems, useWebE2e } from './support/web-e2e.js';

// Adding a contact in Debian's Chromium: alice adds bob, bob accepts once, and the
// subscription is mutual (RFC 6121 3.4 pre-approval): alice is never asked to accept bob in
// turn, each sees the other online, and nobody is listed twice.
const PASSWORD = 'contacts-password';
const STEP_MS = 15_000;

const problems: PageProblems = { errors: [] };

const env = useWebE2e({ users: ['alice', 'bob'], password: PASSWORD });

const jidOf = (user: string): string => `${user}@${env.server.domain}`;

async function device(user: string): Promise<Page> {
  const { page } = await openDevice(env.browser, `${env.origin}/`, problems);
  await signIn(page, jidOf(user), PASSWORD, STEP_MS);
  await page.getByTestId('nav-contacts').click();
  return page;
}

function rows(page: Page, jid: string) {
  return page.locator(`[data-testid="contact"][data-jid="${jid}"]`);
}

function requestBadge(page: Page): Promise<string | null> {
  return page.getByTestId('nav-requests').count().then((n) => (n === 0 ? '0' : page.getByTestId('nav-requests').textContent()));
}

describe('web client adds a contact with one acceptance', () => {
  let alice: Page;
  let bob: Page;

  it('shows bob the request and a badge on Contacts', async () => {
    alice = await device('alice');
    bob = await device('bob');
    await alice.getByTestId('contact-add-jid').fill(jidOf('bob'));
    await alice.getByTestId('contact-add').click();

    await bob.getByTestId('subscription-request').waitFor({ timeout: STEP_MS });
    await expect.poll(() => requestBadge(bob), { timeout: STEP_MS }).toBe('1');
    expect(await requestBadge(alice)).toBe('0');
  });

  it('makes the subscription mutual when bob accepts once', async () => {
    // Alice's profile has a display name (her vCard's FN), which bob's new contact row shows.
    await upsertAccount(env.server.server, { username: 'alice', password: PASSWORD, displayName: 'Alice Liddell' });
    await bob.getByTestId('subscription-request').getByTestId('request-approve').click();

    await expect.poll(() => rows(alice, jidOf('bob')).getAttribute('data-subscription'), { timeout: STEP_MS }).toBe('both');
    await expect.poll(() => rows(bob, jidOf('alice')).getAttribute('data-subscription'), { timeout: STEP_MS }).toBe('both');
    await expect.poll(() => rows(alice, jidOf('bob')).getByTestId('contact-presence').getAttribute('data-show'), { timeout: STEP_MS }).toBe('available');
    await expect.poll(() => rows(bob, jidOf('alice')).getByTestId('contact-presence').getAttribute('data-show'), { timeout: STEP_MS }).toBe('available');
    await expect.poll(() => requestBadge(bob), { timeout: STEP_MS }).toBe('0');
  });

  it('names a contact accepted from a request by its vCard', async () => {
    await expect.poll(() => rows(bob, jidOf('alice')).locator('.who').textContent(), { timeout: STEP_MS }).toContain('Alice Liddell');
  });

  it('asks alice nothing and lists everyone once', async () => {
    // A request from bob to alice would arrive within this time.
    await alice.waitForTimeout(1_500);
    for (const [page, other] of [[alice, 'bob'], [bob, 'alice']] as const) {
      expect(await page.getByTestId('subscription-request').count()).toBe(0);
      expect(await page.getByTestId('request-approve').count()).toBe(0);
      expect(await requestBadge(page)).toBe('0');
      expect(await page.getByTestId('contact').count()).toBe(1);
      expect(await rows(page, jidOf(other)).count()).toBe(1);
    }
  });

  it('shows the address once when the contact has no other name', async () => {
    const text = (await rows(alice, jidOf('bob')).locator('.who').textContent()) ?? '';
    expect(text.split(jidOf('bob')).length - 1).toBe(1);
  });

  it('had no page errors', () => {
    expect(problems.errors).toEqual([]);
  });
});
