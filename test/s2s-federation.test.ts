import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { TestClient } from './support/client.js';
import { bodies, queryArchive } from './support/mam.js';
import { DOMAIN_A, DOMAIN_B, DomainClient, startFederatedPair, type FederatedPair } from './support/s2s.js';

const ALICE = `alice@${DOMAIN_A}`;
const NS_MUC = 'http://jabber.org/protocol/muc';
const BOB = `bob@${DOMAIN_B}`;

function isPresence(type: string | undefined, from: string): (el: Element) => boolean {
  return (el) => el.name === 'presence' && el.attr('type') === type && (el.attr('from') ?? '').split('/')[0] === from;
}

function chat(to: string, body: string): Element {
  return x('message', NS.CLIENT, { to, type: 'chat' }, x('body', NS.CLIENT, {}, body));
}

function archiveOf(client: DomainClient): Promise<string[]> {
  return queryArchive(client as unknown as TestClient).then(bodies);
}

describe('federation over dialback', () => {
  let pair: FederatedPair;
  let alice: DomainClient;
  let bob: DomainClient;

  beforeAll(async () => {
    pair = await startFederatedPair();
    await pair.a.createAccount('alice', 'secret-a');
    await pair.b.createAccount('bob', 'secret-b');
    alice = await DomainClient.connect(pair.a, 'alice', 'secret-a', { presence: true });
    bob = await DomainClient.connect(pair.b, 'bob', 'secret-b', { presence: true });
  });

  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await pair?.stop();
  });

  it('subscriptions and presence cross both ways', async () => {
    alice.send(x('presence', NS.CLIENT, { type: 'subscribe', to: BOB }));
    await bob.next(isPresence('subscribe', ALICE), 10_000);
    const bobOnline = alice.next(isPresence(undefined, BOB), 10_000);
    bob.send(x('presence', NS.CLIENT, { type: 'subscribed', to: ALICE }));
    expect(await alice.next(isPresence('subscribed', BOB), 10_000)).toBeDefined();
    expect(await bobOnline).toBeDefined();

    bob.send(x('presence', NS.CLIENT, { type: 'subscribe', to: ALICE }));
    await alice.next(isPresence('subscribe', BOB), 10_000);
    const aliceOnline = bob.next(isPresence(undefined, ALICE), 10_000);
    alice.send(x('presence', NS.CLIENT, { type: 'subscribed', to: BOB }));
    expect(await aliceOnline).toBeDefined();

    const roster = await alice.iq(x('iq', NS.CLIENT, { type: 'get' }, x('query', NS.ROSTER)));
    const item = roster.getChild('query', NS.ROSTER)?.getChildren('item').find((el) => el.attr('jid') === BOB);
    expect(item?.attr('subscription')).toBe('both');

    const away = bob.next(isPresence(undefined, ALICE), 10_000);
    alice.send(x('presence', NS.CLIENT, {}, x('show', NS.CLIENT, {}, 'away')));
    expect((await away).getChildText('show')).toBe('away');
  });

  it('probes a remote contact when a new session comes online', async () => {
    const second = await DomainClient.connect(pair.a, 'alice', 'secret-a', { resource: 'second' });
    try {
      const bobSeen = second.next(isPresence(undefined, BOB), 10_000);
      second.send(x('presence', NS.CLIENT));
      expect((await bobSeen).attr('from')).toBe(bob.jid.toString());
    } finally {
      await second.close();
    }
  });

  it('messages cross both ways and land in both archives', async () => {
    alice.send(chat(BOB, 'hello from a'));
    const atBob = await bob.next((el) => el.name === 'message' && el.getChildText('body') === 'hello from a', 10_000);
    expect(atBob.attr('from')).toBe(alice.jid.toString());

    bob.send(chat(ALICE, 'hello from b'));
    const atAlice = await alice.next((el) => el.name === 'message' && el.getChildText('body') === 'hello from b', 10_000);
    expect(atAlice.attr('from')).toBe(bob.jid.toString());

    expect(await archiveOf(alice)).toEqual(expect.arrayContaining(['hello from a', 'hello from b']));
    expect(await archiveOf(bob)).toEqual(expect.arrayContaining(['hello from a', 'hello from b']));
    expect(pair.a.server.federation?.pool.get(DOMAIN_A, DOMAIN_B)?.authMethod).toBe('dialback');
    expect(pair.b.server.federation?.pool.get(DOMAIN_B, DOMAIN_A)?.authMethod).toBe('dialback');
  });

  it('server iq requests cross', async () => {
    const pong = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: DOMAIN_B }, x('ping', NS.PING)));
    expect(pong.attr('type')).toBe('result');
    expect(pong.attr('from')).toBe(DOMAIN_B);

    const version = await bob.iq(x('iq', NS.CLIENT, { type: 'get', to: DOMAIN_A }, x('query', NS.VERSION)));
    expect(version.attr('type')).toBe('result');
    expect(version.getChild('query', NS.VERSION)?.getChildText('name')).toBe('Parley');
  });

  it('iq to an unknown remote account gets service-unavailable', async () => {
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: `nobody@${DOMAIN_B}` }, x('query', NS.VERSION)));
    expect(reply.attr('type')).toBe('error');
    expect(reply.getChild('error')?.getChildByNs(NS.STANZAS)?.name).toBe('service-unavailable');
  });

  it('remote user joins and talks in a room', async () => {
    const room = `federated@conference.${DOMAIN_A}`;
    const aliceIn = alice.next((el) => el.name === 'presence' && el.attr('from') === `${room}/alice`, 10_000);
    alice.send(x('presence', NS.CLIENT, { to: `${room}/alice` }, x('x', NS_MUC)));
    await aliceIn;
    const form = x('x', NS.DATA_FORMS, { type: 'submit' });
    expect((await alice.iq(x('iq', NS.CLIENT, { type: 'set', to: room }, x('query', `${NS_MUC}#owner`, {}, form)))).attr('type')).toBe('result');

    const bobSelf = bob.next((el) => el.name === 'presence' && el.attr('from') === `${room}/bob`, 10_000);
    const bobSeen = alice.next((el) => el.name === 'presence' && el.attr('from') === `${room}/bob`, 10_000);
    bob.send(x('presence', NS.CLIENT, { to: `${room}/bob` }, x('x', NS_MUC)));
    expect((await bobSelf).attr('type')).toBeUndefined();
    await bobSeen;

    const atAlice = alice.next((el) => el.name === 'message' && el.attr('type') === 'groupchat' && el.getChildText('body') === 'hi room', 10_000);
    const reflected = bob.next((el) => el.name === 'message' && el.attr('type') === 'groupchat' && el.getChildText('body') === 'hi room', 10_000);
    bob.send(x('message', NS.CLIENT, { to: room, type: 'groupchat' }, x('body', NS.CLIENT, {}, 'hi room')));
    expect((await atAlice).attr('from')).toBe(`${room}/bob`);
    expect((await reflected).attr('from')).toBe(`${room}/bob`);
    expect(pair.a.server.federation?.pool.get(`conference.${DOMAIN_A}`, DOMAIN_B)?.isReady).toBe(true);
  });

  it('offline message waits on the remote server', async () => {
    const bobOffline = alice.next(isPresence('unavailable', BOB), 10_000);
    await bob.close();
    await bobOffline;

    alice.send(chat(BOB, 'while you were away'));
    // The message is on its way once the stream to b carries it; offline storage then has it.
    await expect.poll(async () => (await pair.b.server.storage.offline.count(DOMAIN_B, 'bob')) > 0, { timeout: 10_000 }).toBe(true);

    bob = await DomainClient.connect(pair.b, 'bob', 'secret-b');
    bob.send(x('presence', NS.CLIENT));
    const stored = await bob.next((el) => el.name === 'message' && el.getChildText('body') === 'while you were away', 10_000);
    expect(stored.getChild('delay', NS.DELAY)?.attr('from')).toBe(DOMAIN_B);
  });
});

