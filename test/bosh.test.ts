import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { BoshClient, parseResponse, postRaw, requestBody } from './support/bosh-client.js';
import { TEST_DOMAIN, delay } from './support/raw.js';

function chat(to: string, body: string, id?: string) {
  return x('message', NS.CLIENT, { to, type: 'chat', id }, x('body', NS.CLIENT, {}, body));
}

describe('BOSH (XEP-0124, XEP-0206)', () => {
  let server: TestServer;
  let bob: TestClient;
  const open: BoshClient[] = [];

  async function loginAlice(resource: string) {
    const session = await BoshClient.login(server.httpPort, 'alice', 'alice-password', resource);
    open.push(session.client);
    return session;
  }

  async function condition(text: string): Promise<string | undefined> {
    const { text: reply } = await postRaw(server.httpPort, text);
    const body = parseResponse(reply);
    expect(body.attr('type')).toBe('terminate');
    return body.attr('condition');
  }

  beforeAll(async () => {
    server = await startTestServer({ bosh: { inactivity_s: 2, polling_s: 2 } });
    await server.createAccount('alice', 'alice-password');
    await server.createAccount('bob', 'bob-password');
    bob = await TestClient.connect(server, { username: 'bob', password: 'bob-password', resource: 'desk', presence: true });
  });

  afterAll(async () => {
    for (const client of open) client.stopPolling();
    await bob?.close();
    await server?.stop();
  });

  it('creates a session with the negotiated parameters and the stream features', async () => {
    const client = await BoshClient.create(server.httpPort, { wait: 600, hold: 5, ack: 1 });
    open.push(client);
    const { creation } = client;
    expect(creation.attr('sid')).toMatch(/^[\w-]{20,}$/);
    expect(creation.attr('wait')).toBe(String(server.server.config.bosh.max_wait_s));
    expect(creation.attr('hold')).toBe('1');
    expect(creation.attr('requests')).toBe('2');
    expect(creation.attr('inactivity')).toBe('2');
    expect(creation.attr('polling')).toBe('2');
    expect(creation.attr('from')).toBe(TEST_DOMAIN);
    expect(creation.attr('ack')).toBe(String(client.rid - 1));
    expect(creation.attr('xmpp:version')).toBe('1.0');
    expect(creation.attr('authid')).toBeTruthy();
    const features = creation.getChild('features', NS.STREAM);
    expect(features?.getChild('mechanisms', NS.SASL)).toBeDefined();
    await client.terminate();
  });

  it('logs in, binds and exchanges messages with a TCP client', async () => {
    const { client, jid } = await loginAlice('web');
    expect(jid.toString()).toBe(`alice@${TEST_DOMAIN}/web`);

    client.send(chat(bob.jid.toString(), 'hello over BOSH'));
    const atBob = await bob.next((el) => el.name === 'message', 3000);
    expect(atBob.attr('from')).toBe(jid.toString());
    expect(atBob.getChildText('body')).toBe('hello over BOSH');

    bob.send(chat(jid.toString(), 'hello back'));
    const atAlice = await client.next((el) => el.name === 'message', 3000);
    expect(atAlice.ns).toBe(NS.CLIENT);
    expect(atAlice.getChildText('body')).toBe('hello back');

    const response = await client.terminate(x('presence', NS.CLIENT, { type: 'unavailable' }).toString());
    expect(response.attr('type')).toBe('terminate');
    expect(response.attr('condition')).toBeUndefined();
    expect(await condition(requestBody({ sid: client.sid, rid: client.rid++ }))).toBe('item-not-found');
  });

  it('processes requests in rid order when they arrive out of order', async () => {
    const { client } = await loginAlice('order');
    client.stopPolling();
    await delay(1100);
    const first = client.rid++;
    const second = client.rid++;
    const later = client.post({ rid: second }, chat(bob.jid.toString(), 'second').toString());
    await delay(100);
    const earlier = client.post({ rid: first }, chat(bob.jid.toString(), 'first').toString());
    const bodies = [await bob.next((el) => el.name === 'message', 3000), await bob.next((el) => el.name === 'message', 3000)];
    expect(bodies.map((el) => el.getChildText('body'))).toEqual(['first', 'second']);
    await Promise.all([earlier, later]);
    await client.terminate();
  });

  it('repeated rid gets the held or sent response', async () => {
    const { client, jid } = await loginAlice('retry');
    client.stopPolling();
    await delay(1100);

    const rid = client.rid++;
    const aborter = new AbortController();
    const dropped = client.post({ rid }, '', aborter.signal).catch((err: unknown) => err);
    await delay(150);
    aborter.abort();
    await dropped;
    // The same rid again takes the place of the dropped request that the server still holds.
    const retry = client.post({ rid });
    await delay(100);
    bob.send(chat(jid.toString(), 'kept for you'));
    const again = await retry;
    expect(again.getChild('message', NS.CLIENT)?.getChildText('body')).toBe('kept for you');
    const firstText = client.responses.get(rid);
    const repeated = await postRaw(server.httpPort, requestBody({ sid: client.sid, rid }));
    expect(repeated.text).toBe(firstText);
    await client.terminate();
  });

  it('acknowledges later requests when it answers an earlier one', async () => {
    const client = await BoshClient.create(server.httpPort, { ack: 1 });
    open.push(client);
    const held = client.post({ ack: client.rid - 1 });
    await delay(100);
    const next = client.rid;
    const released = client.post({}, x('iq', NS.CLIENT, { type: 'get', id: 'early' }, x('ping', NS.PING)).toString());
    expect((await held).attr('ack')).toBe(String(next));
    await released;
  });

  it('answers protocol errors with terminal binding conditions', async () => {
    expect(await condition(requestBody({ sid: 'no-such-session', rid: 5 }))).toBe('item-not-found');
    expect(await condition('<body xmlns="http://jabber.org/protocol/httpbind"')).toBe('bad-request');
    expect(await condition('<notbody/>')).toBe('bad-request');
    expect(await condition(requestBody({ rid: 1, to: 'elsewhere.test', 'xmpp:version': '1.0' }))).toBe('host-unknown');
    expect(await condition(requestBody({ rid: 'x', to: TEST_DOMAIN }))).toBe('bad-request');
    const big = 'a'.repeat(server.server.config.bosh.max_body_bytes + 1);
    expect(await condition(requestBody({ rid: 1, to: TEST_DOMAIN }, `<message xmlns='jabber:client'><body>${big}</body></message>`))).toBe('policy-violation');

    const outside = await BoshClient.create(server.httpPort);
    expect(await condition(requestBody({ sid: outside.sid, rid: outside.rid + 5 }))).toBe('item-not-found');

    const restartWithPayload = await BoshClient.create(server.httpPort);
    const restart = await restartWithPayload.post({ 'xmpp:restart': 'true' }, '<presence xmlns="jabber:client"/>');
    expect(restart.attr('condition')).toBe('bad-request');

    const before = await BoshClient.create(server.httpPort);
    const refused = await before.post({}, chat(bob.jid.toString(), 'too early').toString());
    expect(refused.attr('condition')).toBe('remote-stream-error');
    expect(refused.getChild('error', NS.STREAM)?.getChild('not-authorized', NS.STREAMS)).toBeDefined();

    const get = await fetch(`http://127.0.0.1:${server.httpPort}/http-bind`);
    expect(get.status).toBe(405);
  });

  it('ends a session that sends more requests than allowed or polls too often', async () => {
    // rid+2 waits for rid+1, and rid+1 would then be a third open request where two are allowed.
    const flood = await BoshClient.create(server.httpPort);
    const base = flood.rid;
    const held = flood.post({ rid: base });
    await delay(50);
    const waiting = flood.post({ rid: base + 2 }, '<presence xmlns="jabber:client"/>');
    await delay(50);
    expect((await flood.post({ rid: base + 1 }, '<presence xmlns="jabber:client"/>')).attr('condition')).toBe('policy-violation');
    expect((await held).attr('type')).toBe('terminate');
    expect((await waiting).attr('type')).toBe('terminate');

    const poller = await BoshClient.create(server.httpPort);
    const polled = poller.post();
    await delay(50);
    expect((await poller.post()).attr('condition')).toBe('policy-violation');
    expect((await polled).attr('type')).toBe('terminate');
  });

  it('holds a stanza larger than the stanza limit to that limit', async () => {
    const { client } = await loginAlice('big');
    const big = 'b'.repeat(server.server.config.sessions.max_stanza_bytes);
    client.send(chat(bob.jid.toString(), big));
    const error = await client.next((el) => el.name === 'error' && el.ns === NS.STREAM, 3000);
    expect(error.getChild('policy-violation', NS.STREAMS)).toBeDefined();
  });

  it('ends an inactive session after the inactivity timeout', async () => {
    const { client, jid } = await loginAlice('idle');
    client.stopPolling();
    await delay(3300);
    expect(server.server.sessions.get(jid)).toBeUndefined();
    expect(await condition(requestBody({ sid: client.sid, rid: client.rid }))).toBe('item-not-found');
  });

  it('stream management resumes after a timeout', async () => {
    const { client, jid } = await loginAlice('resumable');
    const enabled = client.next((el) => el.name === 'enabled' && el.ns === NS.SM, 3000);
    client.send(x('enable', NS.SM, { resume: 'true' }));
    const previd = (await enabled).attr('id')!;
    client.stopPolling();
    await delay(3300);
    expect(server.server.sessions.get(jid)).toBeDefined();

    bob.send(chat(jid.toString(), 'while you were away', 'away-1'));
    await delay(200);

    const fresh = await BoshClient.create(server.httpPort);
    open.push(fresh);
    fresh.startPolling();
    await fresh.authenticate('alice', 'alice-password');
    fresh.send(x('resume', NS.SM, { previd, h: 0 }));
    const resumed = await fresh.next((el) => el.name === 'resumed' && el.ns === NS.SM, 3000);
    expect(resumed.attr('previd')).toBe(previd);
    const message = await fresh.next((el) => el.name === 'message' && el.attr('id') === 'away-1', 3000);
    expect(message.getChildText('body')).toBe('while you were away');
    await fresh.terminate();
  });

  it('answers CORS preflight requests', async () => {
    const response = await fetch(`http://127.0.0.1:${server.httpPort}/http-bind`, { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });
});
