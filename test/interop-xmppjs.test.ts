import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startTestServer, type TestServer } from './support/server.js';
import { webSocketUrl } from './support/client.js';
import { withTimeout } from './support/raw.js';

// @xmpp/client 0.14 ships no type declarations; these are the parts the test uses.
interface XmppElement {
  name: string;
  attrs: Record<string, string | undefined>;
  getChild(name: string, ns?: string): XmppElement | undefined;
  getChildren(name: string, ns?: string): XmppElement[];
  getChildText(name: string, ns?: string): string | null;
}

type Authenticate = (credentials: { username: string; password: string }, mechanism: string) => Promise<void>;

interface XmppClient {
  on(event: 'stanza', handler: (stanza: XmppElement) => void): void;
  on(event: 'error', handler: (error: Error) => void): void;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  send(element: unknown): Promise<void>;
  iqCaller: { request(element: unknown, timeoutMs?: number): Promise<XmppElement> };
}

interface XmppModule {
  client(options: Record<string, unknown>): XmppClient;
  xml(name: string, attrs?: Record<string, string>, ...children: unknown[]): unknown;
}

const STEP_TIMEOUT_MS = 5000;
const USERS = { a: { username: 'xjs-a', password: 'password-a' }, b: { username: 'xjs-b', password: 'password-b' } };

/** Stanzas one xmpp.js client received, kept until the test takes them. */
class Inbox {
  private readonly stanzas: XmppElement[] = [];
  private waiters: (() => void)[] = [];

