import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { sql } from 'kysely';
import { startAdminApi, type AdminApi } from './support/admin-api.js';
import { TestClient, openClientStream } from './support/client.js';
import { NS_FAST, bind2, issuedToken, sasl2Failure, sasl2Fast, sasl2Scram, userAgent } from './support/sasl2.js';

const MECHANISM = 'HT-SHA-256-NONE';

let api: AdminApi;

beforeAll(async () => {
  api = await startAdminApi({ auth: { max_failures: 1000 } });
});

afterAll(async () => {
  await api?.stop();
});

/** Logs in with the password and returns a FAST token issued to the client `agent`. */
async function tokenFor(username: string, password: string, agent: string): Promise<string> {
  const { connection } = await openClientStream(api.server, 'starttls');
  const success = await sasl2Scram(connection, username, password, [userAgent(agent), bind2('App'), x('request-token', NS_FAST, { mechanism: MECHANISM })]);
  connection.destroy();
  const token = issuedToken(success);
  if (!token) throw new Error(`no token in ${success.toString()}`);
  return token;
}

/** Tries a FAST login and returns 'success' or the failure condition. */
async function fastOutcome(username: string, agent: string, token: string): Promise<string | undefined> {
  const { connection } = await openClientStream(api.server, 'tls');
  const outcome = await sasl2Fast(connection, { mechanism: MECHANISM, username, token, inline: [userAgent(agent), bind2('App')] });
  connection.destroy();
  return outcome.name === 'success' ? 'success' : sasl2Failure(outcome);
}

async function tokenRows(username: string): Promise<number> {
  const result = await sql<{ n: number }>`SELECT count(*) AS n FROM fast_tokens WHERE username = ${username}`.execute(api.server.server.storage.db);
  return Number(result.rows[0]?.n ?? 0);
}

describe('FAST token revocation', () => {
  it('stops a token from working after a password reset through the admin API', async () => {
    await api.server.createAccount('reset', 'old-password');
    const agent = crypto.randomUUID();
    const token = await tokenFor('reset', 'old-password', agent);
    expect(await fastOutcome('reset', agent, token)).toBe('success');

    const reply = await api.request('POST', '/accounts/reset:reset-password', { password: 'new-password' });
    expect(reply.status).toBe(204);

    expect(await tokenRows('reset')).toBe(0);
    expect(await fastOutcome('reset', agent, token)).toBe('not-authorized');
  });

  it('keeps the tokens when the reset repeats the current password', async () => {
    await api.server.createAccount('same', 'same-password');
    const agent = crypto.randomUUID();
    const token = await tokenFor('same', 'same-password', agent);

    expect((await api.request('POST', '/accounts/same:reset-password', { password: 'same-password' })).status).toBe(204);

    expect(await fastOutcome('same', agent, token)).toBe('success');
  });

  it('revokes the tokens of a disabled account, which stay gone after it is enabled', async () => {
    await api.server.createAccount('paused', 'paused-password');
    const agent = crypto.randomUUID();
    const token = await tokenFor('paused', 'paused-password', agent);

    expect((await api.request('POST', '/accounts/paused:disable')).status).toBe(204);
    expect(await tokenRows('paused')).toBe(0);
    expect((await api.request('POST', '/accounts/paused:enable')).status).toBe(204);

    expect(await fastOutcome('paused', agent, token)).toBe('not-authorized');
  });

  it('revokes the tokens after an in-band password change (XEP-0077)', async () => {
    await api.server.createAccount('inband', 'inband-password');
    const agent = crypto.randomUUID();
    const token = await tokenFor('inband', 'inband-password', agent);
    const client = await TestClient.connect(api.server, { username: 'inband', password: 'inband-password' });
    try {
      const change = x(
        'iq',
        NS.CLIENT,
        { type: 'set', to: api.server.domain },
        x('query', 'jabber:iq:register', {}, x('username', 'jabber:iq:register', {}, 'inband'), x('password', 'jabber:iq:register', {}, 'changed-password')),
      );
      expect((await client.iq(change)).attr('type')).toBe('result');
    } finally {
      await client.close();
    }

    expect(await fastOutcome('inband', agent, token)).toBe('not-authorized');
  });
});
