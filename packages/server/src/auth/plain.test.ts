import { describe, expect, it } from 'vitest';

import { deriveCredentials, verifyPassword } from './credentials.js';
import { SaslPrepError } from './errors.js';
import { PlainServer } from './plain.js';
import type { PlainVerdict } from './plain.js';

async function accountStore(password: string): Promise<(username: string, password: string) => Promise<PlainVerdict>> {
  const [credential] = await deriveCredentials(password, { iterations: 4096 });
  if (credential === undefined) throw new Error('no credential derived');
  return async (username, typed) => {
    if (username !== 'juliet') return 'unknown';
    return (await verifyPassword(typed, credential)) ? 'ok' : 'wrong';
  };
}

function message(authzid: string, authcid: string, password: string): Buffer {
  return Buffer.from(`${authzid}\0${authcid}\0${password}`, 'utf8');
}

describe('PlainServer', () => {
  it('accepts the right password', async () => {
    const server = new PlainServer({ verify: await accountStore('secret') });
    const step = await server.start(message('', 'juliet', 'secret'));
    expect(step).toEqual({ kind: 'success', data: Buffer.alloc(0), username: 'juliet', authzid: undefined });
  });

  it('returns the authzid', async () => {
    const server = new PlainServer({ verify: await accountStore('secret') });
    const step = await server.start(message('juliet@example.org', 'juliet', 'secret'));
    expect(step).toMatchObject({ kind: 'success', authzid: 'juliet@example.org' });
  });

  it('sends an empty challenge without initial response', async () => {
    const server = new PlainServer({ verify: await accountStore('secret') });
    expect(await server.start(null)).toEqual({ kind: 'challenge', data: Buffer.alloc(0) });
    expect((await server.next(message('', 'juliet', 'secret'))).kind).toBe('success');
  });

  it('rejects a wrong password', async () => {
    const server = new PlainServer({ verify: await accountStore('secret') });
    expect(await server.start(message('', 'juliet', 'Secret'))).toEqual({ kind: 'failure', condition: 'not-authorized', username: 'juliet' });
  });

  it('fails temporarily when the checker is unavailable', async () => {
    const server = new PlainServer({ verify: async () => 'unavailable' });
    const step = await server.start(message('', 'juliet', 'secret'));
    expect(step).toMatchObject({ kind: 'failure', condition: 'temporary-auth-failure' });
    expect(step).not.toHaveProperty('username');
  });

  it('answers an unknown user like a wrong password', async () => {
    const server = new PlainServer({ verify: await accountStore('secret') });
    expect(await server.start(message('', 'romeo', 'secret'))).toEqual({ kind: 'failure', condition: 'not-authorized', username: 'romeo' });
  });

  it('rejects a Latin-1 payload', async () => {
    // "caf\xf8" is Latin-1; strict UTF-8 decoding must not turn F8 into U+FFFD.
    const latin1 = Buffer.concat([Buffer.from('\0juliet\0caf'), Buffer.from([0xf8])]);
    const server = new PlainServer({ verify: await accountStore('caf\u00f8') });
    const step = await server.start(latin1);
    expect(step).toMatchObject({ kind: 'failure', condition: 'malformed-request' });
  });

  const malformed: [string, Buffer, string][] = [
    ['one NUL', Buffer.from('juliet\0secret'), 'malformed-request'],
    ['three NULs', Buffer.from('\0juliet\0sec\0ret'), 'malformed-request'],
    ['empty message', Buffer.alloc(0), 'malformed-request'],
    ['empty authcid', message('', '', 'secret'), 'malformed-request'],
    ['empty password', message('', 'juliet', ''), 'not-authorized'],
    ['prohibited username', message('', 'jul\u0007iet', 'secret'), 'not-authorized'],
    ['prohibited password', message('', 'juliet', 'sec\nret'), 'not-authorized'],
  ];

  it.each(malformed)('rejects %s', async (_name, payload, condition) => {
    const server = new PlainServer({ verify: await accountStore('secret') });
    const step = await server.start(payload);
    expect(step).toMatchObject({ kind: 'failure', condition: condition });
  });

  it('passes the password unprepared to verify', async () => {
    const seen: string[] = [];
    const server = new PlainServer({ verify: async (_username, password) => (seen.push(password), 'wrong') });
    await server.start(message('', 'juliet', 'I\u00ADX'));
    expect(seen).toEqual(['I\u00ADX']);
  });

  it('passes the username SASLprepped to verify', async () => {
    const seen: string[] = [];
    const server = new PlainServer({ verify: async (username) => (seen.push(username), 'wrong') });
    await server.start(message('', 'jul\u00ADiet', 'secret'));
    expect(seen).toEqual(['juliet']);
  });

  it('turns a SaslPrepError from verify into not-authorized', async () => {
    const server = new PlainServer({
      verify: async () => {
        throw new SaslPrepError('password', 'prohibited');
      },
    });
    const step = await server.start(message('', 'juliet', 'secret'));
    expect(step).toMatchObject({ kind: 'failure', condition: 'not-authorized' });
  });

  it('propagates other verify errors', async () => {
    const server = new PlainServer({
      verify: async () => {
        throw new Error('database is locked');
      },
    });
    await expect(server.start(message('', 'juliet', 'secret'))).rejects.toThrow('database is locked');
  });

  it('fails a response after the exchange has finished', async () => {
    const server = new PlainServer({ verify: await accountStore('secret') });
    await server.start(message('', 'juliet', 'secret'));
    const step = await server.next(message('', 'juliet', 'secret'));
    expect(step).toMatchObject({ kind: 'failure', condition: 'malformed-request' });
  });
});
