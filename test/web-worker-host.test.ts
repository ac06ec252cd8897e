import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { JID } from '@parley/xmpp';
import { NS, XmppAuthError, XmppClient, XmppStanzaError, x, type WebSocketConstructor, type XElement } from '../packages/web/src/xmpp/index.js';
import { ConnectionHost } from '../packages/web/src/worker/connection-host.js';
import { memoryPair } from '../packages/web/src/worker/memory-port.js';
import type { HostMessage, TabMessage } from '../packages/web/src/worker/protocol.js';
import { RemoteClient } from '../packages/web/src/worker/remote-client.js';
import { startTestServer, type TestServer } from './support/server.js';
import { delay } from './support/raw.js';

// The worker's host and the tabs' proxies, joined by in-memory ports that copy messages as
// MessagePorts do, against a real server. The browser test covers the real SharedWorker.
const PASSWORD = 'worker-host-password';
const WS = WebSocket as unknown as WebSocketConstructor;

let server: TestServer;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await startTestServer();
  await server.createAccount('alice', PASSWORD);
  await server.createAccount('bob', PASSWORD);
});

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

afterAll(async () => {
  await server?.stop();
});

function service(): string {
  return `ws://127.0.0.1:${server.httpPort}/xmpp-websocket`;
}

function newHost(): ConnectionHost {
  return new ConnectionHost(false, { webSocket: WS, reconnect: { baseMs: 100, capMs: 400 } });
}

function tab(host: ConnectionHost, password?: string): RemoteClient {
  const [tabSide, hostSide] = memoryPair<HostMessage, TabMessage>();
  host.addPort(hostSide);
  const remote = new RemoteClient(tabSide, { service: service(), jid: `alice@${server.domain}`, resource: 'browser', password });
  cleanup.push(async () => remote.close());
  return remote;
}

async function bob(): Promise<XmppClient> {
  const client = new XmppClient({ service: service(), jid: `bob@${server.domain}`, password: PASSWORD, webSocket: WS });
  await client.start();
  cleanup.push(() => client.stop());
  return client;
}

function aliceSessions(): number {
  return server.server.sessions.resources(JID.parse(`alice@${server.domain}`)).length;
}

describe('connection host', () => {
  it('ends the session when the last tab leaves', async () => {
    const host = newHost();
    const first = tab(host, PASSWORD);
    await first.start();
    const second = tab(host);
    await second.start();
    await expect.poll(() => second.status).toBe('online');

    second.close();
    await delay(300);
    expect(aliceSessions()).toBe(1);

    first.close();
    // The stream is closed, not dropped, so the server ends the session instead of keeping it for resumption.
    await expect.poll(() => aliceSessions(), { timeout: 3000 }).toBe(0);
    expect(server.server.resumableSessions.size).toBe(0);

    const later = tab(host, PASSWORD);
    await later.start();
    cleanup.push(() => later.stop());
    expect(later.status).toBe('online');
    expect(aliceSessions()).toBe(1);
  });

  it('gives two tabs one session, the same status and every stanza', async () => {
    const host = newHost();
    const first = tab(host, PASSWORD);
    await first.start();
    cleanup.push(() => first.stop());
    const second = tab(host);
    await second.start();

    expect(first.status).toBe('online');
    await expect.poll(() => second.status).toBe('online');
    expect(second.jid).toBe(first.jid);
    expect(second.jid).toMatch(new RegExp(`^alice@${server.domain}/browser/`));
    expect(aliceSessions()).toBe(1);

    const seen: XElement[][] = [[], []];
    first.on('stanza', (stanza) => seen[0]!.push(stanza));
    second.on('stanza', (stanza) => seen[1]!.push(stanza));
    const peer = await bob();
    peer.send(x('message', NS.CLIENT, { to: first.jid, type: 'chat' }, x('body', NS.CLIENT, {}, 'to both tabs')));
    await expect.poll(() => seen.map((list) => list.length)).toEqual([1, 1]);
    expect(seen[1]![0]!.getChildText('body')).toBe('to both tabs');

    await second.sendAcked(x('message', NS.CLIENT, { to: peer.jid, type: 'chat' }, x('body', NS.CLIENT, {}, 'acked through the host')));
  });

  it('carries IQ results and errors, with their error classes', async () => {
    const host = newHost();
    const remote = tab(host, PASSWORD);
    await remote.start();
    cleanup.push(() => remote.stop());

    const disco = await remote.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', 'http://jabber.org/protocol/disco#info')));
    expect(disco.getChild('query', 'http://jabber.org/protocol/disco#info')).toBeDefined();
    const error = await remote.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', 'urn:example:none'))).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(XmppStanzaError);
    expect((error as XmppStanzaError).condition).toBe('service-unavailable');
  });

  it('routes incoming IQ requests to the tab that handles them', async () => {
    const host = newHost();
    const remote = tab(host, PASSWORD);
    await remote.start();
    cleanup.push(() => remote.stop());
    remote.handleIq('query', 'jabber:iq:version', () => x('query', 'jabber:iq:version', {}, x('name', 'jabber:iq:version', {}, 'Parley Web')));
    await delay(50);

    const peer = await bob();
    const version = await peer.iq(x('iq', NS.CLIENT, { type: 'get', to: remote.jid }, x('query', 'jabber:iq:version')), 5000);
    expect(version.getChild('query')?.getChildText('name')).toBe('Parley Web');
    const unknown = await peer.iq(x('iq', NS.CLIENT, { type: 'get', to: remote.jid }, x('query', 'urn:example:none')), 5000).catch((err: unknown) => err);
    expect((unknown as XmppStanzaError).condition).toBe('service-unavailable');
  });

  it('reports a wrong password to the tab as auth-failed', async () => {
    const host = newHost();
    const remote = tab(host, 'wrong');
    await expect(remote.start()).rejects.toBeInstanceOf(XmppAuthError);
    await expect.poll(() => remote.status).toBe('auth-failed');
  });
});
