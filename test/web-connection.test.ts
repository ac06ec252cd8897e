import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { JID } from '@parley/xmpp';
import { NS, XmppAuthError, XmppClient, XmppSessionLostError, XmppStanzaError, XmppStreamError, XmppTimeoutError, x, type ConnectionStatus, type WebSocketConstructor, type XElement, type XmppClientOptions } from '../packages/web/src/xmpp/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { delay, withTimeout } from './support/raw.js';

// The web client's connection layer, run in Node against a real server: the `ws` package
// replaces the browser's WebSocket and Node's global WebCrypto for the browser's.
const PASSWORD = 'web-connection-password';

let server: TestServer;
const clients: XmppClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
  for (const user of ['alice', 'bob', 'carol', 'dave']) await server.createAccount(user, PASSWORD);
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.stop()));
});

afterAll(async () => {
  await server?.stop();
});

function client(user: string, options: Partial<XmppClientOptions> = {}): XmppClient {
  const created = new XmppClient({
    service: `ws://127.0.0.1:${server.httpPort}/xmpp-websocket`,
    jid: `${user}@${server.domain}`,
    password: PASSWORD,
    webSocket: WebSocket as unknown as WebSocketConstructor,
    reconnect: { baseMs: 100, capMs: 400 },
    ...options,
  });
  clients.push(created);
  return created;
}

function chat(to: string, body: string): XElement {
  return x('message', NS.CLIENT, { to, type: 'chat', id: body }, x('body', NS.CLIENT, {}, body));
}

/** Collects the bodies of chat messages a client receives. */
function bodies(receiver: XmppClient): string[] {
  const seen: string[] = [];
  receiver.on('stanza', (stanza) => {
    const body = stanza.name === 'message' ? stanza.getChildText('body') : undefined;
    if (body !== undefined) seen.push(body);
  });
  return seen;
}

async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(20);
  }
}

function sessionsOf(user: string): number {
  return server.server.sessions.resources(JID.parse(`${user}@${server.domain}`)).length;
}

