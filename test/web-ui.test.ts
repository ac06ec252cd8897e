import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { keepOnLoopback } from './support/browser.js';
import { useWebE2e } from './support/web-e2e.js';

// The web client's screens in Debian's Chromium against a real server: sign-in, a chat
// between two users in two languages, read states. With PARLEY_SCREENSHOTS=1 it also
// writes the main screens in both languages to docs/screenshots/.
const SCREENSHOTS = fileURLToPath(new URL('../docs/screenshots/', import.meta.url));
const PASSWORD = 'web-ui-password';
const STEP_MS = 15_000;
const VIEWPORT = { width: 1100, height: 700 };

const pageErrors: string[] = [];
const consoleErrors: string[] = [];
const contexts: BrowserContext[] = [];

const env = useWebE2e({ users: ['alice', 'bob'], password: PASSWORD });

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
});

async function openClient(locale: string): Promise<Page> {
  const context = await env.browser.newContext({ locale, viewport: VIEWPORT });
  contexts.push(context);
  await keepOnLoopback(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(`${err.message} ${err.stack ?? ''}`));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  await page.goto(`${env.origin}/`);
  return page;
}

async function signIn(page: Page, user: string): Promise<void> {
  await page.getByTestId('signin-jid').fill(`${user}@${env.server.domain}`);
  await page.getByTestId('signin-password').fill(PASSWORD);
  await page.getByTestId('signin-submit').click();
  await page.locator('[data-connection-status="online"]').waitFor({ timeout: STEP_MS });
}