describe('federation over direct TLS', () => {
  let pair: FederatedPair;

  beforeAll(async () => {
    pair = await startFederatedPair();
    pair.a.server.config.s2s.hosts[DOMAIN_B] = `tls://127.0.0.1:${pair.b.server.addresses.s2s}`;
    await pair.a.createAccount('alice', 'secret-a');
    await pair.b.createAccount('bob', 'secret-b');
  });

  afterAll(async () => {
    await pair?.stop();
  });

  it('direct TLS and STARTTLS share the s2s port', async () => {
    const alice = await DomainClient.connect(pair.a, 'alice', 'secret-a', { presence: true });
    const bob = await DomainClient.connect(pair.b, 'bob', 'secret-b', { presence: true });
    alice.send(chat(BOB, 'over direct TLS'));
    expect((await bob.next((el) => el.name === 'message', 10_000)).getChildText('body')).toBe('over direct TLS');
    bob.send(chat(ALICE, 'over STARTTLS'));
    expect((await alice.next((el) => el.name === 'message', 10_000)).getChildText('body')).toBe('over STARTTLS');

    expect(pair.a.server.federation?.pool.get(DOMAIN_A, DOMAIN_B)?.target?.directTls).toBe(true);
    expect(pair.b.server.federation?.pool.get(DOMAIN_B, DOMAIN_A)?.target?.directTls).toBe(false);
    await alice.close();
    await bob.close();
  });
});
