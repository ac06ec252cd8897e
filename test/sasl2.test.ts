import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, JID, NS, x } from '@parley/xmpp';
import { carbonsEnabled } from '../packages/server/src/modules/carbons/copies.js';
import { startTestServer, type TestServer } from './support/server.js';
import { loginPlain, offeredMechanisms, openClientStream } from './support/client.js';
import type { RawConnection } from './support/raw.js';
import { NS_BIND2, NS_CARBONS, NS_FAST, NS_SASL2, bind2, nextSasl2Step, sasl2Failure, sasl2Scram, userAgent } from './support/sasl2.js';

const PASSWORD = 'alice-password';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ auth: { max_failures: 1000 } });
  await server.createAccount('alice', PASSWORD);
});

afterAll(async () => {
  await server?.stop();
});

/** Waits for the `<stream:features/>` that follows a SASL2 success. */
function nextFeatures(connection: RawConnection): Promise<Element> {
  return connection.next((el) => el.name === 'features' && el.ns === NS.STREAM);
}

function identityOf(success: Element): JID {
  return JID.parse(success.getChildText('authorization-identifier', NS_SASL2) ?? '');
}

describe('SASL2 feature', () => {
  it('offers the password mechanisms with Bind 2, stream management and FAST inline', async () => {
    const { connection, features } = await openClientStream(server, 'starttls');
    const authentication = features.getChild('authentication', NS_SASL2)!;
    expect(authentication.getChildren('mechanism', NS_SASL2).map((el) => el.text())).toEqual(offeredMechanisms(features));

    const inline = authentication.getChild('inline', NS_SASL2)!;
    const bindFeatures = inline.getChild('bind', NS_BIND2)!.getChild('inline', NS_BIND2)!.getChildren('feature', NS_BIND2);
    expect(bindFeatures.map((el) => el.attr('var'))).toEqual([NS.SM, NS_CARBONS, NS.CSI]);
    expect(inline.getChild('sm', NS.SM)).toBeDefined();
    const fast = inline.getChild('fast', NS_FAST)!.getChildren('mechanism', NS_FAST).map((el) => el.text());
    expect(fast).toEqual(['HT-SHA-256-EXPR', 'HT-SHA-256-ENDP', 'HT-SHA-256-NONE']);
    connection.destroy();
  });

  it('is not offered before TLS when TLS is required', async () => {
    const strict = await startTestServer({ tls: { allow_plaintext_on_loopback: false } });
    try {
      const { connection, features } = await openClientStream(strict, 'plain');
      expect(features.getChild('authentication', NS_SASL2)).toBeUndefined();
      connection.send(x('authenticate', NS_SASL2, { mechanism: 'PLAIN' }));
      expect(sasl2Failure(await nextSasl2Step(connection))).toBe('encryption-required');
      connection.destroy();
    } finally {
      await strict.stop();
    }
  });

  it('follows the legacy_sasl and sasl2 switches', async () => {
    const only2 = await startTestServer({ auth: { legacy_sasl: false } });
    const only1 = await startTestServer({ auth: { sasl2: false } });
    try {
      const first = await openClientStream(only2, 'starttls');
      expect(first.features.getChild('mechanisms', NS.SASL)).toBeUndefined();
      expect(first.features.getChild('authentication', NS_SASL2)).toBeDefined();
      await only2.createAccount('bob', 'bob-password');
      expect((await loginPlain(first.connection, 'bob', 'bob-password')).getChild('invalid-mechanism', NS.SASL)).toBeDefined();
      first.connection.destroy();

      const second = await openClientStream(only1, 'starttls');
      expect(second.features.getChild('authentication', NS_SASL2)).toBeUndefined();
      expect(offeredMechanisms(second.features)).toContain('SCRAM-SHA-256');
      second.connection.destroy();
    } finally {
      await only2.stop();
      await only1.stop();
    }
  });
});