async function shoot(page: Page, name: string): Promise<void> {
  if (process.env.PARLEY_SCREENSHOTS !== '1') return;
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

describe('web client screens', () => {
  let alice: Page;
  let bob: Page;
  const bobJid = () => `bob@${env.server.domain}`;
  const aliceJid = () => `alice@${env.server.domain}`;

  it('shows the sign-in screen in the browser language', async () => {
    alice = await openClient('en-US');
    bob = await openClient('zh-CN');
    await expect.poll(() => alice.getByTestId('signin-submit').textContent()).toBe('Sign in');
    await expect.poll(() => bob.getByTestId('signin-submit').textContent()).toBe('登录');
    expect(await alice.evaluate(() => document.documentElement.lang)).toBe('en');
    expect(await bob.evaluate(() => document.documentElement.lang)).toBe('zh-CN');
    await shoot(alice, 'sign-in.en');
    await shoot(bob, 'sign-in.zh-CN');
  });

  it('rejects a wrong password with a message', async () => {
    await alice.getByTestId('signin-jid').fill(aliceJid());
    await alice.getByTestId('signin-password').fill('not-the-password');
    await alice.getByTestId('signin-submit').click();
    await alice.getByTestId('signin-error').waitFor({ timeout: STEP_MS });
    expect(await alice.getByTestId('signin-error').textContent()).toContain('Wrong address or password');
  });

  it('signs in both users', async () => {
    await signIn(alice, 'alice');
    await signIn(bob, 'bob');
    expect(await alice.getByTestId('nav-chats').textContent()).toContain('Chats');
    expect(await bob.getByTestId('nav-chats').textContent()).toContain('消息');
  });

  it('sends a message that the other user receives and reads', async () => {
    await alice.goto(`${env.origin}/#/chats/${encodeURIComponent(bobJid())}`);
    await alice.getByTestId('composer-input').fill('Hello Bob, 你好');
    await alice.getByTestId('composer-input').press('Enter');

    const sent = alice.getByTestId('message').filter({ hasText: 'Hello Bob' });
    await sent.waitFor({ timeout: STEP_MS });
    await expect.poll(() => sent.getAttribute('data-state'), { timeout: STEP_MS }).toMatch(/^(sent|delivered)$/);
    expect(await sent.getByTestId('message-state').textContent()).toMatch(/Unread/);

    const row = bob.locator(`[data-testid="conversation-item"][data-jid="${aliceJid()}"]`);
    await row.waitFor({ timeout: STEP_MS });
    await expect.poll(() => row.getByTestId('unread-badge').textContent(), { timeout: STEP_MS }).toBe('1');
    await shoot(bob, 'conversations.zh-CN');

    await row.click();
    await bob.getByTestId('message').filter({ hasText: 'Hello Bob' }).waitFor({ timeout: STEP_MS });
    await expect.poll(() => sent.getAttribute('data-state'), { timeout: STEP_MS }).toBe('read');
    expect(await sent.getByTestId('message-state').textContent()).toBe('Read');
    await expect.poll(() => row.getByTestId('unread-badge').count(), { timeout: STEP_MS }).toBe(0);
  });

  it('shows the reply and its read state in Chinese', async () => {
    await bob.getByTestId('composer-input').fill('收到，谢谢');
    await bob.getByTestId('composer-send').click();
    const reply = bob.getByTestId('message').filter({ hasText: '收到，谢谢' });
    await expect.poll(() => reply.getAttribute('data-state'), { timeout: STEP_MS }).not.toBe('sending');
    await alice.getByTestId('message').filter({ hasText: '收到，谢谢' }).waitFor({ timeout: STEP_MS });
    await expect.poll(() => reply.getByTestId('message-state').textContent(), { timeout: STEP_MS }).toBe('已读');
    expect(await bob.getByTestId('day-separator').first().textContent()).toBe('今天');
    await shoot(bob, 'chat.zh-CN');
    await shoot(alice, 'chat.en');
  });

  it('switches the language in settings and remembers it', async () => {
    await alice.getByTestId('nav-settings').click();
    await alice.getByTestId('language-select').selectOption('zh-CN');
    await expect.poll(() => alice.getByTestId('nav-settings').textContent()).toContain('设置');
    await shoot(alice, 'settings.zh-CN');
    await alice.getByTestId('language-select').selectOption('en');
    await expect.poll(() => alice.getByTestId('nav-settings').textContent()).toContain('Settings');
    await shoot(alice, 'settings.en');
    const saved = await alice.evaluate(() => localStorage.getItem('parley:settings'));
    expect(JSON.parse(saved ?? '{}')).toMatchObject({ locale: 'en' });
  });

  it('adds a contact who approves and then sees the presence', async () => {
    await alice.getByTestId('nav-contacts').click();
    await alice.getByTestId('contact-add-jid').fill(bobJid());
    await alice.getByTestId('contact-add').click();
    await bob.getByTestId('nav-contacts').click();
    const request = bob.getByTestId('subscription-request');
    await request.waitFor({ timeout: STEP_MS });
    await request.getByTestId('request-approve').click();

    const entry = alice.locator(`[data-testid="contact"][data-jid="${bobJid()}"]`);
    await expect.poll(() => entry.getByTestId('contact-presence').getAttribute('data-show'), { timeout: STEP_MS }).toBe('available');

    await bob.getByTestId('presence-button').click();
    await bob.getByTestId('presence-dnd').check();
    await bob.getByTestId('presence-status').fill('开会中');
    await bob.getByTestId('presence-apply').click();
    await expect.poll(() => entry.getByTestId('contact-presence').getAttribute('data-show'), { timeout: STEP_MS }).toBe('dnd');
    expect(await entry.textContent()).toContain('开会中');
  });

  it('shows typing, a correction and a retraction to the other side', async () => {
    await alice.goto(`${env.origin}/#/chats/${encodeURIComponent(bobJid())}`);
    await bob.goto(`${env.origin}/#/chats/${encodeURIComponent(aliceJid())}`);
    await bob.getByTestId('composer-input').pressSequentially('typing');
    await expect.poll(() => alice.getByTestId('typing-indicator').textContent(), { timeout: STEP_MS }).toContain('is typing');
    await bob.getByTestId('composer-input').fill('');

    await alice.getByTestId('composer-input').fill('Meeting at 3');
    await alice.getByTestId('composer-input').press('Enter');
    await bob.getByTestId('message').filter({ hasText: 'Meeting at 3' }).waitFor({ timeout: STEP_MS });

    await alice.getByTestId('composer-input').press('ArrowUp');
    await alice.getByTestId('editing-banner').waitFor();
    await alice.getByTestId('composer-input').fill('Meeting at 4');
    await alice.getByTestId('composer-input').press('Enter');
    const edited = bob.getByTestId('message').filter({ hasText: 'Meeting at 4' });
    await edited.waitFor({ timeout: STEP_MS });
    expect(await edited.getByTestId('message-edited').textContent()).toBe('已编辑');

    alice.once('dialog', (dialog) => void dialog.accept());
    const own = alice.getByTestId('message').filter({ hasText: 'Meeting at 4' });
    await own.hover();
    await own.getByTestId('message-retract').click();
    await expect.poll(() => bob.getByTestId('message-retracted').count(), { timeout: STEP_MS }).toBe(1);
    expect(await bob.getByTestId('message-retracted').textContent()).toBe('此消息已撤回');
  });

  it('creates a group, invites a member and shows who read a message', async () => {
    await alice.getByTestId('nav-chats').click();
    await alice.getByTestId('new-group').click();
    await alice.getByTestId('group-name').fill('Launch team');
    await alice.getByTestId('group-invitees').fill(bobJid());
    await shoot(alice, 'new-group.en');
    await alice.getByTestId('group-create').click();
    await expect.poll(() => alice.getByTestId('chat-view').getAttribute('data-jid'), { timeout: STEP_MS }).toMatch(/^launch-team-/);
    const room = (await alice.getByTestId('chat-view').getAttribute('data-jid')) ?? '';

    await bob.getByTestId('invitation').waitFor({ timeout: STEP_MS });
    await bob.getByTestId('invitation-accept').click();
    await expect.poll(() => bob.getByTestId('chat-view').getAttribute('data-jid'), { timeout: STEP_MS }).toBe(room);
    expect(await bob.getByTestId('chat-title').textContent()).toBe('Launch team');

    await alice.getByTestId('chat-members-toggle').click();
    await expect.poll(() => alice.getByTestId('member').count(), { timeout: STEP_MS }).toBe(2);
    await alice.getByTestId('composer-input').fill('Welcome to the launch team');
    await alice.getByTestId('composer-input').press('Enter');
    await bob.getByTestId('message').filter({ hasText: 'Welcome to the launch team' }).waitFor({ timeout: STEP_MS });

    const own = alice.getByTestId('message').filter({ hasText: 'Welcome to the launch team' });
    await expect.poll(() => own.getAttribute('data-state'), { timeout: STEP_MS }).not.toBe('sending');
    await expect
      .poll(
        async () => {
          await own.getByTestId('message-state').click();
          const dialog = alice.getByTestId('receipts-dialog');
          await dialog.getByTestId('receipts-read').waitFor();
          const read = await dialog.getByTestId('receipts-read').textContent();
          if (!read?.includes(bobJid())) await dialog.getByTestId('dialog-close').click();
          return read;
        },
        { timeout: STEP_MS },
      )
      .toContain(bobJid());
    await shoot(alice, 'group-receipts.en');
    await alice.getByTestId('receipts-dialog').getByTestId('dialog-close').click();
    await shoot(bob, 'group.zh-CN');
  });

  it('pins and mutes a conversation', async () => {
    await alice.getByTestId('nav-chats').click();
    const row = alice.locator(`[data-testid="conversation-item"][data-jid="${bobJid()}"]`);
    await row.hover();
    await row.getByTestId('conversation-pin').click();
    await expect.poll(() => row.getAttribute('data-pinned'), { timeout: STEP_MS }).toBe('true');
    expect(await alice.getByTestId('conversation-item').first().getAttribute('data-jid')).toBe(bobJid());

    await row.hover();
    await row.getByTestId('conversation-mute').click();
    await expect.poll(() => row.getAttribute('data-muted'), { timeout: STEP_MS }).toBe('true');
  });

  it('follows the dark theme and a narrow window', async () => {
    await bob.getByTestId('nav-settings').click();
    await bob.getByTestId('theme-dark').check();
    expect(await bob.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
    await bob.getByTestId('nav-chats').click();
    await shoot(bob, 'conversations.dark.zh-CN');
    await bob.setViewportSize({ width: 390, height: 760 });
    await bob.locator(`[data-testid="conversation-item"][data-jid="${aliceJid()}"]`).click();
    await bob.getByTestId('chat-back').waitFor();
    expect(await bob.getByTestId('conversation-list').isVisible()).toBe(false);
    await shoot(bob, 'chat.narrow.dark.zh-CN');
    await bob.getByTestId('chat-back').click();
    await bob.getByTestId('conversation-list').waitFor();
    await bob.getByTestId('nav-settings').click();
    await bob.getByTestId('theme-system').check();
    await bob.setViewportSize(VIEWPORT);
  });

  it('shows the other screens', async () => {
    await alice.getByTestId('nav-contacts').click();
    await alice.getByTestId('contacts-screen').waitFor();
    await shoot(alice, 'contacts.en');
    await bob.getByTestId('nav-contacts').click();
    await bob.getByTestId('contacts-screen').waitFor();
    await shoot(bob, 'contacts.zh-CN');
    await alice.getByTestId('nav-profile').click();
    await alice.getByTestId('profile-form').waitFor();
    await shoot(alice, 'profile.en');
    await bob.getByTestId('nav-search').click();
    await bob.getByTestId('search-input').fill('谢谢');
    await bob.getByTestId('search-hit').first().waitFor({ timeout: STEP_MS });
    await shoot(bob, 'search.zh-CN');
    await alice.getByTestId('nav-chats').click();
    await alice.getByTestId('conversation-list').waitFor();
    await shoot(alice, 'conversations.en');
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
