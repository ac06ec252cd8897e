import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '../packages/xmpp/src/index.js';
import { capsHash } from '../packages/server/src/modules/disco/caps.js';
import { TestClient } from './support/client.js';
import { befriend, useTestCluster } from './support/cluster.js';
import { NS_PARLEY_INBOX, isPush } from './support/inbox.js';
import { PUBSUB, PUBSUB_EVENT, clientInfo } from './support/pep.js';

const DOMAIN = 'example.test';
const NS_BLOCKING = 'urn:xmpp:blocking';
const TUNE = 'http://jabber.org/protocol/tune';
const CAPS_NODE = 'https://cluster-test.parley.im';
const WAIT_MS = 5000;
const QUIET_MS = 700;
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'gina', 'hugo'];

const env = useTestCluster(3, USERS);
const connect = (node: number, user: string) => env.connect(node, user);

function bare(user: string): string {
  return `${user}@${DOMAIN}`;
}

function isIqSet(child: string, ns: string): (el: Element) => boolean {
  return (el) => el.name === 'iq' && el.attr('type') === 'set' && el.getChild(child, ns) !== undefined;
}

/** Announces caps with `features` and replies to the server's disco#info query about them. */
async function announceCaps(client: TestClient, features: string[]): Promise<void> {
  const info = clientInfo(`cluster client ${client.jid.resource}`, features);
  const query = client.next((el) => el.name === 'iq' && el.attr('type') === 'get' && el.getChild('query', NS.DISCO_INFO)?.attr('node')?.startsWith(`${CAPS_NODE}#`) === true, WAIT_MS);
  client.send(x('presence', NS.CLIENT, {}, x('c', NS.CAPS, { hash: 'sha-1', node: CAPS_NODE, ver: capsHash(info) })));
  const request = await query;
  const reply = clientInfo(`cluster client ${client.jid.resource}`, features, request.getChild('query', NS.DISCO_INFO)?.attr('node'));
  client.send(x('iq', NS.CLIENT, { type: 'result', id: request.attr('id'), to: request.attr('from') }, reply));
  await client.ping();
}

describe('pushes to an account on several nodes', () => {
  it('roster push reaches other node', async () => {
    const desk = await connect(0, 'alice');
    const phone = await connect(1, 'alice');
    await phone.iq(x('iq', NS.CLIENT, { type: 'get' }, x('query', NS.ROSTER)));

    const push = phone.next(isIqSet('query', NS.ROSTER), WAIT_MS);
    const set = x('iq', NS.CLIENT, { type: 'set' }, x('query', NS.ROSTER, {}, x('item', NS.ROSTER, { jid: bare('carol'), name: 'Carol' })));
    expect((await desk.iq(set)).attr('type')).toBe('result');
    expect((await push).getChild('query', NS.ROSTER)?.getChild('item', NS.ROSTER)?.attr('name')).toBe('Carol');
  });

  it('block applies on every node', async () => {
    const desk = await connect(0, 'bob');
    const phone = await connect(1, 'bob');
    const dave = await connect(2, 'dave');
    await phone.iq(x('iq', NS.CLIENT, { type: 'get' }, x('blocklist', NS_BLOCKING)));

    // Node 2 reads bob's block list once, so that a stale copy would let the next message through.
    dave.send(x('message', NS.CLIENT, { to: bare('bob'), type: 'chat' }, x('body', NS.CLIENT, {}, 'before')));
    await desk.next((el) => el.getChildText('body', NS.CLIENT) === 'before', WAIT_MS);

    const push = phone.next(isIqSet('block', NS_BLOCKING), WAIT_MS);
    const block = x('iq', NS.CLIENT, { type: 'set' }, x('block', NS_BLOCKING, {}, x('item', NS_BLOCKING, { jid: bare('dave') })));
    const blocked = await desk.iq(block);
    expect(blocked.attr('type')).toBe('result');
    expect((await push).getChild('block', NS_BLOCKING)?.getChild('item', NS_BLOCKING)?.attr('jid')).toBe(bare('dave'));

    await dave.ping();
    dave.send(x('message', NS.CLIENT, { to: bare('bob'), type: 'chat', id: 'blocked' }, x('body', NS.CLIENT, {}, 'after')));
    const bounce = await dave.next((el) => el.attr('id') === 'blocked' && el.attr('type') === 'error', WAIT_MS);
    expect(bounce.getChild('error')).toBeDefined();
    await desk.nothing((el) => el.getChildText('body', NS.CLIENT) === 'after', QUIET_MS);
    await phone.nothing((el) => el.getChildText('body', NS.CLIENT) === 'after', QUIET_MS);
  });

  it('inbox pushes reach every node', async () => {
    const desk = await connect(0, 'carol');
    const phone = await connect(1, 'carol');
    const erin = await connect(2, 'erin');
    for (const client of [desk, phone]) await client.iq(x('iq', NS.CLIENT, { type: 'set' }, x('enable', NS_PARLEY_INBOX)));

    const pushes = [desk, phone].map((client) => client.next(isPush(bare('erin')), WAIT_MS));
    erin.send(x('message', NS.CLIENT, { to: bare('carol'), type: 'chat' }, x('body', NS.CLIENT, {}, 'hello')));
    for (const push of await Promise.all(pushes)) expect(push.attr('from')).toBe(bare('carol'));
  });

  it('PEP notification reaches contact elsewhere', async () => {
    const frank = await connect(0, 'frank');
    const gina = await connect(1, 'gina');
    await befriend(frank, gina);
    await announceCaps(gina, [`${TUNE}+notify`]);

    const event = gina.next((el) => el.attr('from') === bare('frank') && el.getChild('event', PUBSUB_EVENT) !== undefined, WAIT_MS);
    const item = x('item', PUBSUB, { id: 'now' }, x('tune', TUNE, {}, x('title', TUNE, {}, 'Across nodes')));
    const reply = await frank.iq(x('iq', NS.CLIENT, { type: 'set' }, x('pubsub', PUBSUB, {}, x('publish', PUBSUB, { node: TUNE }, item))));
    expect(reply.attr('type')).toBe('result');
    const items = (await event).getChild('event', PUBSUB_EVENT)?.getChild('items', PUBSUB_EVENT);
    expect(items?.getChild('item', PUBSUB_EVENT)?.attr('id')).toBe('now');
  });

  it('new photo hash stamped on every node', async () => {
    const desk = await connect(0, 'hugo');
    const phone = await connect(2, 'hugo');
    const photo = x('PHOTO', NS.VCARD, {}, x('TYPE', NS.VCARD, {}, 'image/png'), x('BINVAL', NS.VCARD, {}, Buffer.from('not really a png').toString('base64')));

    const fromPhone = desk.next((el) => el.name === 'presence' && el.attr('from') === phone.jid.toString() && el.getChild('x', NS.VCARD_UPDATE)?.getChildText('photo', NS.VCARD_UPDATE) !== '', WAIT_MS);
    expect((await desk.iq(x('iq', NS.CLIENT, { type: 'set' }, x('vCard', NS.VCARD, {}, photo)))).attr('type')).toBe('result');
    const hash = (await fromPhone).getChild('x', NS.VCARD_UPDATE)?.getChildText('photo', NS.VCARD_UPDATE);
    expect(hash).toMatch(/^[0-9a-f]{40}$/);
  });
});
