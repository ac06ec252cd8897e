import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, serialize, x } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { RawConnection, delay, streamErrorCondition } from './support/raw.js';
import { validateConfig } from '../packages/server/src/config.js';

const BRIDGE = 'bridge.example.test';
const SECRET = 'correct horse battery staple';
const OTHER = 'other.example.test';

interface Component {
  connection: RawConnection;
  /** `<handshake/>` on success, otherwise the stream error's condition. */
  outcome: string;
}

/** Opens a component stream (XEP-0114) to `domain` and sends the handshake computed with `secret`. */
async function connectComponent(port: number, domain: string, secret: string): Promise<Component> {
  const connection = await RawConnection.tcp(port);
  connection.write(`<?xml version='1.0'?><stream:stream xmlns='${NS.COMPONENT}' xmlns:stream='${NS.STREAM}' to='${domain}'>`);
  for (let i = 0; i < 100 && connection.header === undefined && !connection.isClosed; i++) await delay(20);
  const id = connection.header?.attr('id');
  if (id !== undefined) {
    const digest = createHash('sha1').update(id + secret).digest('hex');
    connection.write(`<handshake>${digest}</handshake>`);
  }
  const reply = await connection.next((el) => el.name === 'handshake' || streamErrorCondition(el) !== undefined, 3000);
  return { connection, outcome: streamErrorCondition(reply) ?? `<${reply.name}/>` };
}

function sendFromComponent(component: Component, stanza: Element): void {
  component.connection.write(serialize(stanza, NS.COMPONENT));
}

describe('external components (XEP-0114)', () => {
  let server: TestServer;
  let alice: TestClient;

  beforeAll(async () => {
    server = await startTestServer({
      listen: { component_port: 0 },
      components: [
        { domain: BRIDGE, secret: SECRET },
        { domain: OTHER, secret: 'another secret' },
      ],
    });
    await server.createAccount('alice', 'alice-password');
    alice = await TestClient.connect(server, { username: 'alice', password: 'alice-password', resource: 'phone', presence: true });
  });

  afterAll(async () => {
    await alice?.close();
    await server?.stop();
  });

  function componentPort(): number {
    return server.server.addresses.component!;
  }

  async function hostItems(): Promise<string[]> {
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', NS.DISCO_ITEMS)));
    return reply.getChild('query', NS.DISCO_ITEMS)!.getChildren('item').map((item) => item.attr('jid')!);
  }

  it('listens on the component port only on the configured host', () => {
    expect(componentPort()).toBeGreaterThan(0);
    expect(server.server.config.listen.component_host).toBe('127.0.0.1');
  });

  it('rejects a wrong secret with not-authorized and keeps the domain unrouted', async () => {
    const component = await connectComponent(componentPort(), BRIDGE, 'wrong secret');
    expect(component.outcome).toBe('not-authorized');
    await component.connection.waitForClose(3000);

    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: BRIDGE }, x('ping', NS.PING)));
    expect(reply.attr('type')).toBe('error');
    expect(reply.getChild('error')?.getChild('service-unavailable', NS.STANZAS)).toBeDefined();
  });

  it('rejects a domain that is not configured with host-unknown', async () => {
    const component = await connectComponent(componentPort(), 'unknown.example.test', SECRET);
    expect(component.outcome).toBe('host-unknown');
  });

  it('authenticates, exchanges stanzas with a user and appears in disco items', async () => {
    const component = await connectComponent(componentPort(), BRIDGE, SECRET);
    expect(component.outcome).toBe('<handshake/>');
    expect(component.connection.header?.attr('from')).toBe(BRIDGE);
    expect(await hostItems()).toContain(BRIDGE);

    alice.send(x('message', NS.CLIENT, { to: `room@${BRIDGE}`, type: 'chat', id: 'm1', from: 'mallory@example.test' }, x('body', NS.CLIENT, {}, 'to the bridge')));
    const received = await component.connection.next((el) => el.name === 'message', 3000);
    expect(received.ns).toBe(NS.COMPONENT);
    expect(received.attr('from')).toBe(alice.jid.toString());
    expect(received.attr('to')).toBe(`room@${BRIDGE}`);
    expect(received.getChildText('body', NS.COMPONENT)).toBe('to the bridge');

    sendFromComponent(component, x('message', NS.COMPONENT, { from: `room@${BRIDGE}/bob`, to: 'alice@example.test', type: 'chat' }, x('body', NS.COMPONENT, {}, 'from the bridge')));
    const reply = await alice.next((el) => el.name === 'message' && el.attr('from') === `room@${BRIDGE}/bob`, 3000);
    expect(reply.getChildText('body', NS.CLIENT)).toBe('from the bridge');

    // The component replies to an IQ from the user.
    const answered = alice.iq(x('iq', NS.CLIENT, { type: 'get', to: BRIDGE, id: 'c-ping' }, x('ping', NS.PING)));
    const request = await component.connection.next((el) => el.name === 'iq' && el.attr('id') === 'c-ping', 3000);
    sendFromComponent(component, x('iq', NS.COMPONENT, { type: 'result', id: 'c-ping', from: BRIDGE, to: request.attr('from') }));
    expect((await answered).attr('type')).toBe('result');

    // An IQ from the component to the server.
    sendFromComponent(component, x('iq', NS.COMPONENT, { type: 'get', id: 's-ping', from: BRIDGE, to: server.domain }, x('ping', NS.PING)));
    const pong = await component.connection.next((el) => el.name === 'iq' && el.attr('id') === 's-ping', 3000);
    expect(pong.attr('type')).toBe('result');
    expect(pong.attr('to')).toBe(BRIDGE);

    component.connection.write('</stream:stream>');
    await component.connection.waitForClose(3000);
    await delay(50);
    expect(await hostItems()).not.toContain(BRIDGE);
  });

  it('second connection gets conflict', async () => {
    const first = await connectComponent(componentPort(), BRIDGE, SECRET);
    expect(first.outcome).toBe('<handshake/>');
    const second = await connectComponent(componentPort(), BRIDGE, SECRET);
    expect(second.outcome).toBe('conflict');

    alice.send(x('message', NS.CLIENT, { to: BRIDGE, id: 'after-conflict' }, x('body', NS.CLIENT, {}, 'still there?')));
    const received = await first.connection.next((el) => el.name === 'message', 3000);
    expect(received.attr('id')).toBe('after-conflict');
    first.connection.destroy();
    await delay(50);
  });

  it('closes the stream with invalid-from when a stanza claims another domain', async () => {
    const component = await connectComponent(componentPort(), OTHER, 'another secret');
    expect(component.outcome).toBe('<handshake/>');
    sendFromComponent(component, x('message', NS.COMPONENT, { from: 'alice@example.test', to: 'alice@example.test' }, x('body', NS.COMPONENT, {}, 'forged')));
    expect(await component.connection.streamError(3000)).toBe('invalid-from');
    await alice.nothing((el) => el.name === 'message' && el.getChildText('body') === 'forged', 300);
  });

  it('closes the stream with policy-violation when a stanza exceeds the size limit', async () => {
    const component = await connectComponent(componentPort(), OTHER, 'another secret');
    expect(component.outcome).toBe('<handshake/>');
    const big = 'a'.repeat(server.server.config.sessions.max_stanza_bytes + 10);
    component.connection.write(`<message from='${OTHER}' to='alice@example.test'><body>${big}</body></message>`);
    expect(await component.connection.streamError(3000)).toBe('policy-violation');
  });
});

