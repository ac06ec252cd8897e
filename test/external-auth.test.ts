import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { login, offeredMechanisms, openClientStream, saslFailureCondition } from './support/client.js';
import { startTestServer, type TestServer } from './support/server.js';

let endpoint: Server;
let endpointUrl: string;
let endpointDown = false;
let requestCount = 0;

beforeAll(async () => {
  endpoint = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requestCount++;
      if (endpointDown) return void response.writeHead(503).end();
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { username: string; password: string; domain: string };
      const ok = body.domain === 'example.test' && body.password === `${body.username}-external`;
      response.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' }).end(JSON.stringify({ ok }));
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  endpointUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/auth`;
});

afterAll(async () => {
  endpoint.closeAllConnections();
  await new Promise((resolve) => endpoint.close(resolve));
});

async function attempt(server: TestServer, mechanism: 'PLAIN' | 'SCRAM-SHA-256', username: string, password: string): Promise<string> {
  const { connection } = await openClientStream(server, 'starttls');
  try {
    const outcome = await login(connection, mechanism, username, password);
    return outcome.name === 'success' ? 'success' : (saslFailureCondition(outcome) ?? outcome.name);
  } finally {
    connection.destroy();
  }
}

describe('external authentication in fallback mode', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ auth: { max_failures: 1000, external_url: endpointUrl, external_mode: 'fallback' } });
    await server.server.storage.accounts.create(server.domain, 'carol', []);
    await server.createAccount('dave', 'dave-local');
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('stores SCRAM keys after an external success', async () => {
    expect(await attempt(server, 'PLAIN', 'carol', 'wrong')).toBe('not-authorized');
    expect(await attempt(server, 'PLAIN', 'carol', 'carol-external')).toBe('success');
    expect(await attempt(server, 'SCRAM-SHA-256', 'carol', 'carol-external')).toBe('success');
  });

  it('leaves accounts with local credentials alone', async () => {
    const before = requestCount;
    expect(await attempt(server, 'PLAIN', 'dave', 'dave-external')).toBe('not-authorized');
    expect(await attempt(server, 'PLAIN', 'dave', 'dave-local')).toBe('success');
    expect(requestCount).toBe(before);
  });

  it('rejects unknown accounts without asking', async () => {
    const before = requestCount;
    expect(await attempt(server, 'PLAIN', 'nobody', 'nobody-external')).toBe('not-authorized');
    expect(requestCount).toBe(before);
  });
});

describe('external authentication in always mode', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ auth: { max_failures: 1000, external_url: endpointUrl, external_mode: 'always', external_cache_s: 60 } });
    await server.createAccount('erin', 'erin-local');
    await server.createAccount('frank', 'frank-local');
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('offers only PLAIN', async () => {
    const { connection, features } = await openClientStream(server, 'starttls');
    connection.destroy();
    expect(offeredMechanisms(features)).toEqual(['PLAIN']);
    expect(await attempt(server, 'SCRAM-SHA-256', 'erin', 'erin-local')).toBe('invalid-mechanism');
  });

  it('lets the endpoint decide over local credentials', async () => {
    expect(await attempt(server, 'PLAIN', 'erin', 'erin-local')).toBe('not-authorized');
    expect(await attempt(server, 'PLAIN', 'erin', 'erin-external')).toBe('success');
  });

  it('uses a cached success while the endpoint is down', async () => {
    expect(await attempt(server, 'PLAIN', 'frank', 'frank-external')).toBe('success');
    endpointDown = true;
    try {
      expect(await attempt(server, 'PLAIN', 'frank', 'frank-external')).toBe('success');
      expect(await attempt(server, 'PLAIN', 'frank', 'frank-other')).toBe('temporary-auth-failure');
    } finally {
      endpointDown = false;
    }
  });
});
