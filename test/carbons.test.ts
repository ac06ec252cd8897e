import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Element, NS, readStanzaErrorCondition, x } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';

const PASSWORD = 'carbons secret';
const DOMAIN = 'example.test';
const NS_CARBONS = 'urn:xmpp:carbons:2';
const NS_FORWARD = 'urn:xmpp:forward:0';
/** How long a test waits to be sure that nothing more arrives. */
const QUIET_MS = 300;

let server: TestServer;
let clients: TestClient[] = [];

beforeEach(async () => {
  server = await startTestServer();
  for (const name of ['alice', 'bob', 'carol']) await server.createAccount(name, PASSWORD);
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
  await server.stop();
});

/** Connects `username/resource` with initial presence at `priority`, and carbons enabled unless `carbons` is false. */
async function connect(username: string, resource: string, options: { carbons?: boolean; priority?: number } = {}): Promise<TestClient> {
  const client = await TestClient.connect(server, { username, password: PASSWORD, transport: 'plain', resource });
  clients.push(client);
  if (options.carbons !== false) await enableCarbons(client);
  const own = client.jid.toString();
  const echo = client.next((el) => el.name === 'presence' && el.attr('from') === own);
  client.send(x('presence', NS.CLIENT, {}, x('priority', NS.CLIENT, {}, String(options.priority ?? 0))));
  await echo;
  return client;
}

async function enableCarbons(client: TestClient): Promise<Element> {
  return client.iq(x('iq', NS.CLIENT, { type: 'set' }, x('enable', NS_CARBONS)));
}

function chat(to: string, body: string, ...extra: Element[]): Element {
  return x('message', NS.CLIENT, { type: 'chat', to, id: body }, x('body', NS.CLIENT, {}, body), ...extra);
}

/** Returns the message that a carbon copy contains, or undefined for anything but a copy. */
function forwardedIn(el: Element, direction: 'sent' | 'received'): Element | undefined {
  if (el.name !== 'message') return undefined;
  return el.getChild(direction, NS_CARBONS)?.getChild('forwarded', NS_FORWARD)?.getChild('message', NS.CLIENT);
}

function isCopy(direction: 'sent' | 'received', body?: string): (el: Element) => boolean {
  return (el) => {
    const inner = forwardedIn(el, direction);
    return inner !== undefined && (body === undefined || inner.getChildText('body', NS.CLIENT) === body);
  };
}

function isAnyCopy(el: Element): boolean {
  return isCopy('sent')(el) || isCopy('received')(el);
}

function isChat(body: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.attr('type') === 'chat' && el.getChildText('body', NS.CLIENT) === body;
}

/** Waits for one copy matching `predicate`, then makes sure no second one follows. */
async function exactlyOne(client: TestClient, predicate: (el: Element) => boolean): Promise<Element> {
  const copy = await client.next(predicate);
  await client.nothing(predicate, QUIET_MS);
  return copy;
}

function errorCondition(el: Element): string | undefined {
  const error = el.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

describe('enabling', () => {
  it('enable returns a result', async () => {
    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD, transport: 'plain' });
    clients.push(alice);
    expect((await enableCarbons(alice)).attr('type')).toBe('result');
  });

  it('enable for another account is refused', async () => {
    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD, transport: 'plain' });
    clients.push(alice);
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'set', to: `bob@${DOMAIN}` }, x('enable', NS_CARBONS)));
    expect(errorCondition(reply)).toBe('not-allowed');
  });

  it('the server announces carbons', async () => {
    const alice = await TestClient.connect(server, { username: 'alice', password: PASSWORD, transport: 'plain' });
    clients.push(alice);
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: DOMAIN }, x('query', NS.DISCO_INFO)));
    const features = reply.getChild('query', NS.DISCO_INFO)?.getChildren('feature', NS.DISCO_INFO).map((el) => el.attr('var'));
    expect(features).toContain(NS_CARBONS);
  });

  it('disable stops copies', async () => {
    const a1 = await connect('alice', 'a1');
    const a2 = await connect('alice', 'a2');
    await a2.iq(x('iq', NS.CLIENT, { type: 'set' }, x('disable', NS_CARBONS)));
    await connect('bob', 'b1');
    a1.send(chat(`bob@${DOMAIN}`, 'quiet'));
    await a2.nothing(isAnyCopy, QUIET_MS);
  });
});

