import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { upsertAccount } from '../packages/server/src/provisioning/accounts-service.js';
import { login, openClientStream, saslFailureCondition } from './support/client.js';
import { startTestServer, type TestServer } from './support/server.js';

/** An external authentication endpoint on 127.0.0.1 that is down: it answers every request with 503. */
let endpoint: Server;
const asked: string[] = [];
let server: TestServer;

beforeAll(async () => {
  endpoint = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      asked.push((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { username: string }).username);
      response.writeHead(503).end();
    });
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/auth`;
  server = await startTestServer({ auth: { max_failures: 1000, external_url: url, external_mode: 'fallback' } });
  await upsertAccount(server.server, { username: 'dora', disabled: true });
  await upsertAccount(server.server, { username: 'emil' });
  await upsertAccount(server.server, { username: 'fay', password: 'fay-local', disabled: true });
});

afterAll(async () => {
  await server?.stop();
  endpoint.closeAllConnections();
  await new Promise((resolve) => endpoint.close(resolve));
});

async function plainLogin(username: string, password: string): Promise<string> {
  const { connection } = await openClientStream(server, 'starttls');
  try {
    const outcome = await login(connection, 'PLAIN', username, password);
    return outcome.name === 'success' ? 'success' : (saslFailureCondition(outcome) ?? outcome.name);
  } finally {
    connection.destroy();
  }
}

describe('a disabled account while the external endpoint is down', () => {
  it('gets account-disabled, for any password, without asking the endpoint', async () => {
    expect(await plainLogin('dora', 'dora-external')).toBe('account-disabled');
    expect(await plainLogin('dora', 'anything')).toBe('account-disabled');
    expect(asked).not.toContain('dora');
  });

  it('leaves temporary-auth-failure to enabled accounts', async () => {
    expect(await plainLogin('emil', 'emil-external')).toBe('temporary-auth-failure');
    expect(asked).toContain('emil');
  });

  it('answers the same for a disabled account with local credentials, right or wrong password', async () => {
    expect(await plainLogin('fay', 'fay-local')).toBe('account-disabled');
    expect(await plainLogin('fay', 'wrong')).toBe('account-disabled');
  });
});
