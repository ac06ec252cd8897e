import { rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { keepOnLoopback, launchChromium, type ChromiumOptions } from './browser.js';
import { startTestServer, type TestServer } from './server.js';
import { buildWebClient } from './web-build.js';

export { buildWebClient };

// Helpers for the web client's end-to-end tests (test/web-e2e-*.test.ts).


/** What a web client test file runs against; the fields are set once its beforeAll hooks ran. */
export interface WebE2eEnv {
  server: TestServer;
  browser: Browser;
  /** `http://127.0.0.1:<port>` of the server's HTTP listener, which serves the client. */
  origin: string;
  /** The folder of the client build the server serves. */
  buildDir: string;
}

export interface WebE2eOptions {
  /** Accounts created before the tests, all with `password`. */
  users: readonly string[];
  password: string;
  /** Config overrides for the server, besides the client build it serves. */
  server?: Record<string, unknown>;
  browser?: ChromiumOptions;
}

/**
 * Registers the hooks that build the current client sources, start a server that serves the
 * build with `users`, and launch Chromium before a test file's tests, and that stop them all
 * after them. A test file's own afterAll hooks run before these (vitest runs them in reverse).
 */
export function useWebE2e(options: WebE2eOptions): WebE2eEnv {
  const env = {} as WebE2eEnv;

  beforeAll(async () => {
    env.buildDir = await buildWebClient();
    env.server = await startTestServer({ ...options.server, web: { root: env.buildDir } });
    for (const user of options.users) await env.server.createAccount(user, options.password);
    env.origin = `http://127.0.0.1:${env.server.httpPort}`;
    env.browser = await launchChromium(options.browser);
  }, 150_000);

  afterAll(async () => {
    await env.browser?.close();
    await env.server?.stop();
    if (env.buildDir) await rm(env.buildDir, { recursive: true, force: true });
  });
  return env;
}

/** What went wrong in the pages of a test: uncaught errors and console errors. */
export interface PageProblems {
  errors: string[];
}

/** Opens a browser context (one device) with a page on `url`, and records the page's problems in `problems`. */
export async function openDevice(browser: Browser, url: string, problems: PageProblems): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1100, height: 700 } });
  const blocked = await keepOnLoopback(context);
  const page = await context.newPage();
  watch(page, problems, blocked);
  await page.goto(url);
  return { context, page };
}

/** Records uncaught errors, console errors and requests that tried to leave 127.0.0.1. */
export function watch(page: Page, problems: PageProblems, blocked: string[] = []): void {
  page.on('pageerror', (err) => problems.errors.push(`page error: ${err.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.errors.push(`console: ${message.text()}`);
  });
  page.on('close', () => {
    for (const url of blocked.splice(0)) problems.errors.push(`blocked request to ${url}`);
  });
}

/** Fills the sign-in form and waits for the online main screen. */
export async function signIn(page: Page, jid: string, password: string, timeout: number): Promise<void> {
  await page.getByTestId('signin-jid').fill(jid);
  await page.getByTestId('signin-password').fill(password);
  await page.getByTestId('signin-submit').click();
  await page.locator('[data-testid="main-layout"][data-connection-status="online"]').waitFor({ timeout });
}

/** Finds the row of `jid` in the conversation list. */
export function conversationRow(page: Page, jid: string) {
  return page.locator(`[data-testid="conversation-item"][data-jid="${jid}"]`);
}

/** Reads the unread badge of `jid`'s row as a number, or 0 when the row shows no badge. */
export async function unreadOf(page: Page, jid: string): Promise<number> {
  const badge = conversationRow(page, jid).getByTestId('unread-badge');
  if ((await badge.count()) === 0) return 0;
  return Number(await badge.textContent());
}

/** Finds the message bubbles whose body is exactly `body`. */
export function messagesWithBody(page: Page, body: string) {
  return page.getByTestId('message').filter({ has: page.getByTestId('message-body').getByText(body, { exact: true }) });
}

/**
 * An HTTP proxy on 127.0.0.1 in front of the server's HTTP port that can cut WebSockets:
 * pages and assets keep loading while `cut()` closes the open WebSockets and refuses new ones,
 * as a network that drops the long-lived connection does. `restore()` lets them through again.
 */
export interface WebSocketCutter {
  origin: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startWebSocketCutter(targetPort: number): Promise<WebSocketCutter> {
  const upgraded = new Set<Duplex>();
  let cut = false;
  const server = createServer((incoming, outgoing) => forward(incoming, outgoing, targetPort));
  server.on('upgrade', (incoming: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (cut) return void socket.destroy();
    const upstream = tunnel(incoming, socket, head, targetPort);
    upgraded.add(socket).add(upstream);
    const forget = (): void => {
      upgraded.delete(socket);
      upgraded.delete(upstream);
    };
    socket.once('close', forget);
    upstream.once('close', forget);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut(): void {
      cut = true;
      for (const socket of upgraded) socket.destroy();
      upgraded.clear();
    },
    restore(): void {
      cut = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of upgraded) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function forward(incoming: IncomingMessage, outgoing: ServerResponse, targetPort: number): void {
  const upstream = httpRequest({ host: '127.0.0.1', port: targetPort, method: incoming.method, path: incoming.url, headers: incoming.headers }, (response) => {
    outgoing.writeHead(response.statusCode ?? 502, response.headers);
    response.pipe(outgoing);
  });
  upstream.on('error', () => outgoing.headersSent ? outgoing.destroy() : outgoing.writeHead(502).end());
  incoming.pipe(upstream);
}

/** Replays the upgrade request to the server and pipes both ways. */
function tunnel(incoming: IncomingMessage, socket: Duplex, head: Buffer, targetPort: number): Socket {
  const upstream = connect(targetPort, '127.0.0.1');
  const lines = [`${incoming.method} ${incoming.url} HTTP/1.1`];
  for (let i = 0; i < incoming.rawHeaders.length; i += 2) lines.push(`${incoming.rawHeaders[i]}: ${incoming.rawHeaders[i + 1]}`);
  upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
  if (head.length > 0) upstream.write(head);
  upstream.pipe(socket).pipe(upstream);
  upstream.on('error', () => socket.destroy());
  socket.on('error', () => upstream.destroy());
  upstream.on('close', () => socket.destroy());
  socket.on('close', () => upstream.destroy());
  return upstream;
}
