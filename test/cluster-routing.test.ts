import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '../packages/xmpp/src/index.js';
import { TestClient } from './support/client.js';
import { useTestCluster } from './support/cluster.js';

const DOMAIN = 'example.test';
const NS_CARBONS = 'urn:xmpp:carbons:2';
const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_TEST = 'urn:example:cluster-test';
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'greg', 'hana', 'nina'];

const env = useTestCluster(3, USERS);
/** Logs `user` in on node `node`, with a fresh resource unless one is given. */
const connect = (node: number, user: string, options: { resource?: string; presence?: boolean } = {}) => env.connect(node, user, { ...options, presence: options.presence ?? false });

/** Sends presence with `priority` and waits for the echo. */
async function announce(client: TestClient, priority: number): Promise<void> {
  const own = client.jid.toString();
  const echo = client.next((el) => el.name === 'presence' && el.attr('from') === own && el.attr('type') === undefined, 5000);
  client.send(x('presence', NS.CLIENT, {}, x('priority', NS.CLIENT, {}, String(priority))));
  await echo;
}

function chat(to: string, body: string): Element {
  return x('message', NS.CLIENT, { to, type: 'chat', id: body }, x('body', NS.CLIENT, {}, body));
}

function hasBody(body: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.getChildText('body', NS.CLIENT) === body;
}

function isCarbon(direction: 'sent' | 'received', body: string): (el: Element) => boolean {
  return (el) => el.getChild(direction, NS_CARBONS)?.getChild('forwarded', NS_FORWARD)?.getChild('message', NS.CLIENT)?.getChildText('body', NS.CLIENT) === body;
}

function isPresence(from: string, type?: string): (el: Element) => boolean {
  return (el) => el.name === 'presence' && el.attr('from') === from && el.attr('type') === type;
}

async function enableCarbons(client: TestClient): Promise<void> {
  const reply = await client.iq(x('iq', NS.CLIENT, { type: 'set' }, x('enable', NS_CARBONS)));
  expect(reply.attr('type')).toBe('result');
}

/** Subscribes `a` and `b` to each other through the protocol, each on its own node. */
async function befriend(a: TestClient, b: TestClient): Promise<void> {
  const aBare = a.jid.bare().toString();
  const bBare = b.jid.bare().toString();
  const request = b.next(isPresence(aBare, 'subscribe'), 5000);
  a.send(x('presence', NS.CLIENT, { to: bBare, type: 'subscribe' }));
  await request;
  const approved = a.next(isPresence(bBare, 'subscribed'), 5000);
  b.send(x('presence', NS.CLIENT, { to: aBare, type: 'subscribed' }));
  await approved;

  const back = a.next(isPresence(bBare, 'subscribe'), 5000);
  b.send(x('presence', NS.CLIENT, { to: aBare, type: 'subscribe' }));
  await back;
  const done = b.next(isPresence(aBare, 'subscribed'), 5000);
  a.send(x('presence', NS.CLIENT, { to: bBare, type: 'subscribed' }));
  await done;
}

