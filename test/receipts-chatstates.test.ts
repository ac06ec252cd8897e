import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { delay } from './support/raw.js';

const PASSWORD = 'receipts secret';
const DOMAIN = 'example.test';
const NS_CARBONS = 'urn:xmpp:carbons:2';
const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_RECEIPTS = 'urn:xmpp:receipts';
const QUIET_MS = 300;

let server: TestServer;
let clients: TestClient[] = [];

beforeEach(async () => {
  server = await startTestServer();
  for (const name of ['alice', 'bob']) await server.createAccount(name, PASSWORD);
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
  await server.stop();
});

/** Connects with carbons enabled and initial presence. */
async function connect(username: string, resource: string): Promise<TestClient> {
  const client = await TestClient.connect(server, { username, password: PASSWORD, transport: 'plain', resource });
  clients.push(client);
  await client.iq(x('iq', NS.CLIENT, { type: 'set' }, x('enable', NS_CARBONS)));
  const own = client.jid.toString();
  const echo = client.next((el) => el.name === 'presence' && el.attr('from') === own);
  client.send(x('presence', NS.CLIENT));
  await echo;
  return client;
}

function requestingChat(to: string, id: string): Element {
  return x('message', NS.CLIENT, { type: 'chat', to, id }, x('body', NS.CLIENT, {}, 'please confirm'), x('request', NS_RECEIPTS));
}

/** Builds a receipt as XEP-0184 shows it: a message of type normal with `<received id/>`. */
function receipt(to: string, id: string): Element {
  return x('message', NS.CLIENT, { to, id: `receipt-${id}` }, x('received', NS_RECEIPTS, { id }));
}

function composing(to: string): Element {
  return x('message', NS.CLIENT, { type: 'chat', to }, x('composing', NS.CHATSTATES));
}

function isRequest(id: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.attr('id') === id && el.getChild('request', NS_RECEIPTS) !== undefined;
}

function isReceiptFor(id: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.getChild('received', NS_RECEIPTS)?.attr('id') === id;
}

function isComposing(el: Element): boolean {
  return el.name === 'message' && el.getChild('composing', NS.CHATSTATES) !== undefined;
}

function isError(el: Element): boolean {
  return el.attr('type') === 'error';
}

/** Matches a carbon copy in `direction` whose forwarded message matches `inner`. */
function isCopyOf(direction: 'sent' | 'received', inner: (el: Element) => boolean): (el: Element) => boolean {
  return (el) => {
    const message = el.getChild(direction, NS_CARBONS)?.getChild('forwarded', NS_FORWARD)?.getChild('message', NS.CLIENT);
    return el.name === 'message' && message !== undefined && inner(message);
  };
}

/** Waits until `username` has `count` stored offline messages. */
async function waitForStored(username: string, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await server.server.storage.offline.count(DOMAIN, username)) < count) {
    if (Date.now() > deadline) throw new Error(`${username} never had ${count} stored messages`);
    await delay(20);
  }
}

/** Waits until the archive of `username` holds `count` messages; archive writes finish after delivery. */
async function waitForArchived(username: string, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while ((await server.server.storage.archive.count(DOMAIN, username, {})) < count) {
    if (Date.now() > deadline) throw new Error(`${username} never had ${count} archived messages`);
    await delay(20);
  }
}

describe('receipts', () => {
  let a1: TestClient;
  let a2: TestClient;
  let b1: TestClient;
  let b2: TestClient;

  beforeEach(async () => {
    a1 = await connect('alice', 'a1');
    a2 = await connect('alice', 'a2');
    b1 = await connect('bob', 'b1');
    b2 = await connect('bob', 'b2');
  });

  /** Sends a receipt request from alice/a1 to bob/b1, then bob/b1's receipt to alice/a1. */
  async function exchange(): Promise<void> {
    a1.send(requestingChat(`bob@${DOMAIN}/b1`, 'm1'));
    await b1.next(isRequest('m1'));
    b1.send(receipt(`alice@${DOMAIN}/a1`, 'm1'));
  }

  it('the request reaches bob', async () => {
    a1.send(requestingChat(`bob@${DOMAIN}/b1`, 'm1'));
    await b1.next(isRequest('m1'));
  });

  it('the receipt reaches alice', async () => {
    await exchange();
    await a1.next(isReceiptFor('m1'));
  });

  it("alice's other resource sees the request", async () => {
    await exchange();
    await a2.next(isCopyOf('sent', isRequest('m1')));
  });

  it("bob's other resource sees the request", async () => {
    await exchange();
    await b2.next(isCopyOf('received', isRequest('m1')));
  });

  it("bob's other resource sees the receipt", async () => {
    await exchange();
    await b2.next(isCopyOf('sent', isReceiptFor('m1')));
  });

  it("alice's other resource sees the receipt", async () => {
    await exchange();
    await a2.next(isCopyOf('received', isReceiptFor('m1')));
  });
});

describe('receipts for an offline user', () => {
  it('the receipt follows offline delivery', async () => {
    const alice = await connect('alice', 'a1');
    alice.send(requestingChat(`bob@${DOMAIN}`, 'm2'));
    await waitForStored('bob', 1);
    const bob = await connect('bob', 'b1');
    await bob.next(isRequest('m2'));
    bob.send(receipt(`alice@${DOMAIN}/a1`, 'm2'));
    await alice.next(isReceiptFor('m2'));
  });
});

describe('chat states', () => {
  it('composing reaches each online resource', async () => {
    const b1 = await connect('bob', 'b1');
    const b2 = await connect('bob', 'b2');
    const alice = await connect('alice', 'a1');
    alice.send(composing(`bob@${DOMAIN}`));
    await Promise.all([b1.next(isComposing), b2.next(isComposing)]);
  });

  it('composing is not stored offline', async () => {
    const alice = await connect('alice', 'a1');
    alice.send(composing(`bob@${DOMAIN}`));
    alice.send(x('message', NS.CLIENT, { type: 'chat', to: `bob@${DOMAIN}` }, x('body', NS.CLIENT, {}, 'after typing')));
    await waitForStored('bob', 1);
    const stored = await server.server.storage.offline.list(DOMAIN, 'bob');
    expect(stored.map((message) => message.stanza.includes('composing'))).toEqual([false]);
  });

  it('composing is not archived', async () => {
    const alice = await connect('alice', 'a1');
    const bob = await connect('bob', 'b1');
    alice.send(composing(`bob@${DOMAIN}`));
    alice.send(x('message', NS.CLIENT, { type: 'chat', to: `bob@${DOMAIN}` }, x('body', NS.CLIENT, {}, 'after typing')));
    await bob.next((el) => el.getChildText('body', NS.CLIENT) === 'after typing');
    await waitForArchived('alice', 1);
    expect(await server.server.storage.archive.count(DOMAIN, 'alice', {})).toBe(1);
  });

  it('composing to an offline user gets no error', async () => {
    const alice = await connect('alice', 'a1');
    alice.send(composing(`bob@${DOMAIN}`));
    await alice.nothing(isError, QUIET_MS);
  });

  it("composing is copied to the sender's other resource", async () => {
    const a1 = await connect('alice', 'a1');
    const a2 = await connect('alice', 'a2');
    await connect('bob', 'b1');
    a1.send(composing(`bob@${DOMAIN}`));
    await a2.next(isCopyOf('sent', isComposing));
  });
});