  push(stanza: XmppElement): void {
    this.stanzas.push(stanza);
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves with the first unread stanza matching `predicate`; rejects after STEP_TIMEOUT_MS. */
  async next(description: string, predicate: (stanza: XmppElement) => boolean): Promise<XmppElement> {
    const find = async (): Promise<XmppElement> => {
      while (true) {
        const index = this.stanzas.findIndex(predicate);
        if (index !== -1) return this.stanzas.splice(index, 1)[0]!;
        await new Promise<void>((resolve) => this.waiters.push(resolve));
      }
    };
    return withTimeout(find(), STEP_TIMEOUT_MS, `no ${description} arrived`);
  }
}

interface Participant {
  xmpp: XmppClient;
  inbox: Inbox;
  mechanisms: string[];
}

let server: TestServer;
let lib: XmppModule;
const participants: Record<'a' | 'b', Participant | undefined> = { a: undefined, b: undefined };
const errors: Error[] = [];

function bare(label: 'a' | 'b'): string {
  return `${USERS[label].username}@${server.domain}`;
}

function fromBare(label: 'a' | 'b'): (stanza: XmppElement) => boolean {
  return (stanza) => (stanza.attrs.from ?? '').split('/')[0] === bare(label);
}

/** Starts an xmpp.js client over WebSocket that logs in with SCRAM-SHA-1 and sends initial presence. */
async function startParticipant(label: 'a' | 'b', resource: string): Promise<Participant> {
  const { username, password } = USERS[label];
  const mechanisms: string[] = [];
  const xmpp = lib.client({
    service: webSocketUrl(server),
    domain: server.domain,
    resource,
    credentials: async (authenticate: Authenticate, offered: string[]) => {
      mechanisms.push(...offered);
      await authenticate({ username, password }, 'SCRAM-SHA-1');
    },
  });
  const inbox = new Inbox();
  xmpp.on('stanza', (stanza) => inbox.push(stanza));
  xmpp.on('error', (error) => errors.push(error));
  await withTimeout(xmpp.start(), STEP_TIMEOUT_MS, `xmpp.js client ${username} did not come online`);
  await xmpp.send(lib.xml('presence'));
  const participant = { xmpp, inbox, mechanisms };
  participants[label] = participant;
  return participant;
}

function participant(label: 'a' | 'b'): Participant {
  const found = participants[label];
  if (!found) throw new Error(`client ${label} is not connected`);
  return found;
}

async function rosterSubscription(label: 'a' | 'b', contact: string): Promise<string | undefined> {
  const query = lib.xml('query', { xmlns: 'jabber:iq:roster' });
  const result = await participant(label).xmpp.iqCaller.request(lib.xml('iq', { type: 'get' }, query), STEP_TIMEOUT_MS);
  const items = result.getChild('query', 'jabber:iq:roster')?.getChildren('item') ?? [];
  return items.find((item) => item.attrs.jid === contact)?.attrs.subscription;
}

beforeAll(async () => {
  // xmpp.js 0.14 uses the WHATWG WebSocket global, which Node 20 lacks without a flag.
  (globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;
  const specifier = '@xmpp/client';
  lib = (await import(specifier)) as XmppModule;

  server = await startTestServer();
  for (const { username, password } of Object.values(USERS)) await server.createAccount(username, password);
});

afterAll(async () => {
  for (const found of Object.values(participants)) await found?.xmpp.stop().catch(() => undefined);
  await server?.stop();
});

describe('xmpp.js over WebSocket', () => {
  it('logs in with SCRAM-SHA-1', async () => {
    const a = await startParticipant('a', 'xmppjs');
    await startParticipant('b', 'xmppjs');
    expect(a.mechanisms).toContain('SCRAM-SHA-1');
  });

  it('sets up a two-way subscription', async () => {
    const a = participant('a');
    const b = participant('b');
    await a.xmpp.send(lib.xml('presence', { to: bare('b'), type: 'subscribe' }));
    await b.inbox.next('subscribe from a', (s) => s.name === 'presence' && s.attrs.type === 'subscribe' && fromBare('a')(s));
    await b.xmpp.send(lib.xml('presence', { to: bare('a'), type: 'subscribed' }));
    await b.xmpp.send(lib.xml('presence', { to: bare('a'), type: 'subscribe' }));
    await a.inbox.next('subscribed from b', (s) => s.name === 'presence' && s.attrs.type === 'subscribed' && fromBare('b')(s));
    await a.inbox.next('subscribe from b', (s) => s.name === 'presence' && s.attrs.type === 'subscribe' && fromBare('b')(s));
    await a.xmpp.send(lib.xml('presence', { to: bare('b'), type: 'subscribed' }));
    await b.inbox.next('subscribed from a', (s) => s.name === 'presence' && s.attrs.type === 'subscribed' && fromBare('a')(s));

    expect(await rosterSubscription('a', bare('b'))).toBe('both');
    expect(await rosterSubscription('b', bare('a'))).toBe('both');
  });

  it('delivers presence both ways', async () => {
    const a = participant('a');
    const b = participant('b');
    await a.xmpp.send(lib.xml('presence', {}, lib.xml('status', {}, 'status from a')));
    await b.xmpp.send(lib.xml('presence', {}, lib.xml('status', {}, 'status from b')));
    await b.inbox.next('presence of a', (s) => s.name === 'presence' && fromBare('a')(s) && s.getChildText('status') === 'status from a');
    await a.inbox.next('presence of b', (s) => s.name === 'presence' && fromBare('b')(s) && s.getChildText('status') === 'status from b');
  });

  it('delivers messages both ways', async () => {
    const a = participant('a');
    const b = participant('b');
    await a.xmpp.send(lib.xml('message', { to: bare('b'), type: 'chat' }, lib.xml('body', {}, 'hello b')));
    await b.inbox.next('message from a', (s) => s.name === 'message' && fromBare('a')(s) && s.getChildText('body') === 'hello b');
    await b.xmpp.send(lib.xml('message', { to: bare('a'), type: 'chat' }, lib.xml('body', {}, 'hello a')));
    await a.inbox.next('message from b', (s) => s.name === 'message' && fromBare('b')(s) && s.getChildText('body') === 'hello a');
  });

  it('delivers a message stored while offline', async () => {
    await participant('b').xmpp.stop();
    participants.b = undefined;
    await new Promise((resolve) => setTimeout(resolve, 300));
    await participant('a').xmpp.send(lib.xml('message', { to: bare('b'), type: 'chat' }, lib.xml('body', {}, 'while you were away')));
    await new Promise((resolve) => setTimeout(resolve, 300));

    const b = await startParticipant('b', 'xmppjs-again');
    const message = await b.inbox.next('offline message', (s) => s.name === 'message' && s.getChildText('body') === 'while you were away');
    expect(message.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('reports no client errors', () => {
    expect(errors.map((error) => error.message)).toEqual([]);
  });
});
