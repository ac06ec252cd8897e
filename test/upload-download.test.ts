import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadServiceOf } from '../packages/server/src/modules/upload/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { type TestSlot, local, upload } from './support/upload.js';

const PASSWORD = 'download-pw';

/** Reads the file name of a Content-Disposition as RFC 6266 specifies for browsers: filename* first. */
function dispositionName(header: string | null): { type: string; name: string; fallback: string } {
  const value = header ?? '';
  const type = value.split(';', 1)[0]!.trim();
  const extended = /filename\*=UTF-8''([^;]+)/i.exec(value)?.[1];
  const fallback = /filename="([^"]*)"/.exec(value)?.[1] ?? '';
  return { type, name: extended === undefined ? fallback : decodeURIComponent(extended), fallback };
}

describe('HTTP file upload: downloads', () => {
  let server: TestServer;
  let alice: TestClient;
  const body = new Uint8Array(1000).map((_, i) => i % 256);
  let pdf: TestSlot;

  beforeAll(async () => {
    server = await startTestServer();
    await server.createAccount('alice', PASSWORD);
    alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
    pdf = await upload(server, alice, 'report.pdf', body, 'application/pdf');
  });

  afterAll(async () => {
    await alice?.close();
    await server?.stop();
  });

  it('sends the file with type, length, validators, caching and safety headers', async () => {
    const response = await fetch(local(server, pdf.getUrl));
    expect(response.status).toBe(200);
    const headers = response.headers;
    expect(headers.get('content-type')).toBe('application/pdf');
    expect(headers.get('content-length')).toBe('1000');
    expect(headers.get('etag')).toMatch(/^"[A-Za-z0-9_-]+"$/);
    expect(Date.parse(headers.get('last-modified')!)).toBeGreaterThan(Date.now() - 60_000);
    expect(headers.get('cache-control')).toContain('immutable');
    expect(headers.get('x-content-type-options')).toBe('nosniff');
    expect(headers.get('content-security-policy')).toContain('sandbox');
    expect(headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(headers.get('access-control-allow-origin')).toBe('*');
    expect(headers.get('accept-ranges')).toBe('bytes');
    expect(dispositionName(headers.get('content-disposition'))).toEqual({ type: 'attachment', name: 'report.pdf', fallback: 'report.pdf' });
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(body);
  });

  it('keeps names with spaces and Chinese characters in Content-Disposition', async () => {
    for (const name of ['my report (final).pdf', '报告 2026.pdf', "it's 100%.txt"]) {
      const slot = await upload(server, alice, name, new Uint8Array([1]), 'application/pdf');
      const response = await fetch(local(server, slot.getUrl));
      expect(response.status, name).toBe(200);
      const disposition = dispositionName(response.headers.get('content-disposition'));
      expect(disposition.name).toBe(name);
      expect(disposition.fallback).toMatch(/^[\x20-\x7e]+$/);
    }
    const chinese = dispositionName((await fetch(local(server, (await upload(server, alice, '报告 2026.pdf', new Uint8Array([2]), 'application/pdf')).getUrl))).headers.get('content-disposition'));
    expect(chinese.fallback).toBe('__ 2026.pdf');
  });

  it('shows images, audio and video inline, other types as attachments', async () => {
    const png = await upload(server, alice, 'dot.png', await sharp({ create: { width: 4, height: 4, channels: 3, background: '#f00' } }).png().toBuffer(), 'image/png');
    expect(dispositionName((await fetch(local(server, png.getUrl))).headers.get('content-disposition')).type).toBe('inline');
    const audio = await upload(server, alice, 'voice.ogg', new Uint8Array(8), 'audio/ogg');
    expect(dispositionName((await fetch(local(server, audio.getUrl))).headers.get('content-disposition')).type).toBe('inline');
    const text = await upload(server, alice, 'notes.txt', new Uint8Array(8), 'text/plain');
    expect(dispositionName((await fetch(local(server, text.getUrl))).headers.get('content-disposition')).type).toBe('attachment');
  });

  it('answers HEAD with the headers and no body', async () => {
    const response = await fetch(local(server, pdf.getUrl), { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('1000');
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('etag')).toMatch(/^"/);
    expect((await response.arrayBuffer()).byteLength).toBe(0);
  });

  it('serves single byte ranges and refuses unsatisfiable ones', async () => {
    const url = local(server, pdf.getUrl);
    const first = await fetch(url, { headers: { Range: 'bytes=0-9' } });
    expect(first.status).toBe(206);
    expect(first.headers.get('content-range')).toBe('bytes 0-9/1000');
    expect(first.headers.get('content-length')).toBe('10');
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(body.slice(0, 10));

    const middle = await fetch(url, { headers: { Range: 'bytes=500-599' } });
    expect(middle.status).toBe(206);
    expect(new Uint8Array(await middle.arrayBuffer())).toEqual(body.slice(500, 600));

    const open = await fetch(url, { headers: { Range: 'bytes=990-' } });
    expect(open.headers.get('content-range')).toBe('bytes 990-999/1000');
    expect(new Uint8Array(await open.arrayBuffer())).toEqual(body.slice(990));

    const suffix = await fetch(url, { headers: { Range: 'bytes=-5' } });
    expect(suffix.status).toBe(206);
    expect(suffix.headers.get('content-range')).toBe('bytes 995-999/1000');
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(body.slice(995));

    const beyond = await fetch(url, { headers: { Range: 'bytes=1000-' } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe('bytes */1000');
    expect(beyond.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    // A request for several ranges gets the whole file, which RFC 9110 allows.
    const several = await fetch(url, { headers: { Range: 'bytes=0-1,5-6' } });
    expect(several.status).toBe(200);
    expect((await several.arrayBuffer()).byteLength).toBe(1000);
  });

  it('honours If-Range and If-None-Match', async () => {
    const url = local(server, pdf.getUrl);
    const etag = (await fetch(url, { method: 'HEAD' })).headers.get('etag')!;
    const matching = await fetch(url, { headers: { Range: 'bytes=0-1', 'If-Range': etag } });
    expect(matching.status).toBe(206);
    const stale = await fetch(url, { headers: { Range: 'bytes=0-1', 'If-Range': '"another"' } });
    expect(stale.status).toBe(200);
    expect((await stale.arrayBuffer()).byteLength).toBe(1000);

    const cached = await fetch(url, { headers: { 'If-None-Match': etag } });
    expect(cached.status).toBe(304);
  });

  it('answers the CORS preflight of a browser client on another origin', async () => {
    const response = await fetch(local(server, pdf.putUrl), {
      method: 'OPTIONS',
      headers: { Origin: 'https://chat.other.example', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'authorization, content-type' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toContain('PUT');
    const allowed = response.headers.get('access-control-allow-headers')!.toLowerCase();
    expect(allowed).toContain('authorization');
    expect(allowed).toContain('content-type');
  });

  it('answers 404 for a wrong file name in the URL', async () => {
    const url = new URL(local(server, pdf.getUrl));
    url.pathname = url.pathname.replace(/[^/]+$/, 'other.pdf');
    const response = await fetch(url);
    expect(response.status).toBe(404);
  });
});

describe('HTTP file upload: thumbnails', () => {
  let server: TestServer;
  let alice: TestClient;

  beforeAll(async () => {
    server = await startTestServer();
    await server.createAccount('alice', PASSWORD);
    alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
  });

  afterAll(async () => {
    await alice?.close();
    await server?.stop();
  });

  async function thumbnail(slot: TestSlot, width: number | string): Promise<Response> {
    return fetch(`${local(server, slot.getUrl)}?thumbnail=${width}`);
  }

  it('makes a WebP thumbnail of a PNG at the asked width, once', async () => {
    const png = await sharp({ create: { width: 1000, height: 500, channels: 4, background: { r: 0, g: 128, b: 255, alpha: 0.5 } } }).png().toBuffer();
    const slot = await upload(server, alice, 'wide.png', png, 'image/png');

    const response = await thumbnail(slot, 320);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/webp');
    const image = Buffer.from(await response.arrayBuffer());
    const metadata = await sharp(image).metadata();
    expect([metadata.format, metadata.width, metadata.height, metadata.hasAlpha]).toEqual(['webp', 320, 160, true]);

    // The second request is served from the stored thumbnail.
    const { store } = uploadServiceOf(server.server)!.service;
    const id = new URL(slot.getUrl).pathname.split('/')[2]!;
    const made = await store.stat(`${id}.t320`);
    expect(made?.size).toBe(image.length);
    const again = await thumbnail(slot, 320);
    expect(Buffer.from(await again.arrayBuffer()).equals(image)).toBe(true);
    expect((await store.stat(`${id}.t320`))?.modifiedAt).toBe(made!.modifiedAt);
  });

  it('applies EXIF orientation and strips metadata of a JPEG', async () => {
    // 800 × 400 pixels stored sideways: orientation 6 turns it into 400 × 800 for display.
    const jpeg = await sharp({ create: { width: 800, height: 400, channels: 3, background: '#336699' } })
      .jpeg()
      .withMetadata({ orientation: 6, exif: { IFD0: { Copyright: 'someone' } } })
      .toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);
    const slot = await upload(server, alice, 'sideways.jpg', jpeg, 'image/jpeg');

    const response = await thumbnail(slot, 160);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    const metadata = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(['jpeg', 160, 320]);
    expect(metadata.exif).toBeUndefined();
    expect(metadata.orientation).toBeUndefined();
  });

  it('does not enlarge small images and takes the first frame of a GIF', async () => {
    const gif = await sharp({ create: { width: 100, height: 50, channels: 3, background: '#0f0' } }).gif().toBuffer();
    const slot = await upload(server, alice, 'small.gif', gif, 'image/gif');
    const metadata = await sharp(Buffer.from(await (await thumbnail(slot, 640)).arrayBuffer())).metadata();
    expect([metadata.format, metadata.width, metadata.height]).toEqual(['webp', 100, 50]);
  });

  it('refuses other widths, non-images and files that do not decode', async () => {
    const png = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#000' } }).png().toBuffer();
    const image = await upload(server, alice, 'tiny.png', png, 'image/png');
    for (const width of [100, 0, 'big', 10_000]) {
      const response = await thumbnail(image, width);
      expect(response.status, String(width)).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }

    const text = await upload(server, alice, 'notes.txt', new TextEncoder().encode('no image'), 'text/plain');
    const notImage = await thumbnail(text, 160);
    expect(notImage.status).toBe(404);
    expect(notImage.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    const corrupt = await upload(server, alice, 'broken.png', new Uint8Array(2000).map((_, i) => (i * 7) % 256), 'image/png');
    const undecodable = await thumbnail(corrupt, 160);
    expect(undecodable.status).toBe(415);
    expect(undecodable.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    const truncated = await upload(server, alice, 'cut.png', (await sharp({ create: { width: 300, height: 300, channels: 3, background: '#abc' } }).png().toBuffer()).subarray(0, 200), 'image/png');
    expect((await thumbnail(truncated, 160)).status).toBe(415);

    // The server still serves after the failures.
    expect((await thumbnail(image, 160)).status).toBe(200);
  });
});
