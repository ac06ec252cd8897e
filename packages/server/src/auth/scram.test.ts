import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import type { ChannelBinding } from './channel-binding.js';
import { computeCredential, deriveCredentials } from './credentials.js';
import type { ScramCredential, ScramHash } from './credentials.js';
import type { SaslStep } from './mechanisms.js';
import { prepPassword } from './saslprep.js';
import { ScramServer } from './scram.js';
import type { ScramServerOptions } from './scram.js';

// An independent SCRAM client (RFC 5802 section 3) that drives the server under test.
interface ClientRun {
  hash: ScramHash;
  username: string;
  password: string;
  clientNonce?: string;
  gs2Header?: string;
  bindingData?: Buffer;
}

function digest(hash: ScramHash): string {
  return hash === 'SHA-1' ? 'sha1' : 'sha256';
}

function clientFirst(run: ClientRun): { message: Buffer; bare: string } {
  const bare = `n=${run.username},r=${run.clientNonce ?? 'clientnonce0123456789'}`;
  return { message: Buffer.from(`${run.gs2Header ?? 'n,,'}${bare}`), bare };
}

function clientFinal(run: ClientRun, bare: string, serverFirst: string): { message: string; serverSignature: string } {
  const fields = new Map(serverFirst.split(',').map((field) => [field[0], field.slice(2)]));
  const salt = Buffer.from(fields.get('s') ?? '', 'base64');
  const iterations = Number(fields.get('i'));
  const algorithm = digest(run.hash);
  const keyLength = run.hash === 'SHA-1' ? 20 : 32;

  const salted = pbkdf2Sync(run.password, salt, iterations, keyLength, algorithm);
  const clientKey = createHmac(algorithm, salted).update('Client Key').digest();
  const storedKey = createHash(algorithm).update(clientKey).digest();
  const binding = Buffer.concat([Buffer.from(run.gs2Header ?? 'n,,'), run.bindingData ?? Buffer.alloc(0)]);
  const withoutProof = `c=${binding.toString('base64')},r=${fields.get('r')}`;
  const authMessage = `${bare},${serverFirst},${withoutProof}`;

  const signature = createHmac(algorithm, storedKey).update(authMessage).digest();
  const proof = Buffer.from(clientKey.map((byte, i) => byte ^ (signature[i] ?? 0)));
  const serverKey = createHmac(algorithm, salted).update('Server Key').digest();
  const serverSignature = createHmac(algorithm, serverKey).update(authMessage).digest('base64');
  return { message: `${withoutProof},p=${proof.toString('base64')}`, serverSignature: `v=${serverSignature}` };
}

// Returns the data of a challenge or success as text, or undefined for a failure.
function textOf(step: SaslStep): string | undefined {
  return step.kind === 'failure' ? undefined : step.data.toString();
}

async function runExchange(server: ScramServer, run: ClientRun): Promise<{ first: SaslStep; last: SaslStep; expected: string }> {
  const { message, bare } = clientFirst(run);
  const first = await server.start(message);
  if (first.kind !== 'challenge') return { first, last: first, expected: '' };

  const final = clientFinal(run, bare, first.data.toString());
  const last = await server.next(Buffer.from(final.message));
  return { first, last, expected: final.serverSignature };
}

async function accountFor(password: string, hash: ScramHash): Promise<ScramCredential> {
  const credentials = await deriveCredentials(password, { iterations: 4096 });
  const credential = credentials.find((candidate) => candidate.hash === hash);
  if (credential === undefined) throw new Error(`no ${hash} credential`);
  return credential;
}

function serverFor(credential: ScramCredential | null, options: Partial<ScramServerOptions> = {}): ScramServer {
  return new ScramServer({
    hash: credential?.hash ?? 'SHA-256',
    plus: false,
    channelBinding: null,
    lookup: async (username) => (username === 'juliet' ? credential : null),
    ...options,
  });
}

