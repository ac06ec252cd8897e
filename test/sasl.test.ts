import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectionOptions } from 'node:tls';
import { type Element, type JID, NS, x } from '@parley/xmpp';
import { AccountError } from '../packages/server/src/accounts.js';
import { startTestServer, type TestServer } from './support/server.js';
import {
  type ClientTransport,
  authElement,
  bindResource,
  login,
  loginPlain,
  loginScram,
  nextSaslStep,
  offeredMechanisms,
  openClientStream,
  plainMessage,
  saslFailureCondition,
} from './support/client.js';
import { type RawConnection, delay } from './support/raw.js';
import { type ChannelBindingName, ScramClient, type ScramHashName, clientChannelBinding } from './support/scram-client.js';

const NS_SASL_CB = 'urn:xmpp:sasl-cb:0';
const ALICE_PASSWORD = 'alice-password';
const TLS12: ConnectionOptions = { maxVersion: 'TLSv1.2' };

let server: TestServer;

beforeAll(async () => {
  // A high failure limit keeps the throttle out of these tests; it has its own server below.
  server = await startTestServer({ auth: { max_failures: 1000 }, registration: { min_password_length: 1 } });
  await server.createAccount('alice', ALICE_PASSWORD);
  await server.createAccount('øyvind', 'blåbær');
});

afterAll(async () => {
  await server?.stop();
});

async function open(transport: ClientTransport, tlsOptions: ConnectionOptions = {}): Promise<{ connection: RawConnection; features: Element }> {
  return openClientStream(server, transport, tlsOptions);
}

/** Restarts the stream after `<success/>` and binds a resource. */
async function bindAfterSuccess(connection: RawConnection): Promise<JID> {
  await connection.openStream();
  return bindResource(connection);
}

function channelBindingTypes(features: Element): string[] {
  const feature = features.getChild('sasl-channel-binding', NS_SASL_CB);
  return feature ? feature.getChildren('channel-binding', NS_SASL_CB).map((el) => el.attr('type') ?? '') : [];
}

/** Checks that the stream still takes a PLAIN login after a failure. */
async function expectPlainLoginWorks(connection: RawConnection): Promise<void> {
  expect(connection.isClosed).toBe(false);
  const outcome = await loginPlain(connection, 'alice', ALICE_PASSWORD);
  expect(outcome.name).toBe('success');
  expect((await bindAfterSuccess(connection)).bare().toString()).toBe(`alice@${server.domain}`);
  connection.destroy();
}

