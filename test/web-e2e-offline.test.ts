import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { TestClient } from './support/client.js';
import { bodies, queryArchive } from './support/mam.js';
import { messagesWithBody, openDevice, signIn, startWebSocketCutter, type PageProblems, type WebSocketCutter, useWebE2e } from './support/web-e2e.js';

// The outbox in Debian's Chromium: a message typed while the WebSocket is gone shows
// 'sending', goes out when the connection returns, and survives a reload of the page while
// offline, reaching the recipient and the archive exactly once. alice's page goes through a
// proxy that cuts WebSockets but keeps serving the page, as a network that drops the
// long-lived connection does.
const PASSWORD = 'offline-password';
const STEP_MS = 15_000;
/** Reconnecting waits for the backoff (1 s base, doubling, full jitter) to try again. */
const RECONNECT_MS = 40_000;

let cutter: WebSocketCutter;
const problems: PageProblems = { errors: [] };

const env = useWebE2e({ users: ['alice', 'bob'], password: PASSWORD });

beforeAll(async () => {
  cutter = await startWebSocketCutter(env.server.httpPort);
}, 150_000);

afterAll(async () => {
  await cutter?.close();
});

const jidOf = (user: string): string => `${user}@${env.server.domain}`;

function connectionStatus(page: Page): Promise<string | null> {
  return page.getByTestId('main-layout').getAttribute('data-connection-status');
}

async function send(page: Page, body: string): Promise<void> {
  await page.getByTestId('composer-input').fill(body);
  await page.getByTestId('composer-input').press('Enter');
}

/** Counts the messages with `body` in bob's archive of his chat with alice. */
async function archivedCopies(body: string): Promise<number> {
  const bob = await TestClient.connect(env.server, { username: 'bob', password: PASSWORD });
  try {
    const outcome = await queryArchive(bob, { fields: { with: jidOf('alice') } });
    return bodies(outcome).filter((text) => text === body).length;
  } finally {
    await bob.close();
  }
}

describe('web client outbox while offline', () => {
  let alice: Page;
  let bob: Page;

  it('signs in alice through the proxy and bob directly', async () => {
    alice = (await openDevice(env.browser, `${cutter.origin}/`, problems)).page;
    await signIn(alice, jidOf('alice'), PASSWORD, STEP_MS);
    bob = (await openDevice(env.browser, `http://127.0.0.1:${env.server.httpPort}/`, problems)).page;
    await signIn(bob, jidOf('bob'), PASSWORD, STEP_MS);
    await bob.goto(`http://127.0.0.1:${env.server.httpPort}/#/chats/${encodeURIComponent(jidOf('alice'))}`);
    await alice.goto(`${cutter.origin}/#/chats/${encodeURIComponent(jidOf('bob'))}`);
    await alice.getByTestId('composer-input').waitFor({ timeout: STEP_MS });
  });

  it('sends an offline message after reconnecting', async () => {
    cutter.cut();
    await expect.poll(() => connectionStatus(alice), { timeout: STEP_MS }).not.toBe('online');

    await send(alice, 'typed while offline');
    const own = messagesWithBody(alice, 'typed while offline');
    await expect.poll(() => own.getAttribute('data-state'), { timeout: STEP_MS }).toBe('sending');
    // Still only in the outbox a moment later: nothing can carry it.
    await alice.waitForTimeout(1_000);
    expect(await own.getAttribute('data-state')).toBe('sending');
    expect(await messagesWithBody(bob, 'typed while offline').count()).toBe(0);

    cutter.restore();
    await expect.poll(() => connectionStatus(alice), { timeout: RECONNECT_MS }).toBe('online');
    await expect.poll(() => own.getAttribute('data-state'), { timeout: STEP_MS }).not.toBe('sending');
    await expect.poll(() => messagesWithBody(bob, 'typed while offline').count(), { timeout: STEP_MS }).toBe(1);
    await expect.poll(() => archivedCopies('typed while offline'), { timeout: STEP_MS }).toBe(1);
  }, 90_000);

  it('sends an offline message once after a reload', async () => {
    cutter.cut();
    await expect.poll(() => connectionStatus(alice), { timeout: STEP_MS }).not.toBe('online');
    await send(alice, 'survives a reload');
    const own = messagesWithBody(alice, 'survives a reload');
    await expect.poll(() => own.getAttribute('data-state'), { timeout: STEP_MS }).toBe('sending');

    // The page reloads from the proxy while WebSockets stay cut; the SharedWorker goes with the only tab.
    // The account opens on its stored data and signs in with the stored keys once the WebSocket comes back.
    await alice.reload();
    await alice.getByTestId('main-layout').waitFor({ timeout: STEP_MS });
    expect(await connectionStatus(alice)).not.toBe('online');
    await alice.goto(`${cutter.origin}/#/chats/${encodeURIComponent(jidOf('bob'))}`);
    await expect.poll(() => own.getAttribute('data-state'), { timeout: STEP_MS }).toBe('sending');
    expect(await archivedCopies('survives a reload')).toBe(0);

    cutter.restore();
    await expect.poll(() => connectionStatus(alice), { timeout: RECONNECT_MS }).toBe('online');
    await alice.goto(`${cutter.origin}/#/chats/${encodeURIComponent(jidOf('bob'))}`);
    await expect.poll(() => own.count(), { timeout: STEP_MS }).toBe(1);
    await expect.poll(() => own.getAttribute('data-state'), { timeout: STEP_MS }).not.toBe('sending');

    await expect.poll(() => messagesWithBody(bob, 'survives a reload').count(), { timeout: STEP_MS }).toBe(1);
    await expect.poll(() => archivedCopies('survives a reload'), { timeout: STEP_MS }).toBe(1);
    // A late second copy would show up within this time.
    await bob.waitForTimeout(1_500);
    expect(await messagesWithBody(bob, 'survives a reload').count()).toBe(1);
    expect(await archivedCopies('survives a reload')).toBe(1);
    expect(await archivedCopies('typed while offline')).toBe(1);
    expect(await messagesWithBody(alice, 'typed while offline').count()).toBe(1);
  }, 90_000);

  it('had no page errors', () => {
    // A WebSocket refused by the proxy is logged by Chromium as a console error; only those are expected.
    expect(problems.errors.filter((error) => !/WebSocket connection to .* failed/.test(error))).toEqual([]);
  });
});
