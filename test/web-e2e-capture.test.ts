import { afterAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { keepOnLoopback, launchChromium, type ChromiumOptions } from './support/browser.js';
import { signIn, watch, type PageProblems, useWebE2e } from './support/web-e2e.js';

// Screenshots, voice and video messages from Chromium's fake devices. Alice crops a frame of
// the fake screen and records about 2 s of the fake microphone and of the fake camera. Each
// arrives at bob as an image, a voice player and a video, with real bytes on the upload service.
const PASSWORD = 'capture-password';
const STEP_MS = 20_000;
const RECORD_MS = 2_200;
const TEST_MS = 60_000;

const problems: PageProblems = { errors: [] };
const contexts: BrowserContext[] = [];

const env = useWebE2e({ users: ['alice', 'bob'], password: PASSWORD, browser: { fakeMedia: 'accept' } });

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
});

const jidOf = (user: string): string => `${user}@${env.server.domain}`;

/** Records every stream the page gets from getUserMedia and getDisplayMedia in `window.captureStreams`. */
function recordStreams(): void {
  const streams: MediaStream[] = [];
  Object.assign(window, { captureStreams: streams });
  for (const method of ['getUserMedia', 'getDisplayMedia'] as const) {
    const original = MediaDevices.prototype[method] as (this: MediaDevices, constraints?: MediaStreamConstraints) => Promise<MediaStream>;
    MediaDevices.prototype[method] = async function (this: MediaDevices, constraints?: MediaStreamConstraints) {
      const stream = await original.call(this, constraints);
      streams.push(stream);
      return stream;
    };
  }
}

/** Opens a signed-in page on the chat with `peer`. */
async function openChat(user: string, peer: string, locale = 'en-US'): Promise<Page> {
  const context = await env.browser.newContext({ locale, viewport: { width: 1100, height: 760 } });
  contexts.push(context);
  const blocked = await keepOnLoopback(context);
  await context.addInitScript(recordStreams);
  const page = await context.newPage();
  watch(page, problems, blocked);
  await page.goto(`${env.origin}/`);
  await signIn(page, jidOf(user), PASSWORD, STEP_MS);
  await page.goto(`${env.origin}/#/chats/${encodeURIComponent(jidOf(peer))}`);
  await page.getByTestId('composer').waitFor({ timeout: STEP_MS });
  return page;
}

/** Counts the capture tracks of the page that still run. */
function liveTracks(page: Page): Promise<number> {
  return page.evaluate(() => {
    const streams = (window as unknown as { captureStreams: MediaStream[] }).captureStreams;
    return streams.flatMap((stream) => stream.getTracks()).filter((track) => track.readyState === 'live').length;
  });
}

function streamCount(page: Page): Promise<number> {
  return page.evaluate(() => (window as unknown as { captureStreams: MediaStream[] }).captureStreams.length);
}

/** Reads the crop editor's size line, "Selected area, W × H pixels". */
async function cropSize(page: Page): Promise<{ width: number; height: number }> {
  const label = (await page.getByTestId('crop-size').textContent()) ?? '';
  const match = /(\d+) × (\d+)/.exec(label);
  expect(match, label).not.toBeNull();
  return { width: Number(match![1]), height: Number(match![2]) };
}

/** Waits for the PUT of a file to the upload service. */
function nextUpload(page: Page): Promise<Request> {
  return page.waitForRequest((request) => request.method() === 'PUT' && new URL(request.url()).pathname.startsWith('/upload/'), { timeout: STEP_MS });
}

/** Reads width and height from a PNG's IHDR chunk. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

/** Downloads `url` as a third party would, without cookies or tokens. */
async function download(url: string): Promise<{ type: string; bytes: Buffer }> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return { type: response.headers.get('content-type') ?? '', bytes: Buffer.from(await response.arrayBuffer()) };
}

function attachment(page: Page, kind: string) {
  return page.locator(`[data-testid="attachment"][data-kind="${kind}"]`);
}

/**
 * Opens the voice and the video dialog as alice in a zh-CN browser launched with `options`,
 * and expects each to show its error and send nothing.
 */
async function expectProblems(options: ChromiumOptions, voiceError: string, videoError: string): Promise<void> {
  const other = await launchChromium(options);
  try {
    const context = await other.newContext({ locale: 'zh-CN' });
    const blocked = await keepOnLoopback(context);
    const page = await context.newPage();
    watch(page, problems, blocked);
    let uploads = 0;
    page.on('request', (request) => {
      if (request.method() === 'PUT') uploads++;
    });
    await page.goto(`${env.origin}/`);
    await signIn(page, jidOf('alice'), PASSWORD, STEP_MS);
    await page.goto(`${env.origin}/#/chats/${encodeURIComponent(jidOf('bob'))}`);

    await page.getByTestId('capture-voice').click();
    await expect.poll(() => page.getByTestId('capture-error').textContent(), { timeout: STEP_MS }).toBe(voiceError);
    expect(await page.getByTestId('capture-stop-send').count()).toBe(0);
    await page.getByTestId('capture-cancel').click();

    await page.getByTestId('capture-video').click();
    await expect.poll(() => page.getByTestId('capture-error').textContent(), { timeout: STEP_MS }).toBe(videoError);
    expect(await page.getByTestId('capture-record').count()).toBe(0);
    await page.getByTestId('capture-cancel').click();
    await page.getByTestId('video-dialog').waitFor({ state: 'detached' });
    expect(uploads).toBe(0);
  } finally {
    await other.close();
  }
}