describe('ScramServer test vectors', () => {
  it('reproduces RFC 5802 section 5 for SCRAM-SHA-1', async () => {
    const credential = await computeCredential('pencil', 'SHA-1', Buffer.from('QSXCR+Q6sek8bf92', 'base64'), 4096);
    const server = new ScramServer({
      hash: 'SHA-1',
      plus: false,
      channelBinding: null,
      lookup: async (username) => (username === 'user' ? credential : null),
      serverNonce: '3rfcNHYJY1ZVvWVs7j',
    });

    const first = await server.start(Buffer.from('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'));
    expect(first.kind).toBe('challenge');
    expect(textOf(first)).toBe(
      'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
    );

    const final = await server.next(
      Buffer.from('c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts='),
    );
    expect(final.kind).toBe('success');
    expect(textOf(final)).toBe('v=rmF9pqV8S7suAoZWja4dJRkFsKQ=');
    expect(final).toMatchObject({ kind: 'success', username: 'user' });
  });

  it('reproduces RFC 7677 section 3 for SCRAM-SHA-256', async () => {
    const credential = await computeCredential('pencil', 'SHA-256', Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'), 4096);
    const server = new ScramServer({
      hash: 'SHA-256',
      plus: false,
      channelBinding: null,
      lookup: async (username) => (username === 'user' ? credential : null),
      serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
    });

    const first = await server.start(Buffer.from('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect(textOf(first)).toBe(
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    );

    const final = await server.next(
      Buffer.from(
        'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
      ),
    );
    expect(textOf(final)).toBe('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });
});

describe('ScramServer exchange', () => {
  it('succeeds for both hashes', async () => {
    for (const hash of ['SHA-1', 'SHA-256'] as const) {
      const credential = await accountFor('secret', hash);
      const { last, expected } = await runExchange(serverFor(credential), { hash, username: 'juliet', password: 'secret' });
      expect(textOf(last), hash).toBe(expected);
    }
  });

  it('sends an empty challenge without initial response', async () => {
    const server = serverFor(await accountFor('secret', 'SHA-256'));
    const step = await server.start(null);
    expect(step).toEqual({ kind: 'challenge', data: Buffer.alloc(0) });

    const run: ClientRun = { hash: 'SHA-256', username: 'juliet', password: 'secret' };
    const { message, bare } = clientFirst(run);
    const first = await server.next(message);
    const final = clientFinal(run, bare, first.kind === 'challenge' ? first.data.toString() : '');
    const last = await server.next(Buffer.from(final.message));
    expect(last.kind).toBe('success');
  });

  it('generates a fresh random server nonce', async () => {
    const credential = await accountFor('secret', 'SHA-256');
    const nonces = new Set<string>();
    for (let i = 0; i < 5; i++) {
      const step = await serverFor(credential).start(Buffer.from('n,,n=juliet,r=abc'));
      nonces.add(step.kind === 'challenge' ? (step.data.toString().split(',')[0] ?? '') : '');
    }
    expect(nonces.size).toBe(5);
  });

  it('rejects a wrong password', async () => {
    const credential = await accountFor('secret', 'SHA-256');
    const { last } = await runExchange(serverFor(credential), { hash: 'SHA-256', username: 'juliet', password: 'Secret' });
    expect(last).toEqual({ kind: 'failure', condition: 'not-authorized', text: 'invalid-proof', username: 'juliet' });
  });

  it('returns the authzid', async () => {
    const credential = await accountFor('secret', 'SHA-256');
    const run: ClientRun = { hash: 'SHA-256', username: 'juliet', password: 'secret', gs2Header: 'n,a=juliet@example.org,' };
    const { last } = await runExchange(serverFor(credential), run);
    expect(last).toMatchObject({ kind: 'success', authzid: 'juliet@example.org' });
  });

  it('unescapes =2C and =3D in the username', async () => {
    const seen: string[] = [];
    const server = serverFor(null, { lookup: async (username) => (seen.push(username), null) });
    await server.start(Buffer.from('n,,n=a=2Cb=3Dc=3D2C,r=abc'));
    expect(seen).toEqual(['a,b=c=2C']);
  });

  it('fails after the exchange has finished', async () => {
    const credential = await accountFor('secret', 'SHA-256');
    const server = serverFor(credential);
    await runExchange(server, { hash: 'SHA-256', username: 'juliet', password: 'secret' });
    const step = await server.next(Buffer.from('c=biws'));
    expect(step.kind).toBe('failure');
  });

  it('propagates lookup errors', async () => {
    const server = serverFor(null, {
      lookup: async () => {
        throw new Error('database is locked');
      },
    });
    await expect(server.start(Buffer.from('n,,n=juliet,r=abc'))).rejects.toThrow('database is locked');
  });
});

describe('ScramServer attacks', () => {
  it('rejects a tampered nonce', async () => {
    const credential = await accountFor('secret', 'SHA-256');
    const server = serverFor(credential);
    const run: ClientRun = { hash: 'SHA-256', username: 'juliet', password: 'secret' };
    const { message, bare } = clientFirst(run);
    const first = await server.start(message);
    const serverFirst = first.kind === 'challenge' ? first.data.toString() : '';

    // The client computes a valid proof, but over a nonce with one character changed.
    const tampered = serverFirst.replace(/^r=([^,]*)./, 'r=$1X');
    const final = clientFinal(run, bare, tampered);
    const last = await server.next(Buffer.from(final.message));
    expect(last).toEqual({ kind: 'failure', condition: 'not-authorized', text: 'other-error' });
  });

  it('rejects a client-final replayed on a new server', async () => {
    const credential = await accountFor('secret', 'SHA-256');
    const run: ClientRun = { hash: 'SHA-256', username: 'juliet', password: 'secret' };
    const { message, bare } = clientFirst(run);

    const original = serverFor(credential);
    const first = await original.start(message);
    const final = clientFinal(run, bare, first.kind === 'challenge' ? first.data.toString() : '');
    expect((await original.next(Buffer.from(final.message))).kind).toBe('success');

    const replayTarget = serverFor(credential);
    await replayTarget.start(message);
    const replayed = await replayTarget.next(Buffer.from(final.message));
    expect(replayed).toEqual({ kind: 'failure', condition: 'not-authorized', text: 'other-error' });
  });

  it('rejects the y flag when -PLUS is offered', async () => {
    const binding: ChannelBinding = { type: 'tls-exporter', data: Buffer.alloc(32, 7) };
    const server = serverFor(await accountFor('secret', 'SHA-256'), { channelBinding: binding });
    const step = await server.start(Buffer.from('y,,n=juliet,r=abc'));
    expect(step).toEqual({ kind: 'failure', condition: 'not-authorized', text: 'server-does-support-channel-binding' });
  });

  it('accepts the y flag without channel binding', async () => {
    const credential = await accountFor('secret', 'SHA-256');
    const run: ClientRun = { hash: 'SHA-256', username: 'juliet', password: 'secret', gs2Header: 'y,,' };
    const { last } = await runExchange(serverFor(credential), run);
    expect(last.kind).toBe('success');
  });

  it('rejects p= on a non-PLUS mechanism', async () => {
    const binding: ChannelBinding = { type: 'tls-exporter', data: Buffer.alloc(32, 7) };
    const server = serverFor(await accountFor('secret', 'SHA-256'), { channelBinding: binding });
    const step = await server.start(Buffer.from('p=tls-exporter,,n=juliet,r=abc'));
    expect(step).toMatchObject({ kind: 'failure', condition: 'malformed-request' });
  });

  it('rejects a forged c= on a non-PLUS mechanism', async () => {
    const credential = await accountFor('secret', 'SHA-256');
    const server = serverFor(credential);
    const run: ClientRun = { hash: 'SHA-256', username: 'juliet', password: 'secret' };
    const { message, bare } = clientFirst(run);
    const first = await server.start(message);
    // The client signs "y,," in c= although it sent "n,,", as a stripped header would look.
    const final = clientFinal({ ...run, gs2Header: 'y,,' }, bare, first.kind === 'challenge' ? first.data.toString() : '');
    const last = await server.next(Buffer.from(final.message));
    expect(last).toEqual({ kind: 'failure', condition: 'not-authorized', text: 'channel-bindings-dont-match' });
  });
});

describe('ScramServer -PLUS', () => {
  const exporter: ChannelBinding = { type: 'tls-exporter', data: Buffer.alloc(32, 7) };
  const endPoint: ChannelBinding = { type: 'tls-server-end-point', data: Buffer.alloc(32, 9) };

  async function plusServer(): Promise<ScramServer> {
    return serverFor(await accountFor('secret', 'SHA-256'), { plus: true, channelBinding: [exporter, endPoint] });
  }

  it('succeeds with matching binding data', async () => {
    for (const binding of [exporter, endPoint]) {
      const run: ClientRun = {
        hash: 'SHA-256',
        username: 'juliet',
        password: 'secret',
        gs2Header: `p=${binding.type},,`,
        bindingData: binding.data,
      };
      const { last } = await runExchange(await plusServer(), run);
      expect(last.kind, binding.type).toBe('success');
    }
  });

  it('rejects wrong binding data', async () => {
    const run: ClientRun = {
      hash: 'SHA-256',
      username: 'juliet',
      password: 'secret',
      gs2Header: 'p=tls-exporter,,',
      bindingData: Buffer.alloc(32, 8),
    };
    const { last } = await runExchange(await plusServer(), run);
    expect(last).toEqual({ kind: 'failure', condition: 'not-authorized', text: 'channel-bindings-dont-match' });
  });

  it('rejects data of another binding type', async () => {
    const run: ClientRun = {
      hash: 'SHA-256',
      username: 'juliet',
      password: 'secret',
      gs2Header: 'p=tls-exporter,,',
      bindingData: endPoint.data,
    };
    const { last } = await runExchange(await plusServer(), run);
    expect(last).toMatchObject({ kind: 'failure', condition: 'not-authorized' });
  });

  it('rejects an unsupported binding type', async () => {
    const step = await (await plusServer()).start(Buffer.from('p=tls-unique,,n=juliet,r=abc'));
    expect(step).toEqual({ kind: 'failure', condition: 'malformed-request', text: 'unsupported-channel-binding-type' });
  });

  it('rejects the n flag', async () => {
    const step = await (await plusServer()).start(Buffer.from('n,,n=juliet,r=abc'));
    expect(step).toMatchObject({ kind: 'failure', condition: 'malformed-request' });
  });

  it('rejects -PLUS without binding data', async () => {
    const server = serverFor(await accountFor('secret', 'SHA-256'), { plus: true, channelBinding: null });
    const step = await server.start(Buffer.from('p=tls-exporter,,n=juliet,r=abc'));
    expect(step).toMatchObject({ kind: 'failure', condition: 'malformed-request' });
  });
});

describe('ScramServer unknown user', () => {
  const secret = Buffer.alloc(32, 1);

  async function firstStep(username: string): Promise<string> {
    const server = serverFor(null, { unknownUserSecret: secret, unknownUserIterations: 10_000 });
    const step = await server.start(Buffer.from(`n,,n=${username},r=abc`));
    return step.kind === 'challenge' ? step.data.toString() : step.kind;
  }

  it('takes the same steps and fails at the end', async () => {
    const server = serverFor(null);
    const { first, last } = await runExchange(server, { hash: 'SHA-256', username: 'romeo', password: 'secret' });
    expect(first.kind).toBe('challenge');
    expect(last).toEqual({ kind: 'failure', condition: 'not-authorized', text: 'invalid-proof', username: 'romeo' });
  });

  it('sends the configured iteration count', async () => {
    expect(await firstStep('romeo')).toMatch(/,i=10000$/);
  });

  it('sends a 16-byte salt', async () => {
    const salt = /,s=([^,]+),/.exec(await firstStep('romeo'))?.[1] ?? '';
    expect(Buffer.from(salt, 'base64')).toHaveLength(16);
  });

  it('sends the same salt for the same username', async () => {
    const salt = (text: string) => /,s=([^,]+),/.exec(text)?.[1];
    expect(salt(await firstStep('romeo'))).toBe(salt(await firstStep('romeo')));
  });

  it('sends different salts for different usernames', async () => {
    const salt = (text: string) => /,s=([^,]+),/.exec(text)?.[1];
    expect(salt(await firstStep('romeo'))).not.toBe(salt(await firstStep('benvolio')));
  });

  it('treats a credential of another hash as unknown', async () => {
    const credential = await accountFor('secret', 'SHA-1');
    const server = serverFor(credential, { hash: 'SHA-256' });
    const { last } = await runExchange(server, { hash: 'SHA-256', username: 'juliet', password: 'secret' });
    expect(last).toMatchObject({ kind: 'failure', condition: 'not-authorized' });
  });
});

describe('ScramServer malformed messages', () => {
  const firstMessages: [string, Buffer, string][] = [
    ['empty initial response', Buffer.alloc(0), 'malformed-request'],
    ['invalid UTF-8', Buffer.concat([Buffer.from('n,,n=jul'), Buffer.from([0xf8]), Buffer.from(',r=abc')]), 'malformed-request'],
    ['missing GS2 header', Buffer.from('n=juliet,r=abc'), 'malformed-request'],
    ['unknown flag', Buffer.from('x,,n=juliet,r=abc'), 'malformed-request'],
    ['m= extension', Buffer.from('n,,m=ext,n=juliet,r=abc'), 'malformed-request'],
    ['m= after the nonce', Buffer.from('n,,n=juliet,r=abc,m=ext'), 'malformed-request'],
    ['swapped attributes', Buffer.from('n,,r=abc,n=juliet'), 'malformed-request'],
    ['missing nonce', Buffer.from('n,,n=juliet'), 'malformed-request'],
    ['empty username', Buffer.from('n,,n=,r=abc'), 'malformed-request'],
    ['bad escape', Buffer.from('n,,n=jul=2Xiet,r=abc'), 'malformed-request'],
    ['NUL byte', Buffer.from('n,,n=jul\0iet,r=abc'), 'malformed-request'],
    ['non-printable nonce', Buffer.from('n,,n=juliet,r=ab\u00e9'), 'malformed-request'],
    ['authzid without a=', Buffer.from('n,juliet,n=juliet,r=abc'), 'malformed-request'],
    ['prohibited username', Buffer.from('n,,n=jul\u0007iet,r=abc'), 'not-authorized'],
    ['unassigned username', Buffer.from('n,,n=\u{1F511}juliet,r=abc'), 'not-authorized'],
  ];

  it.each(firstMessages)('client-first: %s', async (_name, message, condition) => {
    const step = await serverFor(await accountFor('secret', 'SHA-256')).start(message);
    expect(step).toMatchObject({ kind: 'failure', condition: condition });
  });

  const finalMessages: [string, (nonce: string) => Buffer][] = [
    ['invalid UTF-8', (nonce) => Buffer.concat([Buffer.from(`c=biws,r=${nonce},x=`), Buffer.from([0xc3, 0x28]), Buffer.from(',p=AAAA')])],
    ['NUL byte', (nonce) => Buffer.from(`c=biws,r=${nonce}\0,p=AAAA`)],
    ['missing proof', (nonce) => Buffer.from(`c=biws,r=${nonce}`)],
    ['proof before nonce', (nonce) => Buffer.from(`c=biws,p=AAAA,r=${nonce}`)],
    ['invalid base64 proof', (nonce) => Buffer.from(`c=biws,r=${nonce},p=AA AA`)],
    ['invalid base64 binding', (nonce) => Buffer.from(`c=bi*s,r=${nonce},p=AAAA`)],
    ['m= extension', (nonce) => Buffer.from(`c=biws,r=${nonce},m=x,p=AAAA`)],
    ['duplicate proof', (nonce) => Buffer.from(`c=biws,r=${nonce},p=AAAA,p=AAAA`)],
  ];

  it.each(finalMessages)('client-final: %s', async (_name, build) => {
    const server = serverFor(await accountFor('secret', 'SHA-256'));
    const first = await server.start(Buffer.from('n,,n=juliet,r=abc'));
    const nonce = /^r=([^,]+)/.exec(first.kind === 'challenge' ? first.data.toString() : '')?.[1] ?? '';
    const step = await server.next(build(nonce));
    expect(step).toMatchObject({ kind: 'failure', condition: 'malformed-request' });
  });

  it('ignores an unknown extension', async () => {
    const credential = await accountFor('secret', 'SHA-256');
    const server = serverFor(credential);
    const run: ClientRun = { hash: 'SHA-256', username: 'juliet', password: 'secret', clientNonce: 'abc,x=ext' };
    const { last } = await runExchange(server, run);
    expect(last.kind).toBe('success');
  });
});

describe('ScramServer SASLprep', () => {
  const logins: [string, string, string, boolean][] = [
    ['soft hyphen is mapped to nothing', 'I\u00ADX', 'IX', true],
    ['Roman numeral nine is NFKC-folded', '\u2168', 'IX', true],
    ['NFD input matches NFC', 'caf\u00e9', 'cafe\u0301', true],
    ['Cyrillic and Han', 'пароль密码', 'пароль密码', true],
    ['Cyrillic prefix alone', 'пароль密码', 'пароль', false],
  ];

  it.each(logins)('%s', async (_name, stored, typed, succeeds) => {
    const credential = await accountFor(stored, 'SHA-256');
    // A compliant client applies SASLprep to the typed password before hashing.
    const run: ClientRun = { hash: 'SHA-256', username: 'juliet', password: prepPassword(typed) };
    const { last } = await runExchange(serverFor(credential), run);
    expect(last.kind).toBe(succeeds ? 'success' : 'failure');
  });

  it('fails without throwing for a credential made from an unprepared password', async () => {
    // An imported account: its credential was computed from "pass\nword" without SASLprep.
    const credential = await computeCredential('pass\nword', 'SHA-256', Buffer.alloc(16, 3), 4096);
    const run: ClientRun = { hash: 'SHA-256', username: 'juliet', password: 'pass word' };
    const { last } = await runExchange(serverFor(credential), run);
    expect(last).toEqual({ kind: 'failure', condition: 'not-authorized', text: 'invalid-proof', username: 'juliet' });
  });
});
