import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { NS, x } from '@parley/xmpp';
import { keepOnLoopback } from './support/browser.js';
import { TestClient } from './support/client.js';
import { conversationRow, openDevice, signIn, watch, type PageProblems, useWebE2e } from './support/web-e2e.js';

// Files in the web client against the real upload service (XEP-0363): alice (English) sends
// images and files by picker, drop and paste. bob (Chinese) gets thumbnails, the viewer, file
// cards and previews. A file over the limit is refused before any request, a cancelled upload
// can be retried after a reload, and an OOB-only message from another client shows as a file.
const PASSWORD = 'files-password';
const STEP_MS = 20_000;
const MAX_FILE_BYTES = 200_000;
const PDF_NAME = '季度报告 Q4.pdf';

const problems: PageProblems = { errors: [] };
let alice: Page;
let bob: Page;
let bobContext: BrowserContext;
const puts: string[] = [];

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(bytes: Buffer): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** Encodes a real RGB PNG of `width` x `height` in a gradient, so decoders and the thumbnailer accept it. */
function makePng(width: number, height: number, tint: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let px = 0; px < width; px++) row.set([(px * 255) / width, (y * 255) / height, tint], 1 + px * 3);
    rows.push(row);
  }
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(Buffer.concat(rows))), chunk('IEND', Buffer.alloc(0))]);
}

const jidOf = (user: string): string => `${user}@${env.server.domain}`;

/** Builds XEP-0447 file sharing of a voice recording with its XEP-0446 length. */
function voiceSharing(url: string, lengthMs: number) {
  const meta = 'urn:xmpp:file:metadata:0';
  const file = x('file', meta, {}, x('media-type', meta, {}, 'audio/webm'), x('name', meta, {}, 'voice.webm'), x('length', meta, {}, String(lengthMs)));
  return x('file-sharing', 'urn:xmpp:sfs:0', { disposition: 'inline' }, file, x('sources', 'urn:xmpp:sfs:0', {}, x('url-data', 'http://jabber.org/protocol/url-data', { target: url })));
}
const bubbles = (page: Page) => page.getByTestId('message').filter({ has: page.getByTestId('attachment') });

const env = useWebE2e({ users: ['alice', 'bob', 'carol'], password: PASSWORD, server: { upload: { max_file_bytes: MAX_FILE_BYTES } } });

beforeAll(async () => {
  ({ page: alice } = await openDevice(env.browser, `${env.origin}/`, problems));
  alice.on('request', (request: Request) => {
    if (request.method() === 'PUT') puts.push(request.url());
  });
  await signIn(alice, jidOf('alice'), PASSWORD, STEP_MS);
  await alice.goto(`${env.origin}/#/chats/${encodeURIComponent(jidOf('bob'))}`);

  bobContext = await env.browser.newContext({ locale: 'zh-CN', viewport: { width: 1100, height: 700 } });
  const blocked = await keepOnLoopback(bobContext);
  bob = await bobContext.newPage();
  watch(bob, problems, blocked);
  await bob.goto(`${env.origin}/`);
  await signIn(bob, jidOf('bob'), PASSWORD, STEP_MS);
}, 180_000);

afterAll(async () => {
  await bobContext?.close();
});

