import { get as httpGet } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, parseFrame, x } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient, webSocketUrl } from './support/client.js';
import { RawConnection, TEST_DOMAIN, delay } from './support/raw.js';

const PASSWORD = 'websocket-password';
const WEBSOCKET_REL = 'urn:xmpp:alt-connections:websocket';

let server: TestServer;
let bob: TestClient;

beforeAll(async () => {
  server = await startTestServer();
  await server.createAccount('alice', PASSWORD);
  await server.createAccount('bob', PASSWORD);
  bob = await TestClient.connect(server, { username: 'bob', password: PASSWORD, resource: 'listener', presence: true });
});

afterAll(async () => {
  await bob?.close();
  await server?.stop();
});

function connectAlice(): Promise<TestClient> {
  return TestClient.connect(server, { username: 'alice', password: PASSWORD, transport: 'websocket' });
}

function isClose(el: Element): boolean {
  return el.ns === NS.FRAMING && el.name === 'close';
}

function chat(id: string): string {
  return `<message xmlns='${NS.CLIENT}' to='bob@${TEST_DOMAIN}' id='${id}' type='chat'><body>${id}</body></message>`;
}

/** Checks that the last frames were a stream error followed by `<close/>`, and returns the condition. */
async function expectErrorThenClose(client: TestClient): Promise<string> {
  const condition = await client.streamError();
  await client.next(isClose);
  await client.connection.waitForClose(3000);
  return condition;
}

describe('framing', () => {
  it('answers open with open and close with close', async () => {
    const connection = await RawConnection.websocket(webSocketUrl(server));
    expect(connection.protocol).toBe('xmpp');
    const features = await connection.openStream();
    expect(features.name).toBe('features');
    expect(connection.header?.attr('version')).toBe('1.0');
    expect(connection.header?.attr('from')).toBe(TEST_DOMAIN);
    expect(connection.header?.attr('id')).toMatch(/.{8,}/);

    connection.send(x('close', NS.FRAMING));
    await connection.next(isClose);
    await connection.waitForClose(3000);
  });

  it('sends one element per frame with stanzas in jabber:client', async () => {
    const alice = await connectAlice();
    expect((await alice.ping()).attr('type')).toBe('result');
    alice.send(x('presence', NS.CLIENT));
    await alice.next((el) => el.name === 'presence');
    alice.send(x('message', NS.CLIENT, { to: alice.jid.toString(), id: 'self', type: 'chat' }, x('body', NS.CLIENT, {}, 'to myself')));
    await alice.next((el) => el.attr('id') === 'self');
    await alice.close();

    const { frames, frameErrors } = alice.connection;
    expect(frameErrors).toEqual([]);
    const stanzas = frames.map((frame) => parseFrame(frame, { maxStanzaBytes: 1 << 20 })).filter((el) => ['message', 'presence', 'iq'].includes(el.name));
    expect(stanzas.length).toBeGreaterThanOrEqual(4);
    for (const stanza of stanzas) expect(stanza.ns).toBe(NS.CLIENT);
  });

  it('sends no whitespace-only frames while idle', async () => {
    const alice = await connectAlice();
    const before = alice.connection.frames.length;
    await delay(3000);
    const idleFrames = alice.connection.frames.slice(before);
    expect(idleFrames.filter((frame) => frame.trim() === '')).toEqual([]);
    await alice.close();
  });
});

describe('framing errors', () => {
  it('rejects two stanzas in one message', async () => {
    const alice = await connectAlice();
    alice.write(chat('w1') + chat('w2'));
    expect(await expectErrorThenClose(alice)).toBe('not-well-formed');
    await bob.nothing((el) => el.attr('id') === 'w1' || el.attr('id') === 'w2', 500);
  });

  it('rejects a stanza split over two messages', async () => {
    const alice = await connectAlice();
    const stanza = chat('split');
    alice.write(stanza.slice(0, 30));
    alice.write(stanza.slice(30));
    expect(await expectErrorThenClose(alice)).toBe('not-well-formed');
    await bob.nothing((el) => el.attr('id') === 'split', 500);
  });

  it('rejects a stanza without xmlns', async () => {
    const alice = await connectAlice();
    alice.write(`<message to='bob@${TEST_DOMAIN}' id='no-ns' type='chat'><body>x</body></message>`);
    expect(await expectErrorThenClose(alice)).toBe('invalid-namespace');
    await bob.nothing((el) => el.attr('id') === 'no-ns', 500);
  });

  it('rejects a stream header', async () => {
    const connection = await RawConnection.websocket(webSocketUrl(server));
    connection.write(`<stream:stream xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAM}' to='${TEST_DOMAIN}' version='1.0'>`);
    expect(['not-well-formed', 'invalid-namespace', 'invalid-xml']).toContain(await connection.streamError());
    await connection.next(isClose);
    await connection.waitForClose(3000);
  });
});

describe('subprotocol', () => {
  it('refuses a client without the xmpp subprotocol', async () => {
    let connection: RawConnection;
    try {
      connection = await RawConnection.websocket(webSocketUrl(server), []);
    } catch (err) {
      expect((err as Error).message).toMatch(/handshake failed/);
      return;
    }
    connection.write(`<open xmlns='${NS.FRAMING}' to='${TEST_DOMAIN}' version='1.0'/>`);
    await connection.waitForClose(3000);
    expect(connection.closeCode).toBe(1002);
    expect(connection.header).toBeUndefined();
  });
});

describe('host-meta', () => {
  it('lists the WebSocket URL in XRD', async () => {
    const response = await fetch(`http://127.0.0.1:${server.httpPort}/.well-known/host-meta`);
    expect(response.status).toBe(200);
    const xrd = parseFrame((await response.text()).trim(), { maxStanzaBytes: 1 << 20 });
    const links = xrd.getChildren('Link').map((link) => ({ rel: link.attr('rel'), href: link.attr('href') }));
    expect(links).toContainEqual({ rel: WEBSOCKET_REL, href: webSocketUrl(server) });
  });

  it('ignores a foreign Host header', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const request = httpGet(
        { host: '127.0.0.1', port: server.httpPort, path: '/.well-known/host-meta.json', headers: { Host: 'evil.example' } },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
          response.on('end', () => resolve(text));
        },
      );
      request.on('error', reject);
    });
    const links = (JSON.parse(body) as { links: { href: string }[] }).links;
    expect(links.map((link) => link.href)).toEqual([`ws://${server.domain}:${server.httpPort}/xmpp-websocket`, `http://${server.domain}:${server.httpPort}/http-bind`]);
  });

  it('lists the BOSH URL', async () => {
    const response = await fetch(`http://127.0.0.1:${server.httpPort}/.well-known/host-meta.json`);
    const body = (await response.json()) as { links: { rel: string; href: string }[] };
    expect(body.links).toContainEqual({ rel: 'urn:xmpp:alt-connections:xbosh', href: `http://127.0.0.1:${server.httpPort}/http-bind` });
  });

  it('lists the WebSocket URL in JSON', async () => {
    const response = await fetch(`http://127.0.0.1:${server.httpPort}/.well-known/host-meta.json`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { links: { rel: string; href: string }[] };
    expect(body.links).toContainEqual({ rel: WEBSOCKET_REL, href: webSocketUrl(server) });
  });
});