describe('copies across three resources', () => {
  let a1: TestClient;
  let a2: TestClient;
  let a3: TestClient;
  let b1: TestClient;
  let b2: TestClient;

  beforeEach(async () => {
    a1 = await connect('alice', 'a1');
    a2 = await connect('alice', 'a2');
    a3 = await connect('alice', 'a3');
    b1 = await connect('bob', 'b1');
    b2 = await connect('bob', 'b2');
  });

  /** Sends a chat from alice/a1 to bob's bare JID, then bob/b1's reply to alice/a1. */
  async function converse(): Promise<void> {
    a1.send(chat(`bob@${DOMAIN}`, 'hello bob'));
    await b1.next(isChat('hello bob'));
    await b2.next(isChat('hello bob'));
    b1.send(chat(`alice@${DOMAIN}/a1`, 'hello alice'));
    await a1.next(isChat('hello alice'));
  }

  it('a2 gets one sent copy', async () => {
    await converse();
    await exactlyOne(a2, isCopy('sent', 'hello bob'));
  });

  it('a3 gets one sent copy', async () => {
    await converse();
    await exactlyOne(a3, isCopy('sent', 'hello bob'));
  });

  it('the sender gets no copy', async () => {
    await converse();
    await a1.nothing(isCopy('sent'), QUIET_MS);
  });

  it('a2 gets one received copy', async () => {
    await converse();
    await exactlyOne(a2, isCopy('received', 'hello alice'));
  });

  it('a3 gets one received copy', async () => {
    await converse();
    await exactlyOne(a3, isCopy('received', 'hello alice'));
  });

  it('the addressed resource gets no copy', async () => {
    await converse();
    await a1.nothing(isCopy('received'), QUIET_MS);
  });

  it('b2 gets one sent copy of the reply', async () => {
    await converse();
    await exactlyOne(b2, isCopy('sent', 'hello alice'));
  });

  it('bare delivery makes no received copies', async () => {
    await converse();
    await b2.nothing(isCopy('received'), QUIET_MS);
  });

  it('a copy comes from the bare JID', async () => {
    await converse();
    expect((await a2.next(isCopy('sent'))).attr('from')).toBe(`alice@${DOMAIN}`);
  });

  it('a copy goes to the resource', async () => {
    await converse();
    expect((await a3.next(isCopy('received'))).attr('to')).toBe(`alice@${DOMAIN}/a3`);
  });

  it('no copy holds a copy', async () => {
    await converse();
    const copies = [await a2.next(isCopy('sent')), await a2.next(isCopy('received')), await b2.next(isCopy('sent'))];
    const nested = copies.map((copy) => forwardedIn(copy, 'sent') ?? forwardedIn(copy, 'received')).filter((inner) => inner && isAnyCopy(inner));
    expect(nested).toEqual([]);
  });

  it("a sent copy carries the sender's archive id", async () => {
    await converse();
    const inner = forwardedIn(await a2.next(isCopy('sent', 'hello bob')), 'sent');
    expect(inner?.getChildren('stanza-id', NS.STANZA_ID).map((id) => id.attr('by'))).toEqual([`alice@${DOMAIN}`]);
  });

  it("a received copy carries the recipient's archive id", async () => {
    await converse();
    const inner = forwardedIn(await a2.next(isCopy('received', 'hello alice')), 'received');
    expect(inner?.getChildren('stanza-id', NS.STANZA_ID).map((id) => id.attr('by'))).toEqual([`alice@${DOMAIN}`]);
  });

  it('a forged copy is refused', async () => {
    const forged = x('message', NS.CLIENT, { type: 'chat', to: `bob@${DOMAIN}`, id: 'forged' }, x('received', NS_CARBONS, {}, x('forwarded', NS_FORWARD, {}, chat(`bob@${DOMAIN}`, 'fake'))));
    a1.send(forged);
    const reply = await a1.next((el) => el.name === 'message' && el.attr('id') === 'forged');
    expect(errorCondition(reply)).toBe('forbidden');
  });

  it('a forged copy reaches nobody', async () => {
    const forged = x('message', NS.CLIENT, { type: 'chat', to: `bob@${DOMAIN}/b1`, id: 'forged' }, x('received', NS_CARBONS, {}, x('forwarded', NS_FORWARD, {}, chat(`bob@${DOMAIN}`, 'fake'))));
    a1.send(forged);
    await a1.next((el) => el.name === 'message' && el.attr('id') === 'forged');
    await Promise.all([b1.nothing(isAnyCopy, QUIET_MS), b2.nothing(isAnyCopy, QUIET_MS), a2.nothing(isAnyCopy, QUIET_MS)]);
  });

  it('a forged copy to the own account is refused', async () => {
    const forged = x('message', NS.CLIENT, { type: 'chat', to: `alice@${DOMAIN}/a2`, id: 'forged' }, x('sent', NS_CARBONS, {}, x('forwarded', NS_FORWARD, {}, chat(`bob@${DOMAIN}`, 'fake'))));
    a1.send(forged);
    await a1.next((el) => el.name === 'message' && el.attr('id') === 'forged' && el.attr('type') === 'error');
    await a2.nothing(isAnyCopy, QUIET_MS);
  });
});

