import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeJid, servedDomain } from '../packages/web/src/stores/protocol/domain.js';
import { register, RegistrationFailed, signUpErrorKey } from '../packages/web/src/stores/protocol/registration.js';
import { startTestServer, type TestServer } from './support/server.js';

// The web client's sign-up and sign-in helpers against a real server: a bare user name gets
// the served domain, and each refusal of the registration endpoint maps to a catalogue key.
let server: TestServer;
let closed: TestServer;
let origin: string;
let withDomain: Server;
let hostMetaOnly: Server;

beforeAll(async () => {
  server = await startTestServer({ registration: { policy: 'open' } });
  closed = await startTestServer({ registration: { policy: 'closed' } });
  origin = `http://127.0.0.1:${server.httpPort}`;
  // A registration endpoint that names its domain in capitals, and a server with host-meta only.
  withDomain = createServer((request, response) => {
    if (request.url === '/api/v1/registration') response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ policy: 'open', domain: 'Chat.Example' }));
    else response.writeHead(404).end();
  });
  hostMetaOnly = createServer((request, response) => {
    const links = [{ rel: 'urn:xmpp:alt-connections:websocket', href: 'ws://xmpp.example:5280/xmpp-websocket' }];
    if (request.url === '/.well-known/host-meta.json') response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ links }));
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => withDomain.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => hostMetaOnly.listen(0, '127.0.0.1', resolve));
}, 30_000);

afterAll(async () => {
  await server?.stop();
  await closed?.stop();
  await new Promise((resolve) => withDomain?.close(resolve));
  await new Promise((resolve) => hostMetaOnly?.close(resolve));
});

async function refusal(work: Promise<unknown>): Promise<string | undefined> {
  const err = await work.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(RegistrationFailed);
  return signUpErrorKey(err as RegistrationFailed);
}

describe('completing a bare user name', () => {
  it('leaves a full address alone', async () => {
    expect(await completeJid(' alice@example.test ', origin)).toBe('alice@example.test');
  });

  it('uses the domain the registration endpoint names', async () => {
    const other = `http://127.0.0.1:${(withDomain.address() as AddressInfo).port}`;
    expect(await servedDomain(other)).toBe('chat.example');
    expect(await completeJid('alice', `ws://127.0.0.1:${(withDomain.address() as AddressInfo).port}/xmpp-websocket`)).toBe('alice@chat.example');
  });

  it('uses the domain a Parley server returns', async () => {
    expect(await completeJid('alice', origin)).toBe(`alice@${server.domain}`);
  });

  it('falls back to the host of the WebSocket URL in host-meta', async () => {
    const other = `http://127.0.0.1:${(hostMetaOnly.address() as AddressInfo).port}`;
    expect(await completeJid('alice', other)).toBe('alice@xmpp.example');
  });
});

describe('sign-up refusals', () => {
  it('maps a taken user name (409)', async () => {
    await register(origin, 'taken', 'a-long-enough-password');
    expect(await refusal(register(origin, 'taken', 'a-long-enough-password'))).toBe('signUp.errorTaken');
  });

  it('maps an invalid user name (400 with a field)', async () => {
    expect(await refusal(register(origin, 'no spaces allowed', 'a-long-enough-password'))).toBe('signUp.errorUsername');
  });

  it('maps a closed server (403)', async () => {
    expect(await refusal(register(`http://127.0.0.1:${closed.httpPort}`, 'someone', 'a-long-enough-password'))).toBe('signUp.errorClosed');
  });

  it('maps throttling (429) and invitations (403)', () => {
    expect(signUpErrorKey(new RegistrationFailed('Too many registrations', 429))).toBe('signUp.errorThrottled');
    expect(signUpErrorKey(new RegistrationFailed('x', 403, undefined, 'Invitation required'))).toBe('signUp.errorInvite');
    expect(signUpErrorKey(new RegistrationFailed('x', 500))).toBeUndefined();
  });
});