describe('login', () => {
  it('logs in with SCRAM, binds and enables stream management', async () => {
    const alice = client('alice', { resource: 'web' });
    const statuses: ConnectionStatus[] = [];
    alice.on('status', (status) => statuses.push(status));

    await withTimeout(alice.start(), 10_000, 'login');
    expect(alice.status).toBe('online');
    // Bind 2 makes the resource `tag/<id>`, with the id derived from the client's user agent.
    expect(alice.jid).toMatch(new RegExp(`^alice@${server.domain}/web/[\\w-]{12}$`));
    expect(statuses).toEqual(['connecting', 'authenticating', 'online']);
    expect(alice.scramKeys?.hash).toBe('SHA-256');
    // Only the derived keys stay in memory for reconnecting, never the password.
    expect(Reflect.get(alice, 'password')).toBeUndefined();
    expect(sessionsOf('alice')).toBe(1);

    const disco = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', 'http://jabber.org/protocol/disco#info')));
    expect(disco.getChild('query')?.getChildren('feature').map((f) => f.attr('var'))).toContain('urn:xmpp:ping');
  });

  it('stops with auth-failed on a wrong password and does not retry', async () => {
    const alice = client('alice', { password: 'not-the-password' });
    const statuses: ConnectionStatus[] = [];
    alice.on('status', (status) => statuses.push(status));

    await expect(alice.start()).rejects.toBeInstanceOf(XmppAuthError);
    expect(alice.status).toBe('auth-failed');
    await delay(600);
    expect(statuses).toEqual(['connecting', 'authenticating', 'auth-failed']);
  });

  it('stops on a domain the server does not serve', async () => {
    const stranger = client('alice', { jid: 'alice@not-served.example' });
    const statuses: ConnectionStatus[] = [];
    stranger.on('status', (status) => statuses.push(status));

    const error = await withTimeout(stranger.start().catch((err: unknown) => err), 5000, 'the failed start');
    expect(error).toBeInstanceOf(XmppStreamError);
    expect((error as XmppStreamError).condition).toBe('host-unknown');
    await delay(600);
    expect(stranger.status).toBe('offline');
    expect(statuses).not.toContain('waiting-to-reconnect');
  });

  it('times out an unanswered IQ', async () => {
    const offline = client('alice');
    const started = Date.now();
    const error = await offline.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('ping', NS.PING)), 150).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(XmppTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('rejects an IQ answered with an error as XmppStanzaError', async () => {
    const alice = client('alice');
    await alice.start();
    const request = x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', 'urn:example:nothing'));
    const error = await alice.iq(request).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(XmppStanzaError);
    expect((error as XmppStanzaError).condition).toBe('service-unavailable');
  });
});

describe('messages', () => {
  it('carries a message between two clients, acknowledged by the server', async () => {
    const alice = client('alice', { resource: 'a' });
    const bob = client('bob', { resource: 'b' });
    await Promise.all([alice.start(), bob.start()]);
    const received = bodies(bob);
    // Without available presence, a message to the bare JID would go to offline storage.
    await bob.sendAcked(x('presence', NS.CLIENT));

    await alice.sendAcked(chat(`bob@${server.domain}`, 'hello bob'));
    await until(() => received.length > 0, 5000, 'the message');
    expect(received).toEqual(['hello bob']);
  });

  it('answers pings from other entities', async () => {
    const alice = client('alice', { resource: 'pinged' });
    const bob = client('bob');
    await Promise.all([alice.start(), bob.start()]);
    const pong = await bob.iq(x('iq', NS.CLIENT, { type: 'get', to: alice.jid }, x('ping', NS.PING)), 5000);
    expect(pong.attr('type')).toBe('result');
    expect(pong.attr('from')).toBe(alice.jid);
  });
});

describe('stream management', () => {
  it('resumes after the socket dies: one session, nothing lost, nothing twice', async () => {
    const carol = client('carol', { resource: 'phone' });
    const dave = client('dave', { resource: 'desk' });
    await Promise.all([carol.start(), dave.start()]);
    const carolGot = bodies(carol);
    const daveGot = bodies(dave);
    const onlineEvents: { resumed: boolean }[] = [];
    carol.on('online', (info) => onlineEvents.push(info));

    carol.dropConnection();
    await until(() => carol.status !== 'online', 2000, 'carol to notice the drop');
    dave.send(chat(carol.jid, 'while you were away'));
    const acked = carol.sendAcked(chat(dave.jid, 'written offline'));

    await withTimeout(acked, 10_000, 'the acknowledgement after resumption');
    expect(onlineEvents).toEqual([{ resumed: true }]);
    expect(carol.jid).toMatch(new RegExp(`^carol@${server.domain}/phone/`));
    expect(sessionsOf('carol')).toBe(1);

    await until(() => carolGot.length > 0 && daveGot.length > 0, 5000, 'both messages');
    await delay(500);
    expect(carolGot).toEqual(['while you were away']);
    expect(daveGot).toEqual(['written offline']);
  });
});

describe('reconnection', () => {
  it('reconnects with backoff after a server restart, with a fresh session', async () => {
    const alice = client('alice', { resource: 'restart', reconnect: { baseMs: 200, capMs: 800 } });
    await alice.start();
    const firstJid = alice.jid;
    const statuses: ConnectionStatus[] = [];
    alice.on('status', (status) => statuses.push(status));
    const online = new Promise<{ resumed: boolean }>((resolve) => alice.on('online', resolve));

    await server.restart();
    // A stanza queued across the lost session is dropped, so that the data layer's outbox re-sends it once.
    const lost = alice.sendAcked(chat(`bob@${server.domain}`, 'from the old session')).catch((err: unknown) => err);

    expect(await withTimeout(online, 15_000, 'reconnection')).toEqual({ resumed: false });
    expect(await lost).toBeInstanceOf(XmppSessionLostError);
    expect(statuses).toContain('waiting-to-reconnect');
    expect(statuses.slice(-3)).toEqual(['authenticating', 'resuming', 'online']);
    // The same user agent gets the same Bind 2 resource in the fresh session.
    expect(alice.jid).toBe(firstJid);
    expect(alice.jid).toMatch(new RegExp(`^alice@${server.domain}/restart/`));
    expect(sessionsOf('alice')).toBe(1);
  }, 30_000);

  it('reconnects at once when told the network is back', async () => {
    const alice = client('alice', { resource: 'network', reconnect: { baseMs: 60_000, capMs: 60_000 } });
    await alice.start();
    const online = new Promise<{ resumed: boolean }>((resolve) => alice.on('online', resolve));

    alice.dropConnection();
    await until(() => alice.status === 'waiting-to-reconnect', 2000, 'the reconnect wait');
    const asked = Date.now();
    alice.reconnectNow();
    expect(await withTimeout(online, 5000, 'the resumption')).toEqual({ resumed: true });
    expect(Date.now() - asked).toBeLessThan(5000);
  });

  it('keeps trying with growing delays while the server is unreachable', async () => {
    const lonely = client('alice', { service: 'ws://127.0.0.1:9/xmpp-websocket', reconnect: { baseMs: 50, capMs: 200 } });
    const waits: number[] = [];
    let last = Date.now();
    lonely.on('status', (status) => {
      if (status === 'connecting') {
        waits.push(Date.now() - last);
      }
      last = Date.now();
    });
    void lonely.start().catch(() => undefined);
    await until(() => waits.length >= 6, 5000, 'six attempts');
    await lonely.stop();
    expect(lonely.status).toBe('offline');
    expect(waits.slice(1).every((wait) => wait <= 250)).toBe(true);
  });
});
