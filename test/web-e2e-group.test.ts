import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { conversationRow, messagesWithBody, openDevice, signIn, unreadOf, type PageProblems, useWebE2e } from './support/web-e2e.js';

// A group chat of three members in Debian's Chromium (three browser contexts): alice creates
// it and invites bob and carol, all three exchange messages, and the group read receipts
// show who has read a message and who has not.
const PASSWORD = 'group-password';
const STEP_MS = 15_000;
const USERS = ['alice', 'bob', 'carol'] as const;
type User = (typeof USERS)[number];

const problems: PageProblems = { errors: [] };
const pages = {} as Record<User, Page>;

const env = useWebE2e({ users: USERS, password: PASSWORD });

const jidOf = (user: string): string => `${user}@${env.server.domain}`;

async function send(page: Page, body: string): Promise<void> {
  await page.getByTestId('composer-input').fill(body);
  await page.getByTestId('composer-input').press('Enter');
}

/** Opens the receipts dialog of `body` and returns the read and unread lists as the dialog shows them. */
async function receipts(page: Page, body: string): Promise<{ read: string; unread: string }> {
  await messagesWithBody(page, body).getByTestId('message-state').click();
  const dialog = page.getByTestId('receipts-dialog');
  await dialog.getByTestId('receipts-read').waitFor({ timeout: STEP_MS });
  const read = (await dialog.getByTestId('receipts-read').textContent()) ?? '';
  const unread = (await dialog.getByTestId('receipts-unread').textContent()) ?? '';
  await dialog.getByTestId('dialog-close').click();
  return { read, unread };
}

describe('web client group chat of three', () => {
  let room = '';

  it('signs in three users', async () => {
    for (const user of USERS) {
      pages[user] = (await openDevice(env.browser, `${env.origin}/`, problems)).page;
      await signIn(pages[user], jidOf(user), PASSWORD, STEP_MS);
    }
  });

  it('creates a group and invites two members who accept', async () => {
    const { alice } = pages;
    await alice.getByTestId('new-group').click();
    await alice.getByTestId('group-name').fill('Trio');
    await alice.getByTestId('group-invitees').fill(`${jidOf('bob')}, ${jidOf('carol')}`);
    await alice.getByTestId('group-create').click();
    await expect.poll(() => alice.getByTestId('chat-view').getAttribute('data-jid'), { timeout: STEP_MS }).toMatch(/^trio-/);
    room = (await alice.getByTestId('chat-view').getAttribute('data-jid')) ?? '';

    for (const user of ['bob', 'carol'] as const) {
      const page = pages[user];
      await page.getByTestId('invitation').waitFor({ timeout: STEP_MS });
      expect(await page.getByTestId('invitation').textContent()).toContain(jidOf('alice'));
      // The banner names the group, not its address.
      await expect.poll(() => page.getByTestId('invitation').textContent(), { timeout: STEP_MS }).toContain('Trio');
      expect(await page.getByTestId('invitation').textContent()).not.toContain(room);
      await page.getByTestId('invitation-accept').click();
      await expect.poll(() => page.getByTestId('chat-view').getAttribute('data-jid'), { timeout: STEP_MS }).toBe(room);
      expect(await page.getByTestId('chat-title').textContent()).toBe('Trio');
    }

    await alice.getByTestId('chat-members-toggle').click();
    await expect.poll(() => alice.getByTestId('member').count(), { timeout: STEP_MS }).toBe(3);
    await alice.getByTestId('chat-members-toggle').click();
  });

  it('lets all three exchange messages', async () => {
    const lines: Record<User, string> = { alice: 'alice says hi', bob: 'bob says hello', carol: 'carol says 你好' };
    for (const user of USERS) {
      await send(pages[user], lines[user]);
      await expect.poll(() => messagesWithBody(pages[user], lines[user]).getAttribute('data-state'), { timeout: STEP_MS }).not.toBe('sending');
    }

    for (const reader of USERS) {
      for (const writer of USERS) {
        const bubble = messagesWithBody(pages[reader], lines[writer]);
        await expect.poll(() => bubble.count(), { timeout: STEP_MS }).toBe(1);
        expect(await bubble.getAttribute('data-direction')).toBe(reader === writer ? 'out' : 'in');
      }
    }
    // The others' messages name their sender.
    expect(await messagesWithBody(pages.carol, lines.bob).getByTestId('message-sender').textContent()).toContain('bob');
  });

  it('shows who has read a message and who has not', async () => {
    const { alice, bob, carol } = pages;
    await carol.goto(`${env.origin}/#/chats`);
    await conversationRow(carol, room).waitFor({ timeout: STEP_MS });

    await send(alice, 'who has read this?');
    await messagesWithBody(bob, 'who has read this?').waitFor({ timeout: STEP_MS });
    await expect.poll(() => unreadOf(carol, room), { timeout: STEP_MS }).toBe(1);

    await expect
      .poll(async () => {
        const { read, unread } = await receipts(alice, 'who has read this?');
        return read.includes(jidOf('bob')) && unread.includes(jidOf('carol')) && !read.includes(jidOf('carol'));
      }, { timeout: STEP_MS })
      .toBe(true);

    await conversationRow(carol, room).getByTestId('conversation-open').click();
    await messagesWithBody(carol, 'who has read this?').waitFor({ timeout: STEP_MS });
    await expect
      .poll(async () => {
        const { read, unread } = await receipts(alice, 'who has read this?');
        return read.includes(jidOf('bob')) && read.includes(jidOf('carol')) && !unread.includes(jidOf('carol'));
      }, { timeout: STEP_MS })
      .toBe(true);
    expect(await unreadOf(carol, room)).toBe(0);
  });

  it('had no page errors', () => {
    expect(problems.errors).toEqual([]);
  });
});
