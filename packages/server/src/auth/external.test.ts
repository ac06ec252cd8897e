import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { ExternalAuth } from './external.js';

type Handler = (body: Record<string, unknown>, response: ServerResponse) => void;

let endpoint: Server;
let url: string;
let handler: Handler;
let requests: Array<Record<string, unknown>>;

beforeAll(async () => {
  endpoint = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      requests.push(body);
      handler(body, response);
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/check`;
});

afterAll(async () => {
  endpoint.closeAllConnections();
  await new Promise((resolve) => endpoint.close(resolve));
});

beforeEach(() => {
  requests = [];
  handler = (body, response) => {
    const ok = body.username === 'alice' && body.password === 'secret';
    response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ ok }));
  };
});

function json(status: number, body: string): Handler {
  return (_body, response) => response.writeHead(status, { 'content-type': 'application/json' }).end(body);
}

describe('ExternalAuth', () => {
  it('posts username, domain and password', async () => {
    const auth = new ExternalAuth({ url, timeoutMs: 2000, cacheSeconds: 0 });
    expect(await auth.check('alice', 'example.test', 'secret')).toBe('ok');
    expect(requests).toEqual([{ username: 'alice', domain: 'example.test', password: 'secret' }]);
  });

  it('rejects a wrong password', async () => {
    const auth = new ExternalAuth({ url, timeoutMs: 2000, cacheSeconds: 0 });
    expect(await auth.check('alice', 'example.test', 'wrong')).toBe('rejected');
  });

  const rejections: Array<[string, Handler]> = [
    ['200 without ok', json(200, '{}')],
    ['200 with ok "true"', json(200, '{"ok":"true"}')],
    ['200 with invalid JSON', json(200, 'ok')],
    ['204', (_body, response) => response.writeHead(204).end()],
    ['302 redirect', (_body, response) => response.writeHead(302, { location: 'http://127.0.0.1:1/' }).end()],
    ['403 with ok true', json(403, '{"ok":true}')],
    ['a body beyond 4 KiB', json(200, `{"ok":true,"pad":"${'x'.repeat(5000)}"}`)],
  ];
  for (const [name, reply] of rejections) {
    it(`rejects ${name}`, async () => {
      handler = reply;
      const auth = new ExternalAuth({ url, timeoutMs: 2000, cacheSeconds: 0 });
      expect(await auth.check('alice', 'example.test', 'secret')).toBe('rejected');
    });
  }

  it('reports 5xx as unavailable', async () => {
    handler = json(503, '{"ok":true}');
    const auth = new ExternalAuth({ url, timeoutMs: 2000, cacheSeconds: 0 });
    expect(await auth.check('alice', 'example.test', 'secret')).toBe('unavailable');
  });

  it('reports a timeout as unavailable', async () => {
    handler = () => undefined;
    const auth = new ExternalAuth({ url, timeoutMs: 200, cacheSeconds: 0 });
    const started = Date.now();
    expect(await auth.check('alice', 'example.test', 'secret')).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports a closed port as unavailable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const auth = new ExternalAuth({ url: `http://127.0.0.1:${port}/`, timeoutMs: 2000, cacheSeconds: 0 });
    expect(await auth.check('alice', 'example.test', 'secret')).toBe('unavailable');
  });

  it('serves a cached success without a request until the TTL ends', async () => {
    let now = 1_000_000;
    const auth = new ExternalAuth({ url, timeoutMs: 2000, cacheSeconds: 60, now: () => now });
    expect(await auth.check('alice', 'example.test', 'secret')).toBe('ok');

    handler = json(503, '{}');
    expect(await auth.check('alice', 'example.test', 'secret')).toBe('ok');
    expect(requests).toHaveLength(1);
    expect(await auth.check('alice', 'example.test', 'other')).toBe('unavailable');

    now += 60_000;
    expect(await auth.check('alice', 'example.test', 'secret')).toBe('unavailable');
  });

  it('does not cache rejections', async () => {
    const auth = new ExternalAuth({ url, timeoutMs: 2000, cacheSeconds: 60 });
    expect(await auth.check('alice', 'example.test', 'wrong')).toBe('rejected');
    expect(await auth.check('alice', 'example.test', 'wrong')).toBe('rejected');
    expect(requests).toHaveLength(2);
  });

  it('keys the cache by account', async () => {
    const auth = new ExternalAuth({ url, timeoutMs: 2000, cacheSeconds: 60 });
    expect(await auth.check('alice', 'example.test', 'secret')).toBe('ok');
    expect(await auth.check('bob', 'example.test', 'secret')).toBe('rejected');
  });

  it('rejects a URL that is not http or https', () => {
    expect(() => new ExternalAuth({ url: 'file:///etc/passwd', timeoutMs: 1000, cacheSeconds: 0 })).toThrow(/http or https/);
  });
});