describe('delivery rules', () => {
  it('bare delivery skips a disabled resource', async () => {
    const b1 = await connect('bob', 'b1');
    const b2 = await connect('bob', 'b2', { carbons: false });
    const alice = await connect('alice', 'a1');
    alice.send(chat(`bob@${DOMAIN}`, 'to both'));
    await b1.next(isChat('to both'));
    await b2.next(isChat('to both'));
    await Promise.all([b1.nothing(isAnyCopy, QUIET_MS), b2.nothing(isAnyCopy, QUIET_MS)]);
  });

  it('a negative priority gets a received copy', async () => {
    const b1 = await connect('bob', 'b1');
    const b2 = await connect('bob', 'b2', { priority: -1 });
    const alice = await connect('alice', 'a1');
    alice.send(chat(`bob@${DOMAIN}`, 'to the bare JID'));
    await b1.next(isChat('to the bare JID'));
    await exactlyOne(b2, isCopy('received', 'to the bare JID'));
  });

  it('a negative priority gets no direct message', async () => {
    await connect('bob', 'b1');
    const b2 = await connect('bob', 'b2', { priority: -1 });
    const alice = await connect('alice', 'a1');
    alice.send(chat(`bob@${DOMAIN}`, 'to the bare JID'));
    await b2.next(isCopy('received'));
    await b2.nothing(isChat('to the bare JID'), QUIET_MS);
  });

  it('a full JID message makes a received copy', async () => {
    await connect('bob', 'b1');
    const b2 = await connect('bob', 'b2');
    const alice = await connect('alice', 'a1');
    alice.send(chat(`bob@${DOMAIN}/b1`, 'to b1'));
    await exactlyOne(b2, isCopy('received', 'to b1'));
  });

  it('a private message is not copied to the sender', async () => {
    const a1 = await connect('alice', 'a1');
    const a2 = await connect('alice', 'a2');
    const bob = await connect('bob', 'b1');
    a1.send(chat(`bob@${DOMAIN}`, 'secret', x('private', NS_CARBONS)));
    await bob.next(isChat('secret'));
    await a2.nothing(isAnyCopy, QUIET_MS);
  });

  it('a private message is not copied to the recipient', async () => {
    await connect('bob', 'b1');
    const b2 = await connect('bob', 'b2');
    const alice = await connect('alice', 'a1');
    alice.send(chat(`bob@${DOMAIN}/b1`, 'secret', x('private', NS_CARBONS)));
    await b2.nothing(isAnyCopy, QUIET_MS);
  });

  it('the recipient gets no private element', async () => {
    const bob = await connect('bob', 'b1');
    const alice = await connect('alice', 'a1');
    alice.send(chat(`bob@${DOMAIN}/b1`, 'secret', x('private', NS_CARBONS)));
    const message = await bob.next(isChat('secret'));
    expect(message.getChild('private', NS_CARBONS)).toBeUndefined();
  });

  it('a no-copy hint is respected', async () => {
    const a1 = await connect('alice', 'a1');
    const a2 = await connect('alice', 'a2');
    const bob = await connect('bob', 'b1');
    a1.send(chat(`bob@${DOMAIN}`, 'hinted', x('no-copy', NS.HINTS)));
    await bob.next(isChat('hinted'));
    await a2.nothing(isAnyCopy, QUIET_MS);
  });

  it('messages within one account are not copied', async () => {
    const a1 = await connect('alice', 'a1');
    const a2 = await connect('alice', 'a2');
    const a3 = await connect('alice', 'a3');
    a1.send(chat(`alice@${DOMAIN}/a2`, 'note to self'));
    await a2.next(isChat('note to self'));
    await a3.nothing(isAnyCopy, QUIET_MS);
  });

  it('a headline is not copied', async () => {
    await connect('bob', 'b1');
    const b2 = await connect('bob', 'b2');
    const alice = await connect('alice', 'a1');
    alice.send(x('message', NS.CLIENT, { type: 'headline', to: `bob@${DOMAIN}/b1` }, x('body', NS.CLIENT, {}, 'news')));
    await b2.nothing(isAnyCopy, QUIET_MS);
  });

  it('an offline message is copied to a negative priority', async () => {
    const b1 = await connect('bob', 'b1', { priority: -5 });
    const alice = await connect('alice', 'a1');
    alice.send(chat(`bob@${DOMAIN}`, 'stored'));
    await exactlyOne(b1, isCopy('received', 'stored'));
  });
});