describe('component configuration', () => {
  it('rejects a domain configured twice', () => {
    const components = [
      { domain: 'bridge.example.test', secret: 'one' },
      { domain: 'Bridge.Example.Test', secret: 'two' },
    ];
    expect(() => validateConfig({ domain: 'example.test', components })).toThrow(/components\.1\.domain bridge\.example\.test is already served/);
  });

  it('rejects the domain of the MUC service', () => {
    const components = [{ domain: 'conference.example.test', secret: 'one' }];
    expect(() => validateConfig({ domain: 'example.test', components })).toThrow(/already served/);
  });

  it('rejects an empty secret', () => {
    expect(() => validateConfig({ components: [{ domain: 'bridge.example.test', secret: '' }] })).toThrow(/components\.0\.secret/);
  });
});

describe('component rate limit', () => {
  it('slows a component to the stanza rate', async () => {
    const server = await startTestServer({
      listen: { component_port: 0 },
      sessions: { stanzas_per_second: 4, stanza_burst: 1 },
      components: [{ domain: BRIDGE, secret: SECRET }],
    });
    try {
      await server.createAccount('carol', 'carol-password');
      const carol = await TestClient.connect(server, { username: 'carol', password: 'carol-password', resource: 'r', presence: true });
      const component = await connectComponent(server.server.addresses.component!, BRIDGE, SECRET);
      expect(component.outcome).toBe('<handshake/>');

      const started = Date.now();
      for (let i = 0; i < 5; i++) {
        sendFromComponent(component, x('message', NS.COMPONENT, { from: BRIDGE, to: 'carol@example.test', id: `rate-${i}` }, x('body', NS.COMPONENT, {}, String(i))));
      }
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await carol.next((el) => el.name === 'message', 5000)).attr('id')!);

      expect(ids).toEqual(['rate-0', 'rate-1', 'rate-2', 'rate-3', 'rate-4']);
      // One stanza from the burst, then four at 4 per second.
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      await carol.close();
    } finally {
      await server.stop();
    }
  });
});
