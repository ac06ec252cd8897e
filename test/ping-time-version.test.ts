import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, readStanzaErrorCondition, x } from '@parley/xmpp';
import { type TestServer, startTestServer } from './support/server.js';
import { TestClient } from './support/client.js';

const serverVersion = (JSON.parse(readFileSync(new URL('../packages/server/package.json', import.meta.url), 'utf8')) as { version: string }).version;

function errorCondition(reply: Element): string | undefined {
  const error = reply.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

describe('ping, time and version', () => {
  let server: TestServer;
  const clients: TestClient[] = [];

  async function connect(username: string): Promise<TestClient> {
    const client = await TestClient.connect(server, { username, password: 'secret-pw' });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    server = await startTestServer({ server_info: { name: 'Parley Test' } });
    await server.createAccount('alice', 'secret-pw');
    await server.createAccount('bob', 'secret-pw');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await server.stop();
  });

  it('ping to the host returns an empty result', async () => {
    const alice = await connect('alice');
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('ping', NS.PING)));
    expect(reply.attr('type')).toBe('result');
    expect(reply.elements()).toHaveLength(0);
  });

  it('ping to the own bare JID returns a result', async () => {
    const alice = await connect('alice');
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: alice.jid.bare().toString() }, x('ping', NS.PING)));
    expect(reply.attr('type')).toBe('result');
    expect(reply.attr('from')).toBe(alice.jid.bare().toString());
  });

  it('ping without to returns a result', async () => {
    const alice = await connect('alice');
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get' }, x('ping', NS.PING)));
    expect(reply.attr('type')).toBe('result');
  });

  it('ping to a stranger is service-unavailable', async () => {
    const alice = await connect('alice');
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: `bob@${server.domain}` }, x('ping', NS.PING)));
    expect(errorCondition(reply)).toBe('service-unavailable');
  });

  it('ping to a missing account is service-unavailable too', async () => {
    const alice = await connect('alice');
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: `nobody@${server.domain}` }, x('ping', NS.PING)));
    expect(errorCondition(reply)).toBe('service-unavailable');
  });

  it('ping set is service-unavailable', async () => {
    const alice = await connect('alice');
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'set', to: server.domain }, x('ping', NS.PING)));
    expect(errorCondition(reply)).toBe('service-unavailable');
  });

  it('time returns tzo and utc with milliseconds', async () => {
    const alice = await connect('alice');
    const before = Date.now();
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('time', NS.TIME)));
    const time = reply.getChild('time', NS.TIME);
    const utc = time?.getChildText('utc', NS.TIME) ?? '';
    expect(time?.getChildText('tzo', NS.TIME)).toMatch(/^[+-]\d{2}:\d{2}$/);
    expect(utc).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Date.parse(utc)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(utc)).toBeLessThanOrEqual(Date.now());
  });

  it('version returns the configured name and package version', async () => {
    const alice = await connect('alice');
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', NS.VERSION)));
    const query = reply.getChild('query', NS.VERSION);
    expect(query?.getChildText('name', NS.VERSION)).toBe('Parley Test');
    expect(query?.getChildText('version', NS.VERSION)).toBe(serverVersion);
  });

  it('version leaves out os by default', async () => {
    const alice = await connect('alice');
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', NS.VERSION)));
    expect(reply.getChild('query', NS.VERSION)?.getChild('os', NS.VERSION)).toBeUndefined();
  });

  it('host disco lists ping, time and version', async () => {
    const alice = await connect('alice');
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', NS.DISCO_INFO)));
    const features = reply.getChild('query', NS.DISCO_INFO)?.getChildren('feature', NS.DISCO_INFO).map((el) => el.attr('var')) ?? [];
    expect(features).toEqual(expect.arrayContaining([NS.PING, NS.TIME, NS.VERSION]));
  });
});

describe('version with show_os', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ server_info: { show_os: true } });
    await server.createAccount('alice', 'secret-pw');
  });

  afterAll(async () => {
    await server.stop();
  });

  it('includes os', async () => {
    const alice = await TestClient.connect(server, { username: 'alice', password: 'secret-pw' });
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', NS.VERSION)));
    await alice.close();
    expect(reply.getChild('query', NS.VERSION)?.getChildText('os', NS.VERSION)).toMatch(/\S/);
  });
});
