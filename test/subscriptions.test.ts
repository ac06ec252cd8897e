import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { deleteAccount } from '../packages/server/src/accounts.js';
import type { Subscription } from '../packages/server/src/storage/index.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';

const PASSWORD = 'subscription secret';
const DOMAIN = 'example.test';
const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
const CAROL = `carol@${DOMAIN}`;
const DAVE = `dave@${DOMAIN}`;

let server: TestServer;
let clients: TestClient[] = [];
let resourceCounter = 0;

beforeEach(async () => {
  server = await startTestServer();
  for (const name of ['alice', 'bob', 'carol', 'dave']) await server.createAccount(name, PASSWORD);
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
  await server.stop();
});

/** Connects with initial presence and reads the roster, so that the session gets stanzas and pushes. */
async function online(username: string): Promise<TestClient> {
  const client = await TestClient.connect(server, { username, password: PASSWORD, transport: 'plain', resource: `r${++resourceCounter}`, presence: true });
  clients.push(client);
  await client.iq(x('iq', NS.CLIENT, { type: 'get' }, x('query', NS.ROSTER)));
  return client;
}

async function storeSubscription(user: string, contact: string, subscription: Subscription): Promise<void> {
  await server.server.storage.roster.put(DOMAIN, user, {
    contact: `${contact}@${DOMAIN}`,
    name: null,
    subscription,
    ask: false,
    pendingIn: false,
    pendingInStanza: null,
    approved: false,
    hidden: false,
    groups: [],
  });
}

function subscription(type: string, to: string): Element {
  return x('presence', NS.CLIENT, { type, to });
}

function isPresence(type: string | undefined, from: string): (el: Element) => boolean {
  return (el) => el.name === 'presence' && el.attr('type') === type && el.attr('from') === from;
}

function pushedItem(el: Element): Element | undefined {
  if (el.name !== 'iq' || el.attr('type') !== 'set') return undefined;
  return el.getChild('query', NS.ROSTER)?.getChild('item', NS.ROSTER);
}

function isPushFor(jid: string): (el: Element) => boolean {
  return (el) => pushedItem(el)?.attr('jid') === jid;
}

async function nextPush(client: TestClient, jid: string): Promise<Element> {
  const item = pushedItem(await client.next(isPushFor(jid)));
  if (!item) throw new Error('The roster push has no <item/> element.');
  return item;
}

async function rosterJids(client: TestClient): Promise<string[]> {
  const result = await client.iq(x('iq', NS.CLIENT, { type: 'get' }, x('query', NS.ROSTER)));
  const items = result.getChild('query', NS.ROSTER)?.getChildren('item', NS.ROSTER) ?? [];
  return items.map((item) => item.attr('jid') ?? '');
}

function rosterSet(jid: string, attrs: Record<string, string> = {}): Element {
  return x('iq', NS.CLIENT, { type: 'set' }, x('query', NS.ROSTER, {}, x('item', NS.ROSTER, { jid, ...attrs })));
}

async function storedRecord(user: string, contact: string) {
  return server.server.storage.roster.get(DOMAIN, user, contact);
}

describe('withdrawn subscription request', () => {
  async function requestSubscription(): Promise<{ alice: TestClient; bob: TestClient }> {
    const alice = await online('alice');
    const bob = await online('bob');
    await alice.iq(rosterSet(BOB));
    await nextPush(alice, BOB);

    alice.send(subscription('subscribe', BOB));
    expect(await bob.next(isPresence('subscribe', ALICE))).toBeDefined();
    expect((await nextPush(alice, BOB)).attr('ask')).toBe('subscribe');
    return { alice, bob };
  }

  async function expectNoRequestAfterLogin(bob: TestClient): Promise<void> {
    await bob.close();
    const again = await online('bob');
    await again.nothing(isPresence('subscribe', ALICE), 3000);
    expect(await rosterJids(again)).not.toContain(ALICE);
  }

  it('unsubscribe clears the request', async () => {
    const { alice, bob } = await requestSubscription();

    alice.send(subscription('unsubscribe', BOB));
    expect(await bob.next(isPresence('unsubscribe', ALICE))).toBeDefined();
    expect((await nextPush(alice, BOB)).attr('ask')).toBeUndefined();
    expect(await storedRecord('bob', ALICE)).toBeNull();

    await alice.iq(rosterSet(BOB, { subscription: 'remove' }));
    expect((await nextPush(alice, BOB)).attr('subscription')).toBe('remove');
    await expectNoRequestAfterLogin(bob);
  });

  it('removing the item unsubscribes', async () => {
    const { alice, bob } = await requestSubscription();

    await alice.iq(rosterSet(BOB, { subscription: 'remove' }));
    expect((await nextPush(alice, BOB)).attr('subscription')).toBe('remove');
    expect(await bob.next(isPresence('unsubscribe', ALICE))).toBeDefined();
    expect(await storedRecord('bob', ALICE)).toBeNull();
    await expectNoRequestAfterLogin(bob);
  });

  it('a pending request is no roster item', async () => {
    const { bob } = await requestSubscription();
    expect(await rosterJids(bob)).toEqual([]);
    await bob.nothing(isPushFor(ALICE), 300);
  });
});

