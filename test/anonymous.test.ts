import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, JID, NS, x } from '@parley/xmpp';
import { sql } from 'kysely';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient, authElement, bindResource, nextSaslStep, offeredMechanisms, saslFailureCondition } from './support/client.js';
import { RawConnection, streamErrorCondition } from './support/raw.js';
import { NS_FAST, NS_SASL2, bind2, nextSasl2Step, sasl2Failure, userAgent } from './support/sasl2.js';
import { MUC_SERVICE, NS_MUC, NS_MUC_ADMIN, createRoom } from './support/muc.js';

const ANON = 'anon.example.test';
const PASSWORD = 'alice-password';
const ROOM = `lobby@${MUC_SERVICE}`;

let server: TestServer;
let alice: TestClient;

beforeAll(async () => {
  server = await startTestServer({ anonymous: { enabled: true, logins_per_ip_per_hour: 1000 } });
  await server.createAccount('alice', PASSWORD);
  alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD, presence: true });
  await createRoom(alice, `${ROOM}/alice`);
});

afterAll(async () => {
  await alice?.close();
  await server?.stop();
});

/** Opens a stream to `to` and upgrades it with STARTTLS; returns the features after TLS. */
async function openTo(target: TestServer, to: string): Promise<{ connection: RawConnection; features: Element }> {
  const connection = await RawConnection.tcp(target.c2sPort);
  await connection.openStream({ to, version: '1.0' });
  await connection.startTls();
  return { connection, features: await connection.openStream({ to, version: '1.0' }) };
}

/** Logs in with SASL ANONYMOUS (RFC 6120 SASL), binds a resource and sends initial presence. */
async function anonymousLogin(target: TestServer = server): Promise<{ connection: RawConnection; jid: JID }> {
  const { connection } = await openTo(target, ANON);
  connection.send(authElement('ANONYMOUS', Buffer.from('trace@example.org')));
  const outcome = await nextSaslStep(connection);
  if (outcome.name !== 'success') throw new Error(`anonymous login failed: ${outcome.toString()}`);
  await connection.openStream({ to: ANON, version: '1.0' });
  const jid = await bindResource(connection, 'web');
  connection.send(x('presence', NS.CLIENT));
  await connection.next((el) => el.name === 'presence' && el.attr('from') === jid.toString());
  return { connection, jid };
}

async function anonymousFailure(target: TestServer): Promise<string | undefined> {
  const { connection } = await openTo(target, ANON);
  connection.send(authElement('ANONYMOUS', Buffer.alloc(0)));
  const outcome = await nextSaslStep(connection);
  connection.destroy();
  return outcome.name === 'success' ? 'success' : saslFailureCondition(outcome);
}

let nextId = 1;
function iq(connection: RawConnection, stanza: Element): Promise<Element> {
  const id = `anon-${nextId++}`;
  stanza.setAttr('id', id);
  const reply = connection.next((el) => el.name === 'iq' && el.attr('id') === id, 5000);
  connection.send(stanza);
  return reply;
}