describe('SCRAM', () => {
  for (const hash of ['SHA-1', 'SHA-256'] as ScramHashName[]) {
    it(`logs in with SCRAM-${hash} after STARTTLS`, async () => {
      const { connection, features } = await open('starttls');
      expect(offeredMechanisms(features)).toContain(`SCRAM-${hash}`);
      const { outcome } = await loginScram(connection, new ScramClient({ hash, username: 'alice', password: ALICE_PASSWORD }));
      expect(outcome.name).toBe('success');
      expect((await bindAfterSuccess(connection)).bare().toString()).toBe(`alice@${server.domain}`);
      connection.destroy();
    });

    for (const transport of ['tls', 'starttls'] as const) {
      it(`logs in with SCRAM-${hash}-PLUS and tls-exporter over ${transport} with TLS 1.3`, async () => {
        const { connection, features } = await open(transport);
        expect(connection.tlsSocket?.getProtocol()).toBe('TLSv1.3');
        expect(offeredMechanisms(features)).toContain(`SCRAM-${hash}-PLUS`);
        expect(channelBindingTypes(features)).toContain('tls-exporter');
        const data = clientChannelBinding(connection.tlsSocket!, 'tls-exporter');
        const scram = new ScramClient({ hash, username: 'alice', password: ALICE_PASSWORD, channelBinding: { type: 'tls-exporter', data } });
        const { outcome } = await loginScram(connection, scram);
        expect(outcome.name).toBe('success');
        connection.destroy();
      });
    }
  }

  for (const transport of ['tls', 'starttls'] as const) {
    for (const type of ['tls-unique', 'tls-server-end-point'] as ChannelBindingName[]) {
      it(`logs in with SCRAM-SHA-256-PLUS and ${type} over ${transport} with TLS 1.2`, async () => {
        const { connection, features } = await open(transport, TLS12);
        expect(connection.tlsSocket?.getProtocol()).toBe('TLSv1.2');
        expect(channelBindingTypes(features)).toContain(type);
        const data = clientChannelBinding(connection.tlsSocket!, type);
        const scram = new ScramClient({ hash: 'SHA-256', username: 'alice', password: ALICE_PASSWORD, channelBinding: { type, data } });
        const { outcome } = await loginScram(connection, scram);
        expect(outcome.name).toBe('success');
        connection.destroy();
      });
    }
  }

  for (const transport of ['tls', 'starttls'] as const) {
    it(`does not offer tls-exporter over ${transport} with TLS 1.2`, async () => {
      const { connection, features } = await open(transport, TLS12);
      expect(channelBindingTypes(features)).not.toContain('tls-exporter');
      connection.destroy();
    });

    it(`rejects -PLUS with wrong channel binding data over ${transport}`, async () => {
      const { connection } = await open(transport);
      const scram = new ScramClient({
        hash: 'SHA-256',
        username: 'alice',
        password: ALICE_PASSWORD,
        channelBinding: { type: 'tls-exporter', data: Buffer.alloc(32, 7) },
      });
      const { outcome } = await loginScram(connection, scram);
      expect(saslFailureCondition(outcome)).toBe('not-authorized');
      await expectPlainLoginWorks(connection);
    });

    it(`rejects the y flag when the server offers channel binding over ${transport}`, async () => {
      const { connection } = await open(transport);
      const scram = new ScramClient({ hash: 'SHA-256', username: 'alice', password: ALICE_PASSWORD, gs2Flag: 'y' });
      const { outcome } = await loginScram(connection, scram);
      expect(outcome.name).toBe('failure');
      await expectPlainLoginWorks(connection);
    });
  }

  it('rejects a tampered nonce in client-final', async () => {
    const { connection } = await open('starttls');
    const scram = new ScramClient({ hash: 'SHA-256', username: 'alice', password: ALICE_PASSWORD });
    connection.send(authElement(scram.mechanism, scram.clientFirst()));
    const challenge = await nextSaslStep(connection);
    expect(challenge.name).toBe('challenge');

    const serverFirst = Buffer.from(challenge.text(), 'base64');
    const nonce = /r=([^,]+)/.exec(serverFirst.toString())![1]!;
    const tampered = scram.clientFinal(serverFirst, `${nonce.slice(0, -1)}${nonce.endsWith('A') ? 'B' : 'A'}`);
    connection.send(x('response', NS.SASL, {}, tampered.toString('base64')));
    expect(saslFailureCondition(await nextSaslStep(connection))).toBe('not-authorized');
    await expectPlainLoginWorks(connection);
  });

  it('rejects a replayed client-final on a new stream', async () => {
    const clientNonce = 'fixed-client-nonce-for-replay';
    const first = await open('starttls');
    const captured = await loginScram(first.connection, new ScramClient({ hash: 'SHA-256', username: 'alice', password: ALICE_PASSWORD, nonce: clientNonce }));
    expect(captured.outcome.name).toBe('success');
    first.connection.destroy();

    const { connection } = await open('starttls');
    const replay = new ScramClient({ hash: 'SHA-256', username: 'alice', password: ALICE_PASSWORD, nonce: clientNonce });
    connection.send(authElement(replay.mechanism, replay.clientFirst()));
    expect((await nextSaslStep(connection)).name).toBe('challenge');
    connection.send(x('response', NS.SASL, {}, captured.clientFinal!.toString('base64')));
    expect(saslFailureCondition(await nextSaslStep(connection))).toBe('not-authorized');
    await expectPlainLoginWorks(connection);
  });
});