describe('subscription exchange', () => {
  it('makes a two-way subscription', async () => {
    const alice = await online('alice');
    const bob = await online('bob');

    alice.send(subscription('subscribe', BOB));
    await bob.next(isPresence('subscribe', ALICE));
    bob.send(subscription('subscribed', ALICE));
    expect(await alice.next(isPresence('subscribed', BOB))).toBeDefined();
    expect(await alice.next(isPresence(undefined, bob.jid.toString()))).toBeDefined();
    expect((await nextPush(bob, ALICE)).attr('subscription')).toBe('from');
    expect((await nextPush(alice, BOB)).attr('subscription')).toBe('none');
    expect((await nextPush(alice, BOB)).attr('subscription')).toBe('to');

    bob.send(subscription('subscribe', ALICE));
    await alice.next(isPresence('subscribe', BOB));
    expect((await nextPush(alice, BOB)).attr('subscription')).toBe('to');
    alice.send(subscription('subscribed', BOB));
    expect(await bob.next(isPresence('subscribed', ALICE))).toBeDefined();
    expect(await bob.next(isPresence(undefined, alice.jid.toString()))).toBeDefined();
    expect((await nextPush(alice, BOB)).attr('subscription')).toBe('both');
    expect((await nextPush(bob, ALICE)).attr('subscription')).toBe('from');
    expect((await nextPush(bob, ALICE)).attr('subscription')).toBe('both');

    alice.send(x('presence', NS.CLIENT, {}, x('show', NS.CLIENT, {}, 'away')));
    const away = await bob.next(isPresence(undefined, alice.jid.toString()));
    expect(away.getChildText('show', NS.CLIENT)).toBe('away');
    bob.send(x('presence', NS.CLIENT, {}, x('show', NS.CLIENT, {}, 'dnd')));
    const dnd = await alice.next(isPresence(undefined, bob.jid.toString()));
    expect(dnd.getChildText('show', NS.CLIENT)).toBe('dnd');
  });

  it('stamps the bare JID as sender', async () => {
    const alice = await online('alice');
    const bob = await online('bob');
    alice.send(subscription('subscribe', `${BOB}/${bob.jid.resource}`));
    const request = await bob.next((el) => el.name === 'presence' && el.attr('type') === 'subscribe');
    expect(request.attr('from')).toBe(ALICE);
    expect(request.attr('to')).toBe(BOB);
  });

  it('delivers a request at the next login', async () => {
    const alice = await online('alice');
    const bob = await online('bob');
    await storeSubscription('alice', 'bob', 'both');
    await storeSubscription('bob', 'alice', 'both');
    await bob.close();

    const dave = await online('dave');
    dave.send(x('presence', NS.CLIENT, { type: 'subscribe', to: BOB }, x('status', NS.CLIENT, {}, 'I am Dave')));
    expect((await nextPush(dave, BOB)).attr('ask')).toBe('subscribe');

    const again = await online('bob');
    const request = await again.next(isPresence('subscribe', DAVE));
    expect(request.getChildText('status', NS.CLIENT)).toBe('I am Dave');
    expect(await rosterJids(again)).toEqual([ALICE]);
    expect(await alice.next(isPresence(undefined, again.jid.toString()))).toBeDefined();
  });

  it('denying a request answers unsubscribed', async () => {
    const alice = await online('alice');
    const bob = await online('bob');
    alice.send(subscription('subscribe', BOB));
    await bob.next(isPresence('subscribe', ALICE));
    expect((await nextPush(alice, BOB)).attr('ask')).toBe('subscribe');

    bob.send(subscription('unsubscribed', ALICE));
    expect(await alice.next(isPresence('unsubscribed', BOB))).toBeDefined();
    expect((await nextPush(alice, BOB)).attr('ask')).toBeUndefined();
    expect(await storedRecord('bob', ALICE)).toBeNull();
  });

  it('subscribe from a subscriber is approved by the server', async () => {
    await storeSubscription('bob', 'alice', 'from');
    const alice = await online('alice');
    const bob = await online('bob');
    alice.send(subscription('subscribe', BOB));
    expect(await alice.next(isPresence('subscribed', BOB))).toBeDefined();
    expect(await alice.next(isPresence(undefined, bob.jid.toString()))).toBeDefined();
    expect((await storedRecord('alice', BOB))?.subscription).toBe('to');
    await bob.nothing(isPresence('subscribe', ALICE), 300);
  });

  it('unknown accounts answer unsubscribed', async () => {
    const alice = await online('alice');
    alice.send(subscription('subscribe', `nobody@${DOMAIN}`));
    expect(await alice.next(isPresence('unsubscribed', `nobody@${DOMAIN}`))).toBeDefined();
    expect((await storedRecord('alice', `nobody@${DOMAIN}`))?.ask).toBe(false);
  });
});