describe('a cluster of three nodes', () => {
  it('carries a chat both ways between nodes', async () => {
    const alice = await connect(0, 'alice', { presence: true });
    const bob = await connect(1, 'bob', { presence: true });

    alice.send(chat(`bob@${DOMAIN}`, 'hello from node 0'));
    const got = await bob.next(hasBody('hello from node 0'), 5000);
    expect(got.attr('from')).toBe(alice.jid.toString());

    bob.send(chat(alice.jid.toString(), 'hello from node 1'));
    const reply = await alice.next(hasBody('hello from node 1'), 5000);
    expect(reply.attr('from')).toBe(bob.jid.toString());
  });

  it('sends presence and answers probes across nodes', async () => {
    const carol = await connect(2, 'carol', { presence: true });
    const dave = await connect(1, 'dave', { presence: true });
    await befriend(carol, dave);

    // A second resource of carol's on another node gets her contact's presence and her own.
    const carolPhone = await connect(0, 'carol');
    const probed = carolPhone.next(isPresence(dave.jid.toString()), 5000);
    const ownEcho = carol.next(isPresence(carolPhone.jid.toString()), 5000);
    await announce(carolPhone, 0);
    await probed;
    await ownEcho;

    const away = carol.next((el) => isPresence(dave.jid.toString())(el) && el.getChildText('show', NS.CLIENT) === 'away', 5000);
    const awayToo = carolPhone.next((el) => isPresence(dave.jid.toString())(el) && el.getChildText('show', NS.CLIENT) === 'away', 5000);
    dave.send(x('presence', NS.CLIENT, {}, x('show', NS.CLIENT, {}, 'away')));
    await Promise.all([away, awayToo]);

    const unavailable = carol.next(isPresence(dave.jid.toString(), 'unavailable'), 5000);
    const unavailableToo = carolPhone.next(isPresence(dave.jid.toString(), 'unavailable'), 5000);
    await dave.close();
    await Promise.all([unavailable, unavailableToo]);
  });

  it('delivers to the non-negative resources on every node and carbons to the rest', async () => {
    const high = await connect(0, 'erin');
    const low = await connect(1, 'erin');
    const negative = await connect(2, 'erin');
    for (const client of [high, low, negative]) await enableCarbons(client);
    await announce(high, 5);
    await announce(low, 1);
    await announce(negative, -1);
    const frank = await connect(2, 'frank', { presence: true });

    frank.send(chat(`erin@${DOMAIN}`, 'to the bare JID'));
    await high.next(hasBody('to the bare JID'), 5000);
    await low.next(hasBody('to the bare JID'), 5000);
    await negative.next(isCarbon('received', 'to the bare JID'), 5000);
    await negative.nothing(hasBody('to the bare JID'), 300);
    await high.nothing(isCarbon('received', 'to the bare JID'), 300);

    frank.send(chat(low.jid.toString(), 'to one resource'));
    await low.next(hasBody('to one resource'), 5000);
    await high.next(isCarbon('received', 'to one resource'), 5000);
    await negative.next(isCarbon('received', 'to one resource'), 5000);

    high.send(chat(frank.jid.toString(), 'sent by erin'));
    await frank.next(hasBody('sent by erin'), 5000);
    await low.next(isCarbon('sent', 'sent by erin'), 5000);
    await negative.next(isCarbon('sent', 'sent by erin'), 5000);
  });

  it('carries an iq to a full JID and its result across nodes', async () => {
    const alice = await connect(0, 'alice', { presence: true });
    const bob = await connect(2, 'bob', { presence: true });

    const question = bob.next((el) => el.name === 'iq' && el.getChild('query', NS_TEST) !== undefined, 5000);
    const answer = alice.iq(x('iq', NS.CLIENT, { type: 'get', to: bob.jid.toString(), id: 'q1' }, x('query', NS_TEST)), 5000);
    const request = await question;
    expect(request.attr('from')).toBe(alice.jid.toString());
    bob.send(x('iq', NS.CLIENT, { type: 'result', to: request.attr('from'), id: request.attr('id') }, x('query', NS_TEST, {}, x('value', NS_TEST, {}, '42'))));
    const result = await answer;
    expect(result.attr('type')).toBe('result');
    expect(result.attr('from')).toBe(bob.jid.toString());
    expect(result.getChild('query', NS_TEST)?.getChildText('value', NS_TEST)).toBe('42');

    const missing = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: `bob@${DOMAIN}/nowhere` }, x('query', NS_TEST)), 5000);
    expect(missing.attr('type')).toBe('error');
    expect(missing.getChild('error', NS.CLIENT)?.getChild('service-unavailable', NS.STANZAS)).toBeDefined();
  });

  it('applies the local rules when a forwarded resource is gone', async () => {
    // A stale registry entry: the event claims that node 1 has a resource of nina's, which it does not have.
    const ghost = `nina@${DOMAIN}/ghost`;
    const { redis } = env;
    const entry = { priority: 10, available: true, since: Date.now() };
    await redis.publish('parley:cluster:events', JSON.stringify({ t: 'set', node: 'node-1', jid: ghost, entry }));
    const alice = await connect(0, 'alice', { presence: true });

    try {
      const error = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: ghost }, x('query', NS_TEST)), 5000);
      expect(error.attr('type')).toBe('error');
      expect(error.attr('from')).toBe(ghost);
      expect(error.getChild('error', NS.CLIENT)?.getChild('service-unavailable', NS.STANZAS)).toBeDefined();

      alice.send(chat(ghost, 'to the gone resource'));
      alice.send(chat(`nina@${DOMAIN}`, 'to the bare JID'));
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      await redis.publish('parley:cluster:events', JSON.stringify({ t: 'del', node: 'node-1', jid: ghost }));
    }

    const nina = await connect(2, 'nina', { presence: true });
    const offline = [await nina.next(hasBody('to the gone resource'), 5000), await nina.next(hasBody('to the bare JID'), 5000)];
    expect(offline.map((message) => message.attr('from'))).toEqual([alice.jid.toString(), alice.jid.toString()]);
    await nina.nothing((el) => el.name === 'message', 500);
  });

  it('replaces a resource bound on another node with conflict', async () => {
    const first = await connect(0, 'greg', { resource: 'desk', presence: true });
    const second = await connect(1, 'greg', { resource: 'desk', presence: true });
    expect(await first.streamError(5000)).toBe('conflict');

    const hana = await connect(2, 'hana', { presence: true });
    hana.send(chat(`greg@${DOMAIN}/desk`, 'after the conflict'));
    await second.next(hasBody('after the conflict'), 5000);
  });
});
