import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { connectComponent } from './support/component.js';
import { componentIq, errorCondition } from './support/upload.js';

const NS_EXTDISCO = 'urn:xmpp:extdisco:2';
const PASSWORD = 'extdisco-pw';
const TURN_SECRET = 'coturn static auth secret';
const BRIDGE = 'bridge.example.test';
const BRIDGE_SECRET = 'bridge secret';

function services(reply: Element): Element[] {
  expect(reply.attr('type'), reply.toString()).toBe('result');
  return reply.elements()[0]!.getChildren('service', NS_EXTDISCO);
}

describe('external service discovery (XEP-0215)', () => {
  let server: TestServer;
  let alice: TestClient;

  beforeAll(async () => {
    server = await startTestServer({
      listen: { component_port: 0 },
      components: [{ domain: BRIDGE, secret: BRIDGE_SECRET }],
      external_services: [
        { type: 'stun', host: 'stun.example.test', port: 3478, transport: 'udp' },
        { type: 'turn', host: 'turn.example.test', port: 3478, transport: 'udp', name: 'Relay', secret: TURN_SECRET, credential_ttl_s: 3600 },
        { type: 'turn', host: 'turn.example.test', port: 5349, transport: 'tcp', secret: TURN_SECRET },
      ],
    });
    await server.createAccount('alice', PASSWORD);
    alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD });
  });

  afterAll(async () => {
    await alice?.close();
    await server?.stop();
  });

  function ask(payload: Element): Promise<Element> {
    return alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, payload));
  }

  it('announces urn:xmpp:extdisco:2 in the server disco#info', async () => {
    const info = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', NS.DISCO_INFO)));
    const features = info.getChild('query', NS.DISCO_INFO)!.getChildren('feature', NS.DISCO_INFO).map((feature) => feature.attr('var'));
    expect(features).toContain(NS_EXTDISCO);
  });

  it('lists the configured services and the upload service', async () => {
    const listed = services(await ask(x('services', NS_EXTDISCO)));
    expect(listed.map((service) => `${service.attr('type')} ${service.attr('host')}:${service.attr('port')}`)).toEqual([
      'stun stun.example.test:3478',
      'turn turn.example.test:3478',
      'turn turn.example.test:5349',
      `http 127.0.0.1:${server.httpPort}`,
    ]);
    expect(listed[0]!.attr('username')).toBeUndefined();
    expect(listed[1]!.attr('name')).toBe('Relay');
    expect(listed[3]!.attr('transport')).toBe('tcp');
  });

  it('gives TURN credentials of the REST scheme that the shared secret verifies', async () => {
    const before = Math.floor(Date.now() / 1000);
    const turn = services(await ask(x('services', NS_EXTDISCO, { type: 'turn' })));
    expect(turn).toHaveLength(2);
    const relay = turn[0]!;
    const username = relay.attr('username')!;
    const [expiry, jid] = username.split(':');
    expect(jid).toBe(`alice@${server.domain}`);
    expect(Number(expiry)).toBeGreaterThanOrEqual(before + 3600);
    expect(Number(expiry)).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 3600);
    expect(relay.attr('password')).toBe(createHmac('sha1', TURN_SECRET).update(username).digest('base64'));
    expect(Date.parse(relay.attr('expires')!)).toBe(Number(expiry) * 1000);
    expect(relay.attr('restricted')).toBe('true');
    // The second entry keeps the default lifetime of a day.
    expect(Number(turn[1]!.attr('username')!.split(':')[0])).toBeGreaterThanOrEqual(before + 86_400);
  });

  it('filters by type, including the upload service type', async () => {
    expect(services(await ask(x('services', NS_EXTDISCO, { type: 'stun' }))).map((service) => service.attr('host'))).toEqual(['stun.example.test']);
    expect(services(await ask(x('services', NS_EXTDISCO, { type: 'http' })))).toHaveLength(1);
    expect(services(await ask(x('services', NS_EXTDISCO, { type: 'ftp' })))).toEqual([]);
  });

  it('answers credential requests for a named service', async () => {
    const reply = await ask(x('credentials', NS_EXTDISCO, {}, x('service', NS_EXTDISCO, { host: 'turn.example.test', type: 'turn', port: '5349' })));
    const [service] = services(reply);
    expect(service!.attr('port')).toBe('5349');
    const username = service!.attr('username')!;
    expect(service!.attr('password')).toBe(createHmac('sha1', TURN_SECRET).update(username).digest('base64'));

    const both = await ask(x('credentials', NS_EXTDISCO, {}, x('service', NS_EXTDISCO, { host: 'turn.example.test', type: 'turn' })));
    expect(services(both)).toHaveLength(2);

    expect(errorCondition(await ask(x('credentials', NS_EXTDISCO, {}, x('service', NS_EXTDISCO, { host: 'stun.example.test', type: 'stun' }))))).toBe('item-not-found');
    expect(errorCondition(await ask(x('credentials', NS_EXTDISCO, {}, x('service', NS_EXTDISCO, { host: 'turn.example.test' }))))).toBe('bad-request');
    expect(errorCondition(await ask(x('credentials', NS_EXTDISCO)))).toBe('bad-request');
  });

  it('refuses entities that are not accounts of the server', async () => {
    const component = await connectComponent(server.server.addresses.component!, BRIDGE, BRIDGE_SECRET);
    try {
      const iq = x('iq', NS.CLIENT, { type: 'get', to: server.domain, from: `eve@${BRIDGE}` }, x('services', NS_EXTDISCO));
      expect(errorCondition(await componentIq(component, iq, 'remote-extdisco'))).toBe('forbidden');
    } finally {
      component.destroy();
    }
  });
});