describe('pre-approval', () => {
  it('approves without asking', async () => {
    const alice = await online('alice');
    const carol = await online('carol');

    alice.send(subscription('subscribed', CAROL));
    expect((await nextPush(alice, CAROL)).attr('approved')).toBe('true');
    await carol.nothing(isPresence('subscribed', ALICE), 200);

    carol.send(subscription('subscribe', ALICE));
    expect(await carol.next(isPresence('subscribed', ALICE))).toBeDefined();
    expect(await carol.next(isPresence(undefined, alice.jid.toString()))).toBeDefined();
    await alice.nothing(isPresence('subscribe', CAROL), 500);

    const aliceItem = await nextPush(alice, CAROL);
    expect(aliceItem.attr('subscription')).toBe('from');
    expect(aliceItem.attr('approved')).toBeUndefined();
  });

  it('unsubscribed withdraws it', async () => {
    const alice = await online('alice');
    alice.send(subscription('subscribed', CAROL));
    await nextPush(alice, CAROL);
    alice.send(subscription('unsubscribed', CAROL));
    expect((await nextPush(alice, CAROL)).attr('approved')).toBeUndefined();

    const carol = await online('carol');
    carol.send(subscription('subscribe', ALICE));
    expect(await alice.next(isPresence('subscribe', CAROL))).toBeDefined();
  });
});

describe('cancelling subscriptions', () => {
  it('removing a mutual contact cancels both ways', async () => {
    await storeSubscription('alice', 'bob', 'both');
    await storeSubscription('bob', 'alice', 'both');
    const alice = await online('alice');
    const bob = await online('bob');

    await alice.iq(rosterSet(BOB, { subscription: 'remove' }));
    expect(await bob.next(isPresence('unsubscribe', ALICE))).toBeDefined();
    expect(await bob.next(isPresence('unsubscribed', ALICE))).toBeDefined();
    expect(await bob.next(isPresence('unavailable', alice.jid.toString()))).toBeDefined();
    expect((await storedRecord('bob', ALICE))?.subscription).toBe('none');
  });

  it('unsubscribe ends the presence flow', async () => {
    await storeSubscription('alice', 'bob', 'both');
    await storeSubscription('bob', 'alice', 'both');
    const alice = await online('alice');
    const bob = await online('bob');

    alice.send(subscription('unsubscribe', BOB));
    expect(await bob.next(isPresence('unsubscribe', ALICE))).toBeDefined();
    expect(await alice.next(isPresence('unavailable', bob.jid.toString()))).toBeDefined();
    expect((await nextPush(alice, BOB)).attr('subscription')).toBe('from');
    expect((await nextPush(bob, ALICE)).attr('subscription')).toBe('to');
  });

  it('deleting an account updates contacts', async () => {
    await storeSubscription('alice', 'bob', 'both');
    await storeSubscription('bob', 'alice', 'both');
    const bob = await online('bob');

    await deleteAccount(server.server, 'alice');
    expect(await bob.next(isPresence('unsubscribe', ALICE))).toBeDefined();
    expect(await bob.next(isPresence('unsubscribed', ALICE))).toBeDefined();
    expect((await storedRecord('bob', ALICE))?.subscription).toBe('none');
  });
});
