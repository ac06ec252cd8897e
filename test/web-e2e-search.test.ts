import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { NS, x } from '@parley/xmpp';
import { TestClient } from './support/client.js';
import { messagesWithBody, openDevice, signIn, type PageProblems, useWebE2e } from './support/web-e2e.js';

// A search hit opens its conversation at the message, not at the newest page: bob sends 120
// messages, alice searches a word of an old one in Chromium, clicks the hit and sees it
// highlighted in the viewport, then scrolls down to the newest message.
const PASSWORD = 'search-password';
const STEP_MS = 15_000;
const COUNT = 120;
const OLD = 7;
const WORD = 'quokka';

const problems: PageProblems = { errors: [] };

const env = useWebE2e({ users: ['alice', 'bob'], password: PASSWORD });

const jidOf = (user: string): string => `${user}@${env.server.domain}`;

function bodyOf(n: number): string {
  return n === OLD ? `an old note about the ${WORD} ${n}` : `filler message ${n}`;
}

/** True when the element's box lies inside the message list's visible area. */
async function inViewport(page: Page, element: Locator): Promise<boolean> {
  const box = await element.boundingBox();
  const list = await page.getByTestId('message-list').boundingBox();
  if (!box || !list) return false;
  return box.y >= list.y && box.y + box.height <= list.y + list.height;
}

describe('web client search jumps to the hit', () => {
  let alice: Page;

  it('stores 120 messages from bob', async () => {
    const bob = await TestClient.connect(env.server, { username: 'bob', password: PASSWORD });
    for (let n = 0; n < COUNT; n++) {
      bob.send(x('message', NS.CLIENT, { to: jidOf('alice'), type: 'chat', id: `m${n}` }, x('body', NS.CLIENT, {}, bodyOf(n))));
    }
    // A round trip after the last message: the server has handled every message before it.
    await bob.iq(x('iq', NS.CLIENT, { type: 'get' }, x('ping', 'urn:xmpp:ping')));
    await bob.close();

    ({ page: alice } = await openDevice(env.browser, `${env.origin}/`, problems));
    await signIn(alice, jidOf('alice'), PASSWORD, STEP_MS);
    await alice.goto(`${env.origin}/#/chats/${encodeURIComponent(jidOf('bob'))}`);
    await messagesWithBody(alice, bodyOf(COUNT - 1)).waitFor({ timeout: STEP_MS });
    const shown = await alice.getByTestId('message-body').allTextContents();
    const numbers = shown.map((body) => Number(body.split(' ').pop()));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
  });

  it('opens an old hit highlighted', async () => {
    await alice.getByTestId('chat-search-toggle').click();
    await alice.getByTestId('conversation-search-input').fill(WORD);
    const hit = alice.getByTestId('search-hit').filter({ hasText: bodyOf(OLD) });
    await hit.waitFor({ timeout: STEP_MS });
    await hit.click();

    const target = messagesWithBody(alice, bodyOf(OLD));
    await target.waitFor({ timeout: STEP_MS });
    await expect.poll(() => inViewport(alice, target), { timeout: STEP_MS }).toBe(true);
    const row = alice.locator('[data-highlighted="true"]');
    await expect.poll(() => row.getByTestId('message-body').textContent(), { timeout: STEP_MS }).toBe(bodyOf(OLD));
    expect(await messagesWithBody(alice, bodyOf(COUNT - 1)).count()).toBe(0);
  });

  it('scrolls down to the newest', async () => {
    const newest = messagesWithBody(alice, bodyOf(COUNT - 1));
    const list = alice.getByTestId('message-list');
    for (let step = 0; step < 60 && (await newest.count()) === 0; step++) {
      await list.evaluate((element) => element.scrollBy(0, element.clientHeight));
      await alice.waitForTimeout(150);
    }
    await newest.waitFor({ timeout: STEP_MS });
    await list.evaluate((element) => element.scrollTo(0, element.scrollHeight));
    await expect.poll(() => inViewport(alice, newest), { timeout: STEP_MS }).toBe(true);
    expect(await alice.getByTestId('jump-latest').count()).toBe(0);
  });

  it('jumps back to the latest', async () => {
    await alice.getByTestId('search-hit').filter({ hasText: bodyOf(OLD) }).click();
    await expect.poll(() => inViewport(alice, messagesWithBody(alice, bodyOf(OLD))), { timeout: STEP_MS }).toBe(true);
    await alice.getByTestId('jump-latest').click();
    const newest = messagesWithBody(alice, bodyOf(COUNT - 1));
    await expect.poll(() => newest.count().then((n) => n > 0 && inViewport(alice, newest)), { timeout: STEP_MS }).toBe(true);
    expect(problems.errors).toEqual([]);
  });
});