describe('SASL2 login with Bind 2', () => {
  it('binds and enables inline features in one round trip', async () => {
    const { connection } = await openClientStream(server, 'starttls');
    const inline = bind2('Phone', x('enable', NS.SM, { resume: 'true' }), x('enable', NS_CARBONS), x('inactive', NS.CSI));
    const success = await sasl2Scram(connection, 'alice', PASSWORD, [userAgent(), inline]);
    expect(success.name).toBe('success');

    const jid = identityOf(success);
    expect(jid.bare().toString()).toBe(`alice@${server.domain}`);
    expect(jid.resource).toMatch(/^Phone\/[A-Za-z0-9_-]{12}$/);
    const enabled = success.getChild('bound', NS_BIND2)!.getChild('enabled', NS.SM)!;
    expect(enabled.attr('resume')).toBe('true');
    expect(enabled.attr('id')).toMatch(/.{20,}/);

    const features = await nextFeatures(connection);
    expect(features.getChild('bind', NS.BIND)).toBeUndefined();

    const session = server.server.sessions.get(jid)!;
    expect(session.state).toBe('bound');
    expect(carbonsEnabled(session)).toBe(true);
    expect(session.sm?.resumeId).toBe(enabled.attr('id'));
    expect(session.data.has('csi.state')).toBe(true);

    // No stream restart: stanzas flow on the same stream, and stream management counts them.
    connection.send(x('iq', NS.CLIENT, { type: 'get', id: 'p1', to: server.domain }, x('ping', NS.PING)));
    expect((await connection.next((el) => el.attr('id') === 'p1')).attr('type')).toBe('result');
    connection.send(x('r', NS.SM));
    expect((await connection.next((el) => el.name === 'a' && el.ns === NS.SM)).attr('h')).toBe('1');
    connection.destroy();
  });

  it('gives the same client the same resource, and another client another one', async () => {
    const agent = userAgent();
    const logins: JID[] = [];
    for (const ua of [agent, agent, userAgent()]) {
      const { connection } = await openClientStream(server, 'starttls');
      const success = await sasl2Scram(connection, 'alice', PASSWORD, [ua, bind2('Laptop')]);
      logins.push(identityOf(success));
      connection.destroy();
    }
    expect(logins[0]!.equals(logins[1]!)).toBe(true);
    expect(logins[2]!.equals(logins[0]!)).toBe(false);
    expect(logins[2]!.resource).toMatch(/^Laptop\//);
  });

  it('leaves binding to the client without Bind 2', async () => {
    const { connection } = await openClientStream(server, 'tls');
    const success = await sasl2Scram(connection, 'alice', PASSWORD, [userAgent()]);
    expect(identityOf(success).toString()).toBe(`alice@${server.domain}`);
    const features = await nextFeatures(connection);
    expect(features.getChild('bind', NS.BIND)).toBeDefined();
    connection.send(x('iq', NS.CLIENT, { type: 'set', id: 'b1' }, x('bind', NS.BIND, {}, x('resource', NS.BIND, {}, 'later'))));
    expect((await connection.next((el) => el.attr('id') === 'b1')).attr('type')).toBe('result');
    connection.destroy();
  });

  it('keeps the stream open after a failure', async () => {
    const { connection } = await openClientStream(server, 'starttls');
    const failure = await sasl2Scram(connection, 'alice', 'wrong', [userAgent(), bind2('X')]);
    expect(sasl2Failure(failure)).toBe('not-authorized');
    connection.send(x('authenticate', NS_SASL2, { mechanism: 'NOPE' }));
    expect(sasl2Failure(await nextSasl2Step(connection))).toBe('invalid-mechanism');
    const success = await sasl2Scram(connection, 'alice', PASSWORD, [userAgent()]);
    expect(success.name).toBe('success');
    connection.destroy();
  });

  it('resumes a stream management session inside <authenticate/> and replays what was not acknowledged', async () => {
    const first = (await openClientStream(server, 'starttls')).connection;
    const success = await sasl2Scram(first, 'alice', PASSWORD, [userAgent(), bind2('Tablet', x('enable', NS.SM, { resume: 'true' }))]);
    const jid = identityOf(success);
    const previd = success.getChild('bound', NS_BIND2)!.getChild('enabled', NS.SM)!.attr('id')!;
    await nextFeatures(first);
    first.destroy();
    await expect.poll(() => server.server.resumableSessions.hibernating().length, { timeout: 5000 }).toBe(1);

    const sender = (await openClientStream(server, 'starttls')).connection;
    await sasl2Scram(sender, 'alice', PASSWORD, [userAgent(), bind2('Sender')]);
    sender.send(x('message', NS.CLIENT, { to: jid.toString(), type: 'chat', id: 'm1' }, x('body', NS.CLIENT, {}, 'while away')));

    const second = (await openClientStream(server, 'starttls')).connection;
    await expect.poll(() => server.server.sessions.get(jid)?.sm?.unackedCount, { timeout: 5000 }).toBe(1);
    const resumed = await sasl2Scram(second, 'alice', PASSWORD, [userAgent(), x('resume', NS.SM, { previd, h: 0 }), bind2('Ignored')]);
    expect(resumed.getChild('resumed', NS.SM)?.attr('h')).toBe('0');
    expect(identityOf(resumed).equals(jid)).toBe(true);
    expect(resumed.getChild('bound', NS_BIND2)).toBeUndefined();
    await nextFeatures(second);
    const replayed = await second.next((el) => el.name === 'message');
    expect(replayed.getChildText('body', NS.CLIENT)).toBe('while away');
    sender.destroy();
    second.destroy();
  });

  it('reports a failed resumption in <success/> and binds a new session', async () => {
    const { connection } = await openClientStream(server, 'starttls');
    const success = await sasl2Scram(connection, 'alice', PASSWORD, [userAgent(), x('resume', NS.SM, { previd: 'unknown', h: 0 }), bind2('Fresh')]);
    expect(success.getChild('failed', NS.SM)?.getChild('item-not-found', NS.STANZAS)).toBeDefined();
    expect(identityOf(success).resource).toMatch(/^Fresh\//);
    connection.destroy();
  });
});