describe('PLAIN', () => {
  it('logs in over TLS', async () => {
    const { connection, features } = await open('starttls');
    expect(offeredMechanisms(features)).toContain('PLAIN');
    expect((await loginPlain(connection, 'alice', ALICE_PASSWORD)).name).toBe('success');
    expect((await bindAfterSuccess(connection)).local).toBe('alice');
    connection.destroy();
  });

  it('rejects an authcid in Latin-1', async () => {
    const { connection } = await open('starttls');
    const latin1 = Buffer.concat([Buffer.from([0, 0xf8]), Buffer.from('yvind\0blåbær', 'utf8')]);
    connection.send(authElement('PLAIN', latin1));
    expect(['malformed-request', 'not-authorized']).toContain(saslFailureCondition(await nextSaslStep(connection)));

    expect((await loginPlain(connection, 'øyvind', 'blåbær')).name).toBe('success');
    expect((await bindAfterSuccess(connection)).local).toBe('øyvind');
    connection.destroy();
  });

  it('rejects broken base64 with incorrect-encoding', async () => {
    const { connection } = await open('starttls');
    connection.send(authElement('PLAIN', 'AGFsaWNl*AHdyb25n!'));
    expect(saslFailureCondition(await nextSaslStep(connection))).toBe('incorrect-encoding');
    await expectPlainLoginWorks(connection);
  });

  it('rejects an unknown mechanism with invalid-mechanism', async () => {
    const { connection } = await open('starttls');
    connection.send(authElement('DIGEST-MD5', Buffer.alloc(0)));
    expect(saslFailureCondition(await nextSaslStep(connection))).toBe('invalid-mechanism');
    await expectPlainLoginWorks(connection);
  });
});

describe('wrong password', () => {
  for (const mechanism of ['SCRAM-SHA-1', 'SCRAM-SHA-256', 'PLAIN'] as const) {
    it(`fails ${mechanism} and keeps the stream open`, async () => {
      const { connection } = await open('starttls');
      expect(saslFailureCondition(await login(connection, mechanism, 'alice', 'not-the-password'))).toBe('not-authorized');
      expect(connection.isClosed).toBe(false);
      expect((await login(connection, mechanism, 'alice', ALICE_PASSWORD)).name).toBe('success');
      expect((await bindAfterSuccess(connection)).local).toBe('alice');
      connection.destroy();
    });
  }

  it('fails an unknown account like a wrong password', async () => {
    const { connection } = await open('starttls');
    expect(saslFailureCondition(await login(connection, 'SCRAM-SHA-256', 'nobody', 'whatever'))).toBe('not-authorized');
    await expectPlainLoginWorks(connection);
  });
});

describe('TLS required', () => {
  let strict: TestServer;

  beforeAll(async () => {
    strict = await startTestServer({ tls: { allow_plaintext_on_loopback: false } });
    await strict.createAccount('alice', ALICE_PASSWORD);
  });

  afterAll(async () => {
    await strict?.stop();
  });

  it('offers no mechanism before STARTTLS', async () => {
    const { connection, features } = await openClientStream(strict, 'plain');
    expect(features.getChild('starttls', NS.TLS)?.getChild('required', NS.TLS)).toBeDefined();
    expect(offeredMechanisms(features)).toEqual([]);
    connection.destroy();
  });

  it('answers auth before STARTTLS with encryption-required', async () => {
    const { connection } = await openClientStream(strict, 'plain');
    connection.send(authElement('PLAIN', plainMessage('alice', ALICE_PASSWORD)));
    const answer = await connection.next((el) => el.ns === NS.SASL || el.ns === NS.STREAM);
    expect(saslFailureCondition(answer) ?? answer.toString()).toBe('encryption-required');
    connection.destroy();
  });

  it('offers PLAIN after STARTTLS', async () => {
    const { connection, features } = await openClientStream(strict, 'starttls');
    expect(offeredMechanisms(features)).toContain('PLAIN');
    expect((await loginPlain(connection, 'alice', ALICE_PASSWORD)).name).toBe('success');
    connection.destroy();
  });
});

