import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { JID } from '@parley/xmpp';
import { conversationRow, messagesWithBody, openDevice, signIn, unreadOf, type PageProblems, useWebE2e } from './support/web-e2e.js';

// Two devices of one user in Debian's Chromium: two browser contexts, so two SharedWorkers
// and two server sessions. The unread badge agrees on both, before and after one of them
// reads the conversation. A message turns read on both of the sender's screens when the
// reader opens it.
const PASSWORD = 'devices-password';
const STEP_MS = 15_000;

const problems: PageProblems = { errors: [] };

const env = useWebE2e({ users: ['alice', 'bob'], password: PASSWORD });

const jidOf = (user: string): string => `${user}@${env.server.domain}`;

async function device(user: string): Promise<Page> {
  const { page } = await openDevice(env.browser, `${env.origin}/`, problems);
  await signIn(page, jidOf(user), PASSWORD, STEP_MS);
  return page;
}

async function send(page: Page, body: string): Promise<void> {
  await page.getByTestId('composer-input').fill(body);
  await page.getByTestId('composer-input').press('Enter');
}

function totalUnread(page: Page): Promise<string | null> {
  return page.getByTestId('nav-unread').count().then((n) => (n === 0 ? '0' : page.getByTestId('nav-unread').textContent()));
}

describe('web client on two devices of one user', () => {
  let phone: Page;
  let laptop: Page;
  let bob: Page;

  it('signs in alice twice and bob once', async () => {
    phone = await device('alice');
    laptop = await device('alice');
    bob = await device('bob');
    // Two contexts share nothing, so each device has a session of its own.
    expect(env.server.server.sessions.resources(JID.parse(jidOf('alice'))).length).toBe(2);
  });

  it('shows the same unread badge on both devices', async () => {
    await bob.goto(`${env.origin}/#/chats/${encodeURIComponent(jidOf('alice'))}`);
    for (const body of ['first of three', 'second of three', 'third of three']) {
      await send(bob, body);
      await expect.poll(() => messagesWithBody(bob, body).getAttribute('data-state'), { timeout: STEP_MS }).not.toBe('sending');
    }

    for (const page of [phone, laptop]) {
      await conversationRow(page, jidOf('bob')).waitFor({ timeout: STEP_MS });
      await expect.poll(() => unreadOf(page, jidOf('bob')), { timeout: STEP_MS }).toBe(3);
      await expect.poll(() => totalUnread(page), { timeout: STEP_MS }).toBe('3');
      expect(await conversationRow(page, jidOf('bob')).getByTestId('conversation-preview').textContent()).toBe('third of three');
    }
  });

  it('clears the badge on both devices when one of them reads the conversation', async () => {
    await conversationRow(phone, jidOf('bob')).getByTestId('conversation-open').click();
    await messagesWithBody(phone, 'third of three').waitFor({ timeout: STEP_MS });

    await expect.poll(() => unreadOf(phone, jidOf('bob')), { timeout: STEP_MS }).toBe(0);
    await expect.poll(() => unreadOf(laptop, jidOf('bob')), { timeout: STEP_MS }).toBe(0);
    await expect.poll(() => totalUnread(laptop), { timeout: STEP_MS }).toBe('0');
    // bob's messages turn read on his screen too.
    await expect.poll(() => messagesWithBody(bob, 'third of three').getAttribute('data-state'), { timeout: STEP_MS }).toBe('read');
  });

  it('keeps the count after a reload', async () => {
    await phone.goto(`${env.origin}/#/chats`);
    await send(bob, 'one more');
    for (const page of [phone, laptop]) await expect.poll(() => unreadOf(page, jidOf('bob')), { timeout: STEP_MS }).toBe(1);

    await laptop.reload();
    // "Keep me signed in" (on by default) signs the reloaded page in without the password.
    await laptop.locator('[data-testid="main-layout"][data-connection-status="online"]').waitFor({ timeout: STEP_MS });
    await expect.poll(() => unreadOf(laptop, jidOf('bob')), { timeout: STEP_MS }).toBe(1);
    expect(await unreadOf(phone, jidOf('bob'))).toBe(1);
  });

  it('turns a message read on both of the sender\'s devices when the reader opens it', async () => {
    await bob.goto(`${env.origin}/#/chats`);
    await laptop.goto(`${env.origin}/#/chats/${encodeURIComponent(jidOf('bob'))}`);
    await expect.poll(() => unreadOf(phone, jidOf('bob')), { timeout: STEP_MS }).toBe(0);

    await send(laptop, 'read me on both');
    const onLaptop = messagesWithBody(laptop, 'read me on both');
    await expect.poll(() => onLaptop.getAttribute('data-state'), { timeout: STEP_MS }).toMatch(/^(sent|delivered)$/);
    await phone.goto(`${env.origin}/#/chats/${encodeURIComponent(jidOf('bob'))}`);
    const onPhone = messagesWithBody(phone, 'read me on both');
    await onPhone.waitFor({ timeout: STEP_MS });
    expect(await onPhone.getAttribute('data-direction')).toBe('out');
    await expect.poll(() => unreadOf(bob, jidOf('alice')), { timeout: STEP_MS }).toBe(1);
    expect(await onLaptop.getAttribute('data-state')).not.toBe('read');

    await conversationRow(bob, jidOf('alice')).getByTestId('conversation-open').click();
    await messagesWithBody(bob, 'read me on both').waitFor({ timeout: STEP_MS });
    await expect.poll(() => onLaptop.getAttribute('data-state'), { timeout: STEP_MS }).toBe('read');
    await expect.poll(() => onPhone.getAttribute('data-state'), { timeout: STEP_MS }).toBe('read');
    expect(await onLaptop.getByTestId('message-state').textContent()).toBe('Read');
  });

  it('had no page errors', () => {
    expect(problems.errors).toEqual([]);
  });
});
