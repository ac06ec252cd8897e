import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { ConfigError, loadConfig } from '../packages/server/src/config.js';
import { startTestServer, type TestServer } from './support/server.js';
import { offeredMechanisms, openClientStream } from './support/client.js';
import { streamErrorCondition } from './support/raw.js';
import { NS_BIND2, NS_SASL2, bind2, sasl2Scram, userAgent } from './support/sasl2.js';

// `[tls] starttls_on_loopback = false`: a loopback TCP client gets no STARTTLS and logs
// in on its first stream, as clients behind a TLS-terminating proxy on the same host do.

const PASSWORD = 'alice-password';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ tls: { starttls_on_loopback: false } });
  await server.createAccount('alice', PASSWORD);
});

afterAll(async () => {
  await server?.stop();
});

function sasl2Mechanisms(features: Element): string[] {
  const authentication = features.getChild('authentication', NS_SASL2);
  return authentication ? authentication.getChildren('mechanism', NS_SASL2).map((el) => el.text()) : [];
}

describe('starttls_on_loopback = false', () => {
  it('offers no STARTTLS to loopback clients', async () => {
    const { connection, features } = await openClientStream(server, 'plain');

    expect(features.getChild('starttls', NS.TLS)).toBeUndefined();
    expect(sasl2Mechanisms(features)).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
    expect(offeredMechanisms(features)).toEqual(['SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN']);
    connection.destroy();
  });

  it('logs in without a stream restart', async () => {
    const { connection } = await openClientStream(server, 'plain');
    const featuresAfter = connection.next((el) => el.name === 'features' && el.ns === NS.STREAM);

    const success = await sasl2Scram(connection, 'alice', PASSWORD, [userAgent(), bind2('loopback')]);

    expect(success.name).toBe('success');
    expect(success.getChildText('authorization-identifier', NS_SASL2)).toMatch(/^alice@example\.test\/loopback\//);
    expect(success.getChild('bound', NS_BIND2)).toBeDefined();
    const features = await featuresAfter;
    expect(features.getChild('bind', NS.BIND)).toBeUndefined();
    expect(features.getChild('starttls', NS.TLS)).toBeUndefined();
    connection.destroy();
  });

  it('rejects STARTTLS it did not offer', async () => {
    const { connection } = await openClientStream(server, 'plain');

    connection.send(x('starttls', NS.TLS));

    const error = await connection.next((el) => streamErrorCondition(el) !== undefined);
    expect(streamErrorCondition(error)).toBe('policy-violation');
    await connection.closed;
  });

  it('rejects a config that locks out loopback', () => {
    const overrides = { tls: { starttls_on_loopback: false, allow_plaintext_on_loopback: false } };

    expect(() => loadConfig({ env: {}, overrides })).toThrow(ConfigError);
    expect(() => loadConfig({ env: {}, overrides: { tls: { ...overrides.tls, require_for_auth: false } } })).not.toThrow();
  });

  it('keeps STARTTLS on loopback by default', async () => {
    const standard = await startTestServer();
    try {
      const { connection, features } = await openClientStream(standard, 'plain');
      expect(features.getChild('starttls', NS.TLS)).toBeDefined();
      connection.destroy();
    } finally {
      await standard.stop();
    }
  });
});