describe('password preparation', () => {
  const cases = [
    { username: 'hyphen', stored: 'I\u00ADX', typed: 'IX' },
    { username: 'numeral', stored: 'Ⅸ', typed: 'IX' },
    { username: 'accent', stored: 'caf\u00E9', typed: 'cafe\u0301' },
    { username: 'mixed', stored: 'пароль密码', typed: 'пароль密码' },
  ];

  beforeAll(async () => {
    for (const { username, stored } of cases) await server.createAccount(username, stored);
  });

  for (const { username, stored, typed } of cases) {
    for (const mechanism of ['SCRAM-SHA-1', 'SCRAM-SHA-256', 'PLAIN'] as const) {
      it(`logs in ${JSON.stringify(stored)} as ${JSON.stringify(typed)} with ${mechanism}`, async () => {
        const { connection } = await open('starttls');
        expect((await login(connection, mechanism, username, typed)).name).toBe('success');
        connection.destroy();
      });
    }
  }

  for (const password of ['pass\nword', '🔑secret']) {
    it(`rejects the password ${JSON.stringify(password)} at provisioning`, async () => {
      await expect(server.createAccount(`user${password.length}`, password)).rejects.toBeInstanceOf(AccountError);
    });
  }
});

describe('usernames', () => {
  const accounts = [
    { username: 'юля', password: 'пароль' },
    { username: '李雷', password: '密码口令' },
    { username: 'a,b=c', password: 'comma-and-equals' },
  ];

  beforeAll(async () => {
    for (const { username, password } of accounts) await server.createAccount(username, password);
  });

  for (const { username, password } of [{ username: 'øyvind', password: 'blåbær' }, ...accounts]) {
    for (const mechanism of ['SCRAM-SHA-1', 'SCRAM-SHA-256', 'PLAIN'] as const) {
      it(`logs in ${username} with ${mechanism}`, async () => {
        const { connection } = await open('starttls');
        expect((await login(connection, mechanism, username, password)).name).toBe('success');
        expect((await bindAfterSuccess(connection)).local).toBe(username);
        connection.destroy();
      });
    }
  }

  for (const mechanism of ['SCRAM-SHA-256', 'PLAIN'] as const) {
    it(`binds ALICE to alice with ${mechanism}`, async () => {
      const { connection } = await open('starttls');
      expect((await login(connection, mechanism, 'ALICE', ALICE_PASSWORD)).name).toBe('success');
      expect((await bindAfterSuccess(connection)).bare().toString()).toBe(`alice@${server.domain}`);
      connection.destroy();
    });
  }
});

describe('throttling', () => {
  let throttled: TestServer;

  beforeAll(async () => {
    throttled = await startTestServer({ auth: { max_failures: 3, max_backoff_s: 2 } });
    await throttled.createAccount('alice', ALICE_PASSWORD);
  });

  afterAll(async () => {
    await throttled?.stop();
  });

  it('answers temporary-auth-failure after max_failures', async () => {
    const { connection } = await openClientStream(throttled, 'starttls');
    for (let i = 0; i < 3; i++) {
      expect(saslFailureCondition(await loginPlain(connection, 'alice', 'wrong-password'))).toBe('not-authorized');
    }
    expect(saslFailureCondition(await loginPlain(connection, 'alice', ALICE_PASSWORD))).toBe('temporary-auth-failure');
    connection.destroy();

    const other = await openClientStream(throttled, 'starttls');
    expect(saslFailureCondition(await login(other.connection, 'SCRAM-SHA-256', 'alice', ALICE_PASSWORD))).toBe('temporary-auth-failure');
    other.connection.destroy();
  });

  it('lets the right password in after the back-off', async () => {
    await delay(2100);
    const { connection } = await openClientStream(throttled, 'starttls');
    expect((await loginPlain(connection, 'alice', ALICE_PASSWORD)).name).toBe('success');
    connection.destroy();
  });
});
