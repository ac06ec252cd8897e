import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JID, NS, x } from '@parley/xmpp';
import { sql } from 'kysely';
import { startTestServer, type TestServer } from './support/server.js';
import { openClientStream } from './support/client.js';
import { NS_FAST, NS_SASL2, bind2, issuedToken, sasl2Failure, sasl2Fast, sasl2Scram, userAgent } from './support/sasl2.js';

const PASSWORD = 'alice-password';
const TLS12 = { maxVersion: 'TLSv1.2' as const };

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ auth: { max_failures: 1000 } });
  await server.createAccount('alice', PASSWORD);
});

afterAll(async () => {
  await server?.stop();
});

/** Logs in with the password and requests a token for `mechanism`; returns the token. */
async function passwordLoginForToken(target: TestServer, agentId: string, mechanism = 'HT-SHA-256-NONE'): Promise<string> {
  const { connection } = await openClientStream(target, 'starttls');
  const success = await sasl2Scram(connection, 'alice', PASSWORD, [userAgent(agentId), bind2('App'), x('request-token', NS_FAST, { mechanism })]);
  connection.destroy();
  const token = issuedToken(success);
  if (!token) throw new Error(`no token in ${success.toString()}`);
  const expiry = Date.parse(success.getChild('token', NS_FAST)!.attr('expiry')!);
  expect(expiry).toBeGreaterThan(Date.now());
  return token;
}

async function fastLogin(target: TestServer, agentId: string, token: string, options: { mechanism?: string; fast?: Record<string, string>; tls?: typeof TLS12 } = {}) {
  const { connection } = await openClientStream(target, 'tls', options.tls ?? {});
  const outcome = await sasl2Fast(connection, {
    mechanism: options.mechanism ?? 'HT-SHA-256-NONE',
    username: 'alice',
    token,
    inline: [userAgent(agentId), bind2('App')],
    fast: options.fast,
  });
  connection.destroy();
  return outcome;
}

describe('FAST tokens', () => {
  it('logs in with an issued token', async () => {
    const agent = crypto.randomUUID();
    const token = await passwordLoginForToken(server, agent);
    const success = await fastLogin(server, agent, token);
    expect(success.name).toBe('success');
    expect(JID.parse(success.getChildText('authorization-identifier', NS_SASL2)!).resource).toMatch(/^App\//);
    expect(issuedToken(success)).toBeUndefined();
    // A token lasts for more than one login.
    expect((await fastLogin(server, agent, token)).name).toBe('success');
  });

  it('rejects a revoked (invalidated) token', async () => {
    const agent = crypto.randomUUID();
    const token = await passwordLoginForToken(server, agent);
    const invalidating = await fastLogin(server, agent, token, { fast: { invalidate: 'true' } });
    expect(invalidating.name).toBe('success');
    expect(sasl2Failure(await fastLogin(server, agent, token))).toBe('not-authorized');
  });

  it('binds a token to its client, its mechanism and its value', async () => {
    const agent = crypto.randomUUID();
    const token = await passwordLoginForToken(server, agent);
    expect(sasl2Failure(await fastLogin(server, crypto.randomUUID(), token))).toBe('not-authorized');
    expect(sasl2Failure(await fastLogin(server, agent, token, { mechanism: 'HT-SHA-256-ENDP' }))).toBe('not-authorized');
    expect(sasl2Failure(await fastLogin(server, agent, `${token}x`))).toBe('not-authorized');
    expect((await fastLogin(server, agent, token)).name).toBe('success');
  });

  it('checks channel binding with HT-SHA-256-EXPR on TLS 1.3 and HT-SHA-256-ENDP on TLS 1.2', async () => {
    const agent = crypto.randomUUID();
    const expr = await passwordLoginForToken(server, agent, 'HT-SHA-256-EXPR');
    expect((await fastLogin(server, agent, expr, { mechanism: 'HT-SHA-256-EXPR' })).name).toBe('success');

    const other = crypto.randomUUID();
    const endp = await passwordLoginForToken(server, other, 'HT-SHA-256-ENDP');
    expect((await fastLogin(server, other, endp, { mechanism: 'HT-SHA-256-ENDP', tls: TLS12 })).name).toBe('success');
  });

  it('refuses a replayed count and accepts a higher one', async () => {
    const agent = crypto.randomUUID();
    const token = await passwordLoginForToken(server, agent);
    expect((await fastLogin(server, agent, token, { fast: { count: '5' } })).name).toBe('success');
    expect(sasl2Failure(await fastLogin(server, agent, token, { fast: { count: '5' } }))).toBe('not-authorized');
    expect(sasl2Failure(await fastLogin(server, agent, token, { fast: { count: 'x' } }))).toBe('malformed-request');
    expect((await fastLogin(server, agent, token, { fast: { count: '6' } })).name).toBe('success');
  });

  it('stores no token in the database', async () => {
    const agent = crypto.randomUUID();
    const token = await passwordLoginForToken(server, agent);
    const rows = await sql<Record<string, unknown>>`SELECT * FROM fast_tokens`.execute(server.server.storage.db);
    expect(rows.rows.length).toBeGreaterThan(0);
    expect(JSON.stringify(rows.rows)).not.toContain(token);
    expect(JSON.stringify(rows.rows)).not.toContain(agent);
  });
});

describe('FAST rotation and expiry', () => {
  it('rotates a token near expiry', async () => {
    const rotating = await startTestServer({ auth: { fast_token_lifetime_s: 3600, fast_rotate_before_s: 3600 } });
    try {
      await rotating.createAccount('alice', PASSWORD);
      const agent = crypto.randomUUID();
      const first = await passwordLoginForToken(rotating, agent);
      const rotated = await fastLogin(rotating, agent, first);
      const second = issuedToken(rotated);
      expect(second).toBeDefined();
      expect(second).not.toBe(first);

      // The client may have missed the new token: the old one still works, and brings yet another.
      const third = issuedToken(await fastLogin(rotating, agent, first));
      expect(third).toBeDefined();
      // Using the newest token retires the older ones.
      expect((await fastLogin(rotating, agent, third!)).name).toBe('success');
      expect(sasl2Failure(await fastLogin(rotating, agent, first))).toBe('not-authorized');
      expect(sasl2Failure(await fastLogin(rotating, agent, second!))).toBe('not-authorized');
    } finally {
      await rotating.stop();
    }
  });

  it('fails an expired token with credentials-expired', async () => {
    const brief = await startTestServer({ auth: { fast_token_lifetime_s: 1, fast_rotate_before_s: 0 } });
    try {
      await brief.createAccount('alice', PASSWORD);
      const agent = crypto.randomUUID();
      const token = await passwordLoginForToken(brief, agent);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(sasl2Failure(await fastLogin(brief, agent, token))).toBe('credentials-expired');
    } finally {
      await brief.stop();
    }
  });

  it('offers no FAST when the token lifetime is 0', async () => {
    const off = await startTestServer({ auth: { fast_token_lifetime_s: 0 } });
    try {
      const { connection, features } = await openClientStream(off, 'starttls');
      const inline = features.getChild('authentication', NS_SASL2)!.getChild('inline', NS_SASL2)!;
      expect(inline.getChild('fast', NS_FAST)).toBeUndefined();
      expect(inline.getChild('sm', NS.SM)).toBeDefined();
      connection.destroy();
    } finally {
      await off.stop();
    }
  });
});