/** Counts, in every table, the rows that belong to `jid`: by (host, username), or by a `jid` column. */
async function rowsOf(target: TestServer, jid: JID): Promise<Record<string, number>> {
  const db = target.server.storage.db;
  const tables = await db.introspection.getTables();
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const name = table.name;
    const columns = table.columns.map((column) => column.name);
    let count = 0;
    if (columns.includes('host') && columns.includes('username')) {
      const result = await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(name)} WHERE host = ${jid.domain} AND username = ${jid.local}`.execute(db);
      count += Number(result.rows[0]?.n ?? 0);
    }
    if (columns.includes('jid')) {
      const result = await sql<{ n: number }>`SELECT count(*) AS n FROM ${sql.table(name)} WHERE jid = ${jid.bare().toString()}`.execute(db);
      count += Number(result.rows[0]?.n ?? 0);
    }
    counts[name] = count;
  }
  return counts;
}

function total(counts: Record<string, number>): number {
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

describe('SASL ANONYMOUS', () => {
  it('is off by default: the anonymous domain is unknown', async () => {
    const plain = await startTestServer();
    try {
      const connection = await RawConnection.tcp(plain.c2sPort);
      connection.writeStreamHeader({ to: ANON, version: '1.0' });
      const error = await connection.next((el) => el.name === 'error' && el.ns === NS.STREAM);
      expect(streamErrorCondition(error)).toBe('host-unknown');
      connection.destroy();
    } finally {
      await plain.stop();
    }
  });

  it('offers only ANONYMOUS on the anonymous domain, and never on the main one', async () => {
    const anon = await openTo(server, ANON);
    expect(offeredMechanisms(anon.features)).toEqual(['ANONYMOUS']);
    const sasl2 = anon.features.getChild('authentication', NS_SASL2)!;
    expect(sasl2.getChildren('mechanism', NS_SASL2).map((el) => el.text())).toEqual(['ANONYMOUS']);
    expect(sasl2.getChild('inline', NS_SASL2)!.getChild('fast', NS_FAST)).toBeUndefined();
    expect(anon.features.getChild('register', NS.REGISTER_FEATURE)).toBeUndefined();
    anon.connection.send(authElement('PLAIN', Buffer.from('\0alice\0alice-password')));
    expect(saslFailureCondition(await nextSaslStep(anon.connection))).toBe('invalid-mechanism');
    anon.connection.destroy();

    const main = await openTo(server, 'example.test');
    expect(offeredMechanisms(main.features)).not.toContain('ANONYMOUS');
    main.connection.send(authElement('ANONYMOUS', Buffer.alloc(0)));
    expect(saslFailureCondition(await nextSaslStep(main.connection))).toBe('invalid-mechanism');
    main.connection.destroy();
  });

  it('an anonymous login and its cleanup', async () => {
    const { connection, jid } = await anonymousLogin();
    expect(jid.domain).toBe(ANON);
    expect(jid.local).toMatch(/^[0-9a-f]{32}$/);

    // Chat with a local user, both ways.
    connection.send(x('message', NS.CLIENT, { to: 'alice@example.test', type: 'chat' }, x('body', NS.CLIENT, {}, 'hello from nowhere')));
    const received = await alice.next((el) => el.name === 'message' && el.getChildText('body') === 'hello from nowhere');
    expect(JID.parse(received.attr('from')!).bare().toString()).toBe(jid.bare().toString());
    alice.send(x('message', NS.CLIENT, { to: jid.toString(), type: 'chat' }, x('body', NS.CLIENT, {}, 'hello back')));
    await connection.next((el) => el.name === 'message' && el.getChildText('body') === 'hello back');

    // Join a room, where the owner makes the anonymous user a member.
    connection.send(x('presence', NS.CLIENT, { to: `${ROOM}/guest` }, x('x', NS_MUC)));
    await connection.next((el) => el.name === 'presence' && el.attr('from') === `${ROOM}/guest` && el.attr('type') === undefined);
    const member = x('query', NS_MUC_ADMIN, {}, x('item', NS_MUC_ADMIN, { jid: jid.bare().toString(), affiliation: 'member' }));
    expect((await alice.iq(x('iq', NS.CLIENT, { type: 'set', to: ROOM }, member))).attr('type')).toBe('result');

    // Store what a client stores: roster, private XML, vCard, block list, PEP.
    const writes = [
      x('query', 'jabber:iq:roster', {}, x('item', 'jabber:iq:roster', { jid: 'alice@example.test' })),
      x('query', 'jabber:iq:private', {}, x('note', 'urn:test:notes', {}, 'kept?')),
      x('vCard', 'vcard-temp', {}, x('FN', 'vcard-temp', {}, 'Guest')),
      x('block', 'urn:xmpp:blocking', {}, x('item', 'urn:xmpp:blocking', { jid: 'spam@example.org' })),
      x('pubsub', 'http://jabber.org/protocol/pubsub', {}, x('publish', 'http://jabber.org/protocol/pubsub', { node: 'urn:xmpp:tune' }, x('item', 'http://jabber.org/protocol/pubsub', { id: 'current' }, x('tune', 'http://jabber.org/protocol/tune')))),
    ];
    for (const payload of writes) expect((await iq(connection, x('iq', NS.CLIENT, { type: 'set' }, payload))).attr('type')).toBe('result');
    expect(total(await rowsOf(server, jid))).toBeGreaterThan(0);

    connection.write('</stream:stream>');
    await connection.waitForStreamEnd(5000);
    connection.destroy();
    await expect.poll(async () => total(await rowsOf(server, jid)), { timeout: 5000 }).toBe(0);
    expect(await server.server.storage.accounts.exists(ANON, jid.local)).toBe(false);

    // A message to the gone user bounces and is not stored offline.
    alice.send(x('message', NS.CLIENT, { to: jid.bare().toString(), type: 'chat', id: 'late' }, x('body', NS.CLIENT, {}, 'still there?')));
    const bounce = await alice.next((el) => el.name === 'message' && el.attr('id') === 'late');
    expect(bounce.attr('type')).toBe('error');
    expect(bounce.getChild('error')!.getChild('service-unavailable', NS.STANZAS)).toBeDefined();
    expect(total(await rowsOf(server, jid))).toBe(0);
  });

  it('bounces messages for a bound user without presence instead of storing them', async () => {
    const { connection } = await openTo(server, ANON);
    connection.send(authElement('ANONYMOUS', Buffer.alloc(0)));
    expect((await nextSaslStep(connection)).name).toBe('success');
    await connection.openStream({ to: ANON, version: '1.0' });
    const jid = await bindResource(connection);

    alice.send(x('message', NS.CLIENT, { to: jid.bare().toString(), type: 'chat', id: 'quiet' }, x('body', NS.CLIENT, {}, 'are you there?')));
    const bounce = await alice.next((el) => el.name === 'message' && el.attr('id') === 'quiet');
    expect(bounce.getChild('error')!.getChild('service-unavailable', NS.STANZAS)).toBeDefined();
    expect((await rowsOf(server, jid)).offline_messages).toBe(0);
    connection.destroy();
  });

  it('logs in through SASL2 with Bind 2 and gets no FAST token', async () => {
    const { connection } = await openTo(server, ANON);
    connection.send(
      x('authenticate', NS_SASL2, { mechanism: 'ANONYMOUS' }, x('initial-response', NS_SASL2, {}, '='), userAgent(), bind2('App'), x('request-token', NS_FAST, { mechanism: 'HT-SHA-256-NONE' })),
    );
    const success = await nextSasl2Step(connection);
    expect(success.name).toBe('success');
    const identity = JID.parse(success.getChildText('authorization-identifier', NS_SASL2)!);
    expect(identity.domain).toBe(ANON);
    expect(identity.resource).toMatch(/^App\//);
    expect(success.getChild('token', NS_FAST)).toBeUndefined();
    connection.destroy();
  });

  it('refuses registration, password change and account removal', async () => {
    const { connection, jid } = await anonymousLogin();
    const change = x('query', NS.REGISTER, {}, x('username', NS.REGISTER, {}, jid.local), x('password', NS.REGISTER, {}, 'a-new-password'));
    const reply = await iq(connection, x('iq', NS.CLIENT, { type: 'set' }, change));
    expect(reply.getChild('error')!.getChild('not-allowed', NS.STANZAS)).toBeDefined();
    const removal = await iq(connection, x('iq', NS.CLIENT, { type: 'set', to: ANON }, x('query', NS.REGISTER, {}, x('remove', NS.REGISTER))));
    expect(removal.attr('type')).toBe('error');
    connection.destroy();

    // Before authentication, in-band registration is not offered on the anonymous domain.
    const pre = await openTo(server, ANON);
    pre.connection.send(x('iq', NS.CLIENT, { type: 'get', id: 'reg' }, x('query', NS.REGISTER)));
    const error = await pre.connection.next((el) => el.name === 'error' && el.ns === NS.STREAM);
    expect(streamErrorCondition(error)).toBe('not-authorized');
    pre.connection.destroy();
  });

  it('keeps a restarted stream on the domain it authenticated for', async () => {
    const { connection } = await openTo(server, ANON);
    connection.send(authElement('ANONYMOUS', Buffer.alloc(0)));
    expect((await nextSaslStep(connection)).name).toBe('success');
    connection.writeStreamHeader({ to: 'example.test', version: '1.0' });
    const error = await connection.next((el) => el.name === 'error' && el.ns === NS.STREAM);
    expect(streamErrorCondition(error)).toBe('host-unknown');
    connection.destroy();
  });

  it('answers disco#info and ping on the anonymous domain', async () => {
    const { connection } = await anonymousLogin();
    const info = await iq(connection, x('iq', NS.CLIENT, { type: 'get', to: ANON }, x('query', NS.DISCO_INFO)));
    expect(info.attr('type')).toBe('result');
    expect(info.attr('from')).toBe(ANON);
    const query = info.getChild('query', NS.DISCO_INFO)!;
    expect(query.getChild('identity', NS.DISCO_INFO)!.attr('category')).toBe('server');
    expect(query.getChildren('feature', NS.DISCO_INFO).map((el) => el.attr('var'))).not.toContain(NS.REGISTER);
    const items = await iq(connection, x('iq', NS.CLIENT, { type: 'get', to: ANON }, x('query', NS.DISCO_ITEMS)));
    expect(items.getChild('query', NS.DISCO_ITEMS)!.getChildren('item', NS.DISCO_ITEMS).map((el) => el.attr('jid'))).toContain(MUC_SERVICE);
    expect((await iq(connection, x('iq', NS.CLIENT, { type: 'get', to: ANON }, x('ping', NS.PING)))).attr('type')).toBe('result');
    connection.destroy();
  });
});

describe('anonymous limits', () => {
  it('limits logins per IP address and sessions at once', async () => {
    const limited = await startTestServer({ anonymous: { enabled: true, logins_per_ip_per_hour: 2, max_sessions: 1 } });
    try {
      const first = await anonymousLogin(limited);
      expect(await anonymousFailure(limited)).toBe('temporary-auth-failure');
      first.connection.destroy();
      await expect.poll(() => limited.server.storage.accounts.exists(ANON, first.jid.local), { timeout: 5000 }).toBe(false);
      expect(await anonymousFailure(limited)).toBe('success');
      expect(await anonymousFailure(limited)).toBe('temporary-auth-failure');
    } finally {
      await limited.stop();
    }
  });

  it('ends a session at max_session_s and forgets it', async () => {
    const brief = await startTestServer({ anonymous: { enabled: true, max_session_s: 1 } });
    try {
      const { connection, jid } = await anonymousLogin(brief);
      const error = await connection.next((el) => el.name === 'error' && el.ns === NS.STREAM, 4000);
      expect(streamErrorCondition(error)).toBe('policy-violation');
      await expect.poll(() => brief.server.storage.accounts.exists(ANON, jid.local), { timeout: 5000 }).toBe(false);
      connection.destroy();
    } finally {
      await brief.stop();
    }
  });

  it('removes anonymous accounts a previous run left behind', async () => {
    const crashed = await startTestServer({ anonymous: { enabled: true } });
    try {
      const db = crashed.server.storage.db;
      await db.insertInto('accounts').values({ host: ANON, username: 'leftover', created_at: Date.now(), disabled: 0, legacy_hash: null }).execute();
      await db.insertInto('private_storage').values({ host: ANON, username: 'leftover', key: 'urn:test:notes note', xml: '<note/>' }).execute();
      await crashed.restart();
      expect(total(await rowsOf(crashed, JID.parse(`leftover@${ANON}`)))).toBe(0);
    } finally {
      await crashed.stop();
    }
  });

  it('fails an ANONYMOUS exchange with an invalid trace', async () => {
    const { connection } = await openTo(server, ANON);
    connection.send(authElement('ANONYMOUS', Buffer.from([0xff, 0xfe])));
    expect(saslFailureCondition(await nextSaslStep(connection))).toBe('malformed-request');
    connection.send(x('authenticate', NS_SASL2, { mechanism: 'SCRAM-SHA-256' }));
    expect(sasl2Failure(await nextSasl2Step(connection))).toBe('invalid-mechanism');
    connection.destroy();
  });
});