describe('files in the web client', () => {
  it('image shows as thumbnail and in viewer', async () => {
    await alice.getByTestId('attach-input').setInputFiles({ name: 'gradient.png', mimeType: 'image/png', buffer: makePng(640, 400, 40) });
    const own = bubbles(alice).last();
    await own.getByTestId('attachment-image').waitFor({ timeout: STEP_MS });
    expect(await alice.getByTestId('upload').count()).toBe(0);

    await bob.goto(`${env.origin}/#/chats/${encodeURIComponent(jidOf('alice'))}`);
    const image = bubbles(bob).last().locator('img');
    await image.waitFor({ timeout: STEP_MS });
    expect(await image.getAttribute('src')).toMatch(/\/upload\/.+\/gradient\.png\?thumbnail=320$/);
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: STEP_MS }).toBe(320);
    const box = await image.boundingBox();
    expect(box).not.toBeNull();
    expect(Math.round(box!.width)).toBe(280);
    expect(Math.round(box!.height)).toBe(175);

    await bubbles(bob).last().getByTestId('attachment-image').click();
    const viewer = bob.getByTestId('image-viewer');
    await viewer.getByTestId('viewer-image').waitFor({ timeout: STEP_MS });
    await expect.poll(() => viewer.getByTestId('viewer-image').evaluate((img: HTMLImageElement) => img.naturalWidth), { timeout: STEP_MS }).toBe(640);
    expect(await viewer.getAttribute('aria-label')).toBe('图片查看器：gradient.png');
    await viewer.getByTestId('viewer-zoom').click();
    expect(await viewer.getByTestId('viewer-zoom').getAttribute('aria-pressed')).toBe('true');
    await bob.keyboard.press('Escape');
    await expect.poll(() => viewer.evaluate((dialog: HTMLDialogElement) => dialog.open), { timeout: STEP_MS }).toBe(false);
    await expect.poll(() => conversationRow(bob, jidOf('alice')).getByTestId('conversation-preview').textContent()).toBe('[图片] gradient.png');
  });

  it('file with a Chinese name downloads intact', async () => {
    const bytes = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) % 256))]);
    await alice.getByTestId('attach-input').setInputFiles({ name: PDF_NAME, mimeType: 'application/pdf', buffer: bytes });

    const card = bubbles(bob).last().getByTestId('attachment-file');
    await card.getByTestId('attachment-name').getByText(PDF_NAME, { exact: true }).waitFor({ timeout: STEP_MS });
    expect(await card.getByTestId('attachment-size').textContent()).toBe('4.9 KB');
    const link = card.getByTestId('attachment-download');
    expect(await link.getAttribute('download')).toBe(PDF_NAME);
    const fetched = await link.evaluate(async (a: HTMLAnchorElement) => {
      const response = await fetch(a.href);
      return { bytes: [...new Uint8Array(await response.arrayBuffer())], disposition: response.headers.get('content-disposition') ?? '' };
    });
    expect(Buffer.from(fetched.bytes).equals(bytes)).toBe(true);
    expect(fetched.disposition).toContain(`filename*=UTF-8''${encodeURIComponent(PDF_NAME)}`);
    await expect.poll(() => conversationRow(bob, jidOf('alice')).getByTestId('conversation-preview').textContent()).toBe(`[文件] ${PDF_NAME}`);

    await bob.getByTestId('chat-search-toggle').click();
    await bob.getByTestId('conversation-search-input').fill('季度报告');
    const hit = bob.getByTestId('search-hit').first();
    await hit.waitFor({ timeout: STEP_MS });
    expect(await hit.textContent()).toContain(`[文件] ${PDF_NAME}`);
    await bob.getByTestId('chat-search-toggle').click();
  });

  it('file over the limit is rejected locally', async () => {
    const before = puts.length;
    await alice.getByTestId('attach-input').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(MAX_FILE_BYTES + 1, 1) });
    const refusal = alice.getByTestId('upload-refusal');
    await refusal.waitFor({ timeout: STEP_MS });
    expect(await refusal.textContent()).toContain('“big.bin” was not sent: the file is larger than the server allows (195 KB).');
    expect(await alice.getByTestId('upload').count()).toBe(0);
    expect(puts.length).toBe(before);
    await alice.getByTestId('upload-refusal-dismiss').click();
  });

  it('cancelled upload retries after a reload', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    await alice.route('**/upload/**', async (route) => {
      if (route.request().method() !== 'PUT') return route.fallback();
      await held;
      await route.continue().catch(() => undefined);
    });
    await alice.getByTestId('attach-input').setInputFiles({ name: 'slow.txt', mimeType: 'text/plain', buffer: Buffer.from('slow upload body') });
    const upload = alice.getByTestId('upload').filter({ hasText: 'slow.txt' });
    await upload.getByTestId('upload-cancel').waitFor({ timeout: STEP_MS });
    await upload.getByTestId('upload-cancel').click();
    await upload.getByTestId('upload-failure').waitFor({ timeout: STEP_MS });
    expect(await upload.getByTestId('upload-failure').getAttribute('data-failure')).toBe('cancelled');
    release();
    await alice.unroute('**/upload/**');

    await alice.reload();
    await alice.locator('[data-testid="main-layout"][data-connection-status="online"]').waitFor({ timeout: STEP_MS });
    const again = alice.getByTestId('upload').filter({ hasText: 'slow.txt' });
    await again.getByTestId('upload-retry').waitFor({ timeout: STEP_MS });
    await again.getByTestId('upload-retry').click();
    await again.waitFor({ state: 'detached', timeout: STEP_MS });

    await bubbles(bob).last().getByTestId('attachment-name').getByText('slow.txt', { exact: true }).waitFor({ timeout: STEP_MS });
  });

  it('dropped files are sent', async () => {
    const column = alice.getByTestId('drop-zone').locator('..');
    const transfer = await alice.evaluateHandle(() => {
      const data = new DataTransfer();
      data.items.add(new File(['dropped bytes'], 'dropped notes.txt', { type: 'text/plain' }));
      data.items.add(new File(['second dropped file'], 'second.txt', { type: 'text/plain' }));
      return data;
    });
    await column.dispatchEvent('dragenter', { dataTransfer: transfer });
    await alice.getByTestId('drop-zone').getByText('Drop files here to send them').waitFor({ timeout: STEP_MS });
    await column.dispatchEvent('drop', { dataTransfer: transfer });
    for (const name of ['dropped notes.txt', 'second.txt']) {
      await bubbles(bob).getByTestId('attachment-name').getByText(name, { exact: true }).waitFor({ timeout: STEP_MS });
    }
    expect(await alice.getByTestId('drop-zone').getByText('Drop files here to send them').count()).toBe(0);
  });

  it('pasted screenshot gets a localized name', async () => {
    const png = [...makePng(200, 100, 200)];
    await alice.getByTestId('composer-input').evaluate((input, bytes) => {
      const data = new DataTransfer();
      data.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
      input.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    }, png);
    const image = bubbles(bob).last().locator('img');
    await expect.poll(() => image.getAttribute('alt'), { timeout: STEP_MS }).toMatch(/^Screenshot \d{4}-\d\d-\d\d \d\d\.\d\d\.png$/);
    const box = await image.boundingBox();
    expect(box).not.toBeNull();
    expect(Math.round(box!.width)).toBe(200);
    expect(await alice.getByTestId('composer-input').inputValue()).toBe('');

    await bubbles(bob).filter({ has: bob.locator('img[alt="gradient.png"]') }).getByTestId('attachment-image').click();
    const viewer = bob.getByTestId('image-viewer');
    await viewer.getByTestId('viewer-name').getByText('gradient.png', { exact: true }).waitFor({ timeout: STEP_MS });
    await bob.keyboard.press('ArrowRight');
    await expect.poll(() => viewer.getByTestId('viewer-name').textContent(), { timeout: STEP_MS }).toMatch(/^Screenshot /);
    expect(await viewer.getByTestId('viewer-next').isDisabled()).toBe(true);
    await viewer.getByTestId('viewer-previous').click();
    await expect.poll(() => viewer.getByTestId('viewer-name').textContent(), { timeout: STEP_MS }).toBe('gradient.png');
    await viewer.getByTestId('viewer-close').click();
    await expect.poll(() => viewer.evaluate((dialog: HTMLDialogElement) => dialog.open), { timeout: STEP_MS }).toBe(false);
  });

  it('OOB-only and voice messages render as files', async () => {
    const src = (await bubbles(bob).filter({ has: bob.locator('img[alt="gradient.png"]') }).first().locator('img').getAttribute('src')) ?? '';
    const url = src.replace(/\?thumbnail=\d+$/, '');
    const voiceUrl = `${env.origin}/upload/none/voice.webm`;
    const carol = await TestClient.connect(env.server, { username: 'carol', password: PASSWORD });
    carol.send(x('message', NS.CLIENT, { to: jidOf('bob'), type: 'chat', id: 'voice1' }, x('body', NS.CLIENT, {}, voiceUrl), voiceSharing(voiceUrl, 7400)));
    carol.send(x('message', NS.CLIENT, { to: jidOf('bob'), type: 'chat', id: 'oob1' }, x('body', NS.CLIENT, {}, url), x('x', 'jabber:x:oob', {}, x('url', 'jabber:x:oob', {}, url))));
    await carol.iq(x('iq', NS.CLIENT, { type: 'get' }, x('ping', 'urn:xmpp:ping')));
    await carol.close();

    await conversationRow(bob, jidOf('carol')).getByTestId('conversation-preview').getByText('[图片] gradient.png', { exact: true }).waitFor({ timeout: STEP_MS });
    await bob.goto(`${env.origin}/#/chats/${encodeURIComponent(jidOf('carol'))}`);
    const image = bubbles(bob).last().locator('img');
    await image.waitFor({ timeout: STEP_MS });
    expect(await bubbles(bob).last().getByTestId('message-body').count()).toBe(0);
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: STEP_MS }).toBe(320);

    // The recording's file is missing, so the element never learns its length: the metadata gives it.
    const voice = bob.getByTestId('attachment-voice');
    expect(await voice.getByTestId('voice-duration').textContent()).toBe('0:07');
    expect(await voice.getByTestId('voice-toggle').getAttribute('aria-label')).toBe('播放语音消息');
    expect(problems.errors.filter((error) => !error.includes('404'))).toEqual([]);
  });
});
