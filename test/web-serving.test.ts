import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

// The server's HTTP listener serving the built web client at / (net/web-client.ts).
interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends a raw request, so that paths reach the server exactly as written (no URL normalization). */
function fetchRaw(port: number, rawPath: string, options: { method?: string; headers?: Record<string, string> } = {}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: rawPath, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

const INDEX = '<!doctype html><title>Parley test build</title><div id="app"></div>';

let root: string;
let outside: string;
let server: TestServer;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'parley-web-root-'));
  outside = await mkdtemp(path.join(tmpdir(), 'parley-web-outside-'));
  await mkdir(path.join(root, 'assets'));
  await writeFile(path.join(root, 'index.html'), INDEX);
  await writeFile(path.join(root, 'assets', 'index-AbC123.js'), 'console.log("app");');
  await writeFile(path.join(root, 'assets', 'index-AbC123.css'), 'body{}');
  await writeFile(path.join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(path.join(outside, 'secret.txt'), 'secret');
  await symlink(path.join(outside, 'secret.txt'), path.join(root, 'linked.txt'));
  server = await startTestServer({ web: { root } });
});

afterAll(async () => {
  await server?.stop();
  await rm(root, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

describe('files', () => {
  it('serves index.html at / without caching', async () => {
    const res = await fetchRaw(server.httpPort, '/');
    expect(res.status).toBe(200);
    expect(res.body).toBe(INDEX);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-cache');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });

  it('serves hashed assets as immutable with their content type', async () => {
    const js = await fetchRaw(server.httpPort, '/assets/index-AbC123.js');
    expect(js.status).toBe(200);
    expect(js.body).toBe('console.log("app");');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');

    const css = await fetchRaw(server.httpPort, '/assets/index-AbC123.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    const svg = await fetchRaw(server.httpPort, '/favicon.svg');
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.headers['cache-control']).toBe('no-cache');
  });

  it('answers HEAD and a matching If-None-Match', async () => {
    const head = await fetchRaw(server.httpPort, '/assets/index-AbC123.js', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String('console.log("app");'.length));

    const etag = String(head.headers.etag);
    const again = await fetchRaw(server.httpPort, '/assets/index-AbC123.js', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });
});

describe('client routes', () => {
  it('falls back to index.html for client routes', async () => {
    for (const route of ['/chat/alice@example.test', '/settings', '/contacts/', '/chat/room@conference.example.test?x=1']) {
      const res = await fetchRaw(server.httpPort, route);
      expect(res.status, route).toBe(200);
      expect(res.body, route).toBe(INDEX);
      expect(res.headers['cache-control']).toBe('no-cache');
    }
  });

  it('never falls back for missing files or the server paths', async () => {
    for (const missing of ['/assets/gone-123.js', '/nothing.png', '/api', '/.well-known/nothing', '/xmpp-websocket/x', '/health/x']) {
      const res = await fetchRaw(server.httpPort, missing);
      expect(res.status, missing).toBe(404);
      expect(res.body, missing).not.toContain('Parley test build');
    }
    // The admin API handles its own paths (with 401 or 404, its choice), never with the client.
    const api = await fetchRaw(server.httpPort, '/api/v1/does-not-exist');
    expect(api.status).toBeGreaterThanOrEqual(400);
    expect(api.body).not.toContain('Parley test build');
  });

  it('leaves the server routes alone', async () => {
    const health = await fetchRaw(server.httpPort, '/health');
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    const hostMeta = await fetchRaw(server.httpPort, '/.well-known/host-meta.json');
    expect(hostMeta.headers['content-type']).toContain('application/json');
  });
});

describe('safety', () => {
  it('lists no directory', async () => {
    const res = await fetchRaw(server.httpPort, '/assets/');
    expect(res.status).toBe(404);
    expect(res.body).not.toContain('index-AbC123');
  });

  it('keeps every path inside the root', async () => {
    for (const attack of ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2f..%2fetc%2fpasswd', '/..%5c..%5cetc%5cpasswd', '/linked.txt', '/%00index.html']) {
      const res = await fetchRaw(server.httpPort, attack);
      expect([400, 404], attack).toContain(res.status);
      expect(res.body, attack).not.toMatch(/root:|secret/);
    }
  });
});

describe('configuration', () => {
  it('explains how to build when the build is missing', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'parley-web-empty-'));
    const bare = await startTestServer({ web: { root: empty } });
    try {
      const res = await fetchRaw(bare.httpPort, '/');
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.body).toContain('npm run build');
    } finally {
      await bare.stop();
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('serves nothing at / when disabled', async () => {
    const off = await startTestServer({ web: { enabled: false, root } });
    try {
      expect((await fetchRaw(off.httpPort, '/')).status).toBe(404);
      expect((await fetchRaw(off.httpPort, '/chat/x')).status).toBe(404);
    } finally {
      await off.stop();
    }
  });
});
