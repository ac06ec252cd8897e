import sharp from 'sharp';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { type StaticSite, keepOnLoopback, launchChromium, serveStatic } from './support/browser.js';
import { local, slotFor, upload } from './support/upload.js';

const PASSWORD = 'browser-pw';

/** The parts of the page's DOM the tests use; the test files compile without DOM types. */
interface PageImage {
  src: string;
  naturalWidth: number;
  naturalHeight: number;
  complete: boolean;
  decode(): Promise<void>;
  addEventListener(type: 'load', listener: () => void, options: { once: boolean }): void;
}
interface PageGlobals {
  Image: new () => PageImage;
  document: { images: ArrayLike<PageImage> };
}

describe('HTTP file upload in Chromium', () => {
  let server: TestServer;
  let alice: TestClient;
  let site: StaticSite;
  let browser: Browser;
  let context: BrowserContext;
  let blocked: string[];

  beforeAll(async () => {
    server = await startTestServer();
    await server.createAccount('alice', PASSWORD);
    alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
    // Another origin: the page's port differs from the upload listener's.
    site = await serveStatic({ '/': '<!doctype html><title>other origin</title>' }, {});
    browser = await launchChromium();
    context = await browser.newContext();
    blocked = await keepOnLoopback(context);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await site?.close();
    await alice?.close();
    await server?.stop();
  });

  it('uploads from another origin through CORS and shows the thumbnail', async () => {
    const png = await sharp({ create: { width: 800, height: 400, channels: 3, background: '#c33' } }).png().toBuffer();
    const slot = await slotFor(alice, 'from page.png', png.length, 'image/png');
    const page = await context.newPage();
    await page.goto(`${site.origin}/`);

    const status = await page.evaluate(
      async ({ url, authorization, bytes }) => {
        const response = await fetch(url, { method: 'PUT', body: new Uint8Array(bytes), headers: { Authorization: authorization, 'Content-Type': 'image/png' } });
        return response.status;
      },
      { url: local(server, slot.putUrl), authorization: slot.authorization, bytes: [...png] },
    );
    expect(status).toBe(201);

    const size = await page.evaluate(async (url) => {
      const image = new (globalThis as unknown as PageGlobals).Image();
      image.src = url;
      await image.decode();
      return [image.naturalWidth, image.naturalHeight];
    }, `${local(server, slot.getUrl)}?thumbnail=320`);
    expect(size).toEqual([320, 160]);
    expect(blocked).toEqual([]);
  });

  it('shows an image opened directly despite the sandbox policy', async () => {
    const png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#3c3' } }).png().toBuffer();
    const slot = await upload(server, alice, 'direct.png', png, 'image/png');
    const page = await context.newPage();
    await page.goto(local(server, slot.getUrl));
    const size = await page.evaluate(async () => {
      const image = (globalThis as unknown as PageGlobals).document.images[0];
      if (!image) return undefined;
      if (!image.complete) await new Promise<void>((resolve) => image.addEventListener('load', resolve, { once: true }));
      return [image.naturalWidth, image.naturalHeight];
    });
    expect(size).toEqual([40, 30]);
  });

  it('downloads allowed HTML as an attachment without running it', async () => {
    const open = await startTestServer({ upload: { deny_types: [] } });
    try {
      await open.createAccount('bob', PASSWORD);
      const bob = await TestClient.connect(open, { username: 'bob', password: PASSWORD });
      const markup = new TextEncoder().encode('<title>page</title><script>document.title = "ran"</script>');
      const slot = await upload(open, bob, 'page.html', markup, 'text/html');
      await bob.close();

      const page = await context.newPage();
      const download = page.waitForEvent('download', { timeout: 5000 });
      await page.goto(local(open, slot.getUrl)).catch(() => undefined);
      expect((await download).suggestedFilename()).toBe('page.html');
      expect(await page.title()).not.toBe('ran');
    } finally {
      await open.stop();
    }
  });
});