describe('web client capture', () => {
  let alice: Page;
  let bob: Page;

  it('opens both chats', { timeout: TEST_MS }, async () => {
    alice = await openChat('alice', 'bob');
    bob = await openChat('bob', 'alice');
    await expect.poll(() => alice.getByTestId('capture-voice').getAttribute('aria-label')).toBe('Record a voice message');
  });

  it('sends a cropped screenshot', { timeout: TEST_MS }, async () => {
    await alice.getByTestId('capture-screenshot').click();
    const stage = alice.getByTestId('crop-stage');
    await stage.waitFor({ timeout: STEP_MS });
    await expect.poll(() => stage.locator('img').evaluate((image: HTMLImageElement) => image.naturalWidth), { timeout: STEP_MS }).toBeGreaterThan(0);
    const screen = await stage.locator('img').evaluate((image: HTMLImageElement) => ({ width: image.naturalWidth, height: image.naturalHeight }));
    expect(await cropSize(alice)).toEqual(screen);
    expect(await liveTracks(alice)).toBe(0);

    const box = (await stage.boundingBox())!;
    await alice.mouse.move(box.x + box.width * 0.2, box.y + box.height * 0.25);
    await alice.mouse.down();
    await alice.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 5 });
    await alice.mouse.move(box.x + box.width * 0.7, box.y + box.height * 0.8, { steps: 5 });
    await alice.mouse.up();
    const drawn = await cropSize(alice);
    expect(Math.abs(drawn.width - screen.width * 0.5)).toBeLessThanOrEqual(3);
    expect(Math.abs(drawn.height - screen.height * 0.55)).toBeLessThanOrEqual(3);

    // Shift with an arrow key resizes by 1 % of the longer side.
    const step = Math.round(Math.max(screen.width, screen.height) / 100);
    await alice.getByTestId('crop-selection').focus();
    await alice.keyboard.press('Shift+ArrowLeft');
    await alice.keyboard.press('ArrowLeft');
    expect(await cropSize(alice)).toEqual({ width: drawn.width - step, height: drawn.height });

    // The east handle widens the selection by the distance it is dragged.
    const handle = (await stage.locator('[data-handle="e"]').boundingBox())!;
    await alice.mouse.move(handle.x + handle.width / 2, handle.y + handle.height / 2);
    await alice.mouse.down();
    await alice.mouse.move(handle.x + handle.width / 2 + box.width * 0.1, handle.y + handle.height / 2, { steps: 4 });
    await alice.mouse.up();
    const { width, height } = await cropSize(alice);
    expect(Math.abs(width - (drawn.width - step + screen.width * 0.1))).toBeLessThanOrEqual(3);
    expect(height).toBe(drawn.height);

    const upload = nextUpload(alice);
    await alice.getByTestId('capture-send').click();
    const put = await upload;
    expect(put.headers()['content-type']).toBe('image/png');
    expect(decodeURIComponent(new URL(put.url()).pathname)).toMatch(/\/Screenshot \d{4}-\d\d-\d\d \d\d\.\d\d\.png$/);

    const image = attachment(bob, 'image').locator('img');
    await image.waitFor({ timeout: STEP_MS });
    await expect.poll(() => image.evaluate((element: HTMLImageElement) => element.complete && element.naturalWidth), { timeout: STEP_MS }).toBeGreaterThan(0);
    const file = await download(put.url());
    expect(file.type).toMatch(/^image\/png/);
    expect(pngSize(file.bytes)).toEqual({ width, height });
  });

  it('discards a voice message under a second', { timeout: TEST_MS }, async () => {
    const before = await streamCount(alice);
    await alice.getByTestId('capture-voice').click();
    const stop = alice.getByTestId('capture-stop-send');
    await expect.poll(() => stop.isEnabled(), { timeout: STEP_MS }).toBe(true);
    await stop.click();
    await alice.getByTestId('capture-too-short').waitFor({ timeout: STEP_MS });
    expect(await streamCount(alice)).toBe(before + 1);
    expect(await liveTracks(alice)).toBe(0);
    await alice.getByTestId('capture-cancel').click();
    await alice.getByTestId('voice-dialog').waitFor({ state: 'detached' });
    expect(await attachment(bob, 'voice').count()).toBe(0);
  });

  it('sends a voice message', { timeout: TEST_MS }, async () => {
    await alice.getByTestId('capture-voice').click();
    const stop = alice.getByTestId('capture-stop-send');
    await expect.poll(() => stop.isEnabled(), { timeout: STEP_MS }).toBe(true);
    await expect.poll(() => alice.getByTestId('capture-level').getAttribute('aria-valuenow').then(Number), { timeout: STEP_MS }).toBeGreaterThan(0);
    await alice.waitForTimeout(RECORD_MS);
    expect(await alice.getByTestId('capture-timer').textContent()).toMatch(/^\s*0:0[2-4] of 5:00\s*$/);

    const upload = nextUpload(alice);
    await stop.click();
    const put = await upload;
    expect(put.headers()['content-type']).toBe('audio/webm');
    expect(await liveTracks(alice)).toBe(0);

    const voice = attachment(bob, 'voice');
    await voice.waitFor({ timeout: STEP_MS });
    await expect.poll(() => voice.getByTestId('voice-duration').textContent(), { timeout: STEP_MS }).toMatch(/^0:0[2-3]$/);
    // The recorder wrote the length into the WebM header, so the player knows it before playing.
    await expect.poll(() => voice.locator('audio').evaluate((audio: HTMLAudioElement) => audio.duration), { timeout: STEP_MS }).toBeGreaterThan(1.8);
    expect(await voice.locator('audio').evaluate((audio: HTMLAudioElement) => audio.duration)).toBeLessThan(4);
    const file = await download(put.url());
    expect(file.type).toMatch(/^audio\/webm/);
    expect(file.bytes.length).toBeGreaterThan(2_000);
    // Every WebM file starts with the EBML header's ID.
    expect(file.bytes.readUInt32BE(0)).toBe(0x1a45dfa3);
  });

  it('sends a video message', { timeout: TEST_MS }, async () => {
    await alice.getByTestId('capture-video').click();
    const record = alice.getByTestId('capture-record');
    await expect.poll(() => record.isEnabled(), { timeout: STEP_MS }).toBe(true);
    await expect.poll(() => alice.getByTestId('capture-preview').evaluate((video: HTMLVideoElement) => video.videoWidth), { timeout: STEP_MS }).toBe(640);
    await record.click();
    await alice.getByTestId('capture-stop').waitFor({ timeout: STEP_MS });
    await alice.waitForTimeout(RECORD_MS);
    await alice.getByTestId('capture-stop').click();

    const review = alice.getByTestId('capture-review');
    await review.waitFor({ timeout: STEP_MS });
    expect(await liveTracks(alice)).toBe(0);
    await expect.poll(() => review.evaluate((video: HTMLVideoElement) => video.readyState), { timeout: STEP_MS }).toBeGreaterThanOrEqual(1);

    const upload = nextUpload(alice);
    await alice.getByTestId('capture-send').click();
    const put = await upload;
    expect(put.headers()['content-type']).toBe('video/webm');

    const video = attachment(bob, 'video').getByTestId('attachment-video');
    await video.waitFor({ timeout: STEP_MS });
    expect(await attachment(bob, 'video').textContent()).toMatch(/0:0[2-3]/);
    await expect.poll(() => video.evaluate((element: HTMLVideoElement) => element.videoWidth), { timeout: STEP_MS }).toBe(640);
    const duration = await video.evaluate((element: HTMLVideoElement) => element.duration);
    expect(duration).toBeGreaterThan(1.8);
    expect(duration).toBeLessThan(4);
    const file = await download(put.url());
    expect(file.type).toMatch(/^video\/webm/);
    expect(file.bytes.length).toBeGreaterThan(10_000);
    expect(file.bytes.readUInt32BE(0)).toBe(0x1a45dfa3);
  });

  it('reports denied devices in Chinese', { timeout: TEST_MS }, async () => {
    await expectProblems({ fakeMedia: 'deny' }, '浏览器禁止此网站使用麦克风。请在网站设置中允许后重试。', '浏览器禁止此网站使用摄像头或麦克风。请在网站设置中允许后重试。');
  });

  it('reports missing devices in Chinese', { timeout: TEST_MS }, async () => {
    // Without the fake-media switches, Chromium finds no camera and no microphone on this machine.
    await expectProblems({}, '未找到麦克风。', '未找到摄像头或麦克风。');
  });

  it('closes the camera on Escape', { timeout: TEST_MS }, async () => {
    await alice.getByTestId('capture-video').click();
    await expect.poll(() => alice.getByTestId('capture-record').isEnabled(), { timeout: STEP_MS }).toBe(true);
    expect(await liveTracks(alice)).toBe(2);
    await alice.keyboard.press('Escape');
    await alice.getByTestId('video-dialog').waitFor({ state: 'detached' });
    expect(await liveTracks(alice)).toBe(0);
    expect(problems.errors).toEqual([]);
  });
});
