import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NS, x } from '@parley/xmpp';
import { deleteAccount } from '../packages/server/src/accounts.js';
import { type TestServer, startTestServer } from './support/server.js';
import type { TestClient } from './support/client.js';
import {
  PASSWORD,
  announcedCaps,
  PUBSUB,
  PUBSUB_EVENT,
  PUBSUB_OWNER,
  errorCondition,
  eventEntry,
  form,
  getItems,
  isEvent,
  itemIds,
  online as connectOnline,
  ownerSet,
  publish,
  pubsubCondition,
  sharePresence,
} from './support/pep.js';

const DOMAIN = 'example.test';
const TUNE = 'http://jabber.org/protocol/tune';
const NICK = 'http://jabber.org/protocol/nick';
const NODE_CONFIG = `${PUBSUB}#node_config`;

function tune(title: string) {
  return x('tune', TUNE, {}, x('title', TUNE, {}, title));
}

function jid(username: string): string {
  return `${username}@${DOMAIN}`;
}

describe('PEP', () => {
  let server: TestServer;
  let clients: TestClient[] = [];
  let accountCounter = 0;

  /** Creates a fresh account, so that tests do not share nodes or rosters. */
  async function account(): Promise<string> {
    const username = `user${++accountCounter}`;
    await server.createAccount(username, PASSWORD);
    return username;
  }

  async function online(username: string, features?: string[], resource?: string): Promise<TestClient> {
    const client = await connectOnline(server, username, { features, resource });
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    server = await startTestServer({ pep: { max_item_bytes: 2048, max_items_per_node: 5, max_nodes_per_account: 4 } });
  });

  afterEach(async () => {
    await Promise.all(clients.map((client) => client.close()));
    clients = [];
  });

  afterAll(async () => {
    await server.stop();
  });

  describe('discovery', () => {
    it('account shows pep identity', async () => {
      const alice = await online(await account());
      const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: alice.jid.bare().toString() }, x('query', NS.DISCO_INFO)));
      const query = reply.getChild('query', NS.DISCO_INFO)!;
      const identities = query.getChildren('identity', NS.DISCO_INFO).map((el) => `${el.attr('category')}/${el.attr('type')}`);
      const features = query.getChildren('feature', NS.DISCO_INFO).map((el) => el.attr('var'));
      expect(identities).toContain('pubsub/pep');
      expect(features).toContain(`${PUBSUB}#publish-options`);
      expect(features).toContain(`${PUBSUB}#auto-create`);
      expect(features).toContain('urn:xmpp:bookmarks:1#compat');
    });

    it('items list nodes by access', async () => {
      const [owner, contact] = [await account(), await account()];
      await sharePresence(server, owner, contact);
      const alice = await online(owner);
      expect((await publish(alice, TUNE, 'a', tune('x'))).attr('type')).toBe('result');
      expect((await publish(alice, 'private-node', 'a', tune('y'), { 'pubsub#access_model': 'whitelist' })).attr('type')).toBe('result');
      expect((await publish(alice, 'open-node', 'a', tune('z'), { 'pubsub#access_model': 'open' })).attr('type')).toBe('result');

      const nodesFor = async (client: TestClient) => {
        const reply = await client.iq(x('iq', NS.CLIENT, { type: 'get', to: jid(owner) }, x('query', NS.DISCO_ITEMS)));
        return (reply.getChild('query', NS.DISCO_ITEMS)?.getChildren('item', NS.DISCO_ITEMS) ?? []).map((item) => item.attr('node')).sort();
      };
      expect(await nodesFor(alice)).toEqual([TUNE, 'open-node', 'private-node']);
      expect(await nodesFor(await online(contact))).toEqual([TUNE, 'open-node']);
      expect(await nodesFor(await online(await account()))).toEqual(['open-node']);
    });
  });

  describe('publish and retrieve', () => {
    it('publish auto-creates the node', async () => {
      const alice = await online(await account());
      const reply = await publish(alice, TUNE, 'song1', tune('Yesterday'));
      expect(reply.attr('type')).toBe('result');
      expect(reply.getChild('pubsub', PUBSUB)?.getChild('publish', PUBSUB)?.getChild('item', PUBSUB)?.attr('id')).toBe('song1');

      const items = await getItems(alice, TUNE);
      expect(itemIds(items)).toEqual(['song1']);
      const payload = items.getChild('pubsub', PUBSUB)?.getChild('items', PUBSUB)?.getChild('item', PUBSUB)?.getChild('tune', TUNE);
      expect(payload?.getChildText('title', TUNE)).toBe('Yesterday');
    });

    it('publish without id gets one', async () => {
      const alice = await online(await account());
      const reply = await publish(alice, NICK, undefined, x('nick', NICK, {}, 'Alice'));
      const id = reply.getChild('pubsub', PUBSUB)?.getChild('publish', PUBSUB)?.getChild('item', PUBSUB)?.attr('id');
      expect(id).toMatch(/.+/);
      expect(itemIds(await getItems(alice, NICK))).toEqual([id]);
    });

    it('max_items keeps the newest', async () => {
      const alice = await online(await account());
      expect((await publish(alice, 'feed', 'a', tune('1'), { 'pubsub#max_items': '2' })).attr('type')).toBe('result');
      await publish(alice, 'feed', 'b', tune('2'));
      await publish(alice, 'feed', 'c', tune('3'));
      expect(itemIds(await getItems(alice, 'feed'))).toEqual(['b', 'c']);
      expect(itemIds(await getItems(alice, 'feed', undefined, { max_items: '1' }))).toEqual(['c']);
      expect(itemIds(await getItems(alice, 'feed', undefined, {}, ['b', 'missing']))).toEqual(['b']);
    });

    it('same id replaces and becomes newest', async () => {
      const alice = await online(await account());
      await publish(alice, 'feed2', 'a', tune('1'), { 'pubsub#max_items': '3' });
      await publish(alice, 'feed2', 'b', tune('2'));
      await publish(alice, 'feed2', 'a', tune('3'));
      expect(itemIds(await getItems(alice, 'feed2'))).toEqual(['b', 'a']);
    });

    it('missing node is item-not-found', async () => {
      const alice = await online(await account());
      expect(errorCondition(await getItems(alice, 'nothing-here'))).toBe('item-not-found');
      expect(errorCondition(await getItems(alice, 'feed', undefined, {}, ['x']))).toBe('item-not-found');
    });

    it('invalid publish requests', async () => {
      const alice = await online(await account());
      const noItem = await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, x('pubsub', PUBSUB, {}, x('publish', PUBSUB, { node: TUNE }))));
      expect(errorCondition(noItem)).toBe('bad-request');
      expect(pubsubCondition(noItem)).toBe('item-required');

      const twoPayloads = x('item', PUBSUB, { id: 'a' }, tune('1'), tune('2'));
      const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, x('pubsub', PUBSUB, {}, x('publish', PUBSUB, { node: TUNE }, twoPayloads))));
      expect(pubsubCondition(reply)).toBe('invalid-payload');

      const noNode = await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, x('pubsub', PUBSUB, {}, x('publish', PUBSUB, {}, x('item', PUBSUB, {}, tune('1'))))));
      expect(pubsubCondition(noNode)).toBe('nodeid-required');
    });

    it('others cannot publish', async () => {
      const [owner, other] = [await account(), await account()];
      await sharePresence(server, owner, other);
      const bob = await online(other);
      const reply = await publish(bob, TUNE, 'a', tune('x'), undefined, jid(owner));
      expect(errorCondition(reply)).toBe('forbidden');
    });
  });

  describe('publish-options', () => {
    it('precondition mismatch is rejected', async () => {
      const alice = await online(await account());
      expect((await publish(alice, 'prefs', 'a', tune('1'), { 'pubsub#access_model': 'whitelist', 'pubsub#persist_items': 'true' })).attr('type')).toBe('result');

      const mismatch = await publish(alice, 'prefs', 'b', tune('2'), { 'pubsub#access_model': 'presence' });
      expect(errorCondition(mismatch)).toBe('conflict');
      expect(pubsubCondition(mismatch)).toBe('precondition-not-met');

      const unknown = await publish(alice, 'prefs', 'b', tune('2'), { 'pubsub#no_such_option': '1' });
      expect(pubsubCondition(unknown)).toBe('precondition-not-met');
    });

    it('equal values in other spellings match', async () => {
      const alice = await online(await account());
      await publish(alice, 'prefs2', 'a', tune('1'), { 'pubsub#persist_items': 'true', 'pubsub#max_items': 'max' });
      const reply = await publish(alice, 'prefs2', 'b', tune('2'), { 'pubsub#persist_items': '1', 'pubsub#max_items': '5' });
      expect(reply.attr('type')).toBe('result');
      expect(itemIds(await getItems(alice, 'prefs2'))).toEqual(['a', 'b']);
    });

    it('send_last_published_item never', async () => {
      const owner = await account();
      const alice = await online(owner);
      await publish(alice, 'quiet', 'a', tune('1'), { 'pubsub#send_last_published_item': 'never' });
      await publish(alice, 'loud', 'a', tune('1'));
      const again = await online(owner, ['quiet+notify', 'loud+notify']);
      expect(await again.next(isEvent(jid(owner), 'loud'), 3000)).toBeDefined();
      await again.nothing(isEvent(jid(owner), 'quiet'), 500);
    });
  });

  describe('notifications', () => {
    it('own resources with +notify get them', async () => {
      const owner = await account();
      const first = await online(owner, [`${TUNE}+notify`]);
      const second = await online(owner, [`${TUNE}+notify`]);
      const without = await online(owner, []);
      await publish(first, TUNE, 'n1', tune('Help'));

      for (const client of [first, second]) {
        const event = await client.next(isEvent(jid(owner), TUNE), 3000);
        expect(event.attr('type')).toBe('headline');
        expect(eventEntry(event)?.getChild('tune', TUNE)?.getChildText('title', TUNE)).toBe('Help');
      }
      await without.nothing(isEvent(jid(owner), TUNE), 500);
    });

    it('contact with +notify gets them', async () => {
      const [owner, contact] = [await account(), await account()];
      await sharePresence(server, owner, contact);
      const alice = await online(owner);
      const bob = await online(contact, [`${TUNE}+notify`]);
      await publish(alice, TUNE, 'n2', tune('Something'));

      const event = await bob.next(isEvent(jid(owner), TUNE), 3000);
      expect(event.attr('to')).toBe(bob.jid.toString());
      expect(eventEntry(event)?.attr('id')).toBe('n2');
      const replyTo = event.getChild('addresses', 'http://jabber.org/protocol/address')?.getChild('address', 'http://jabber.org/protocol/address');
      expect(replyTo?.attr('jid')).toBe(alice.jid.toString());
    });

    it('contact without +notify gets none', async () => {
      const [owner, contact] = [await account(), await account()];
      await sharePresence(server, owner, contact);
      const alice = await online(owner);
      const bob = await online(contact, ['urn:example:other+notify']);
      const carol = await online(contact);
      await publish(alice, TUNE, 'n3', tune('Silence'));
      await bob.nothing(isEvent(jid(owner), TUNE), 700);
      await carol.nothing(isEvent(jid(owner), TUNE), 10);
    });

    it('unverified caps apply per session', async () => {
      const [owner, contact] = [await account(), await account()];
      await sharePresence(server, owner, contact);
      const alice = await online(owner);
      const bob = await connectOnline(server, contact, { features: [`${TUNE}+notify`], wrongVer: true });
      clients.push(bob);
      await publish(alice, TUNE, 'n4', tune('Unverified'));
      expect(await bob.next(isEvent(jid(owner), TUNE), 3000)).toBeDefined();
    });

    it('stranger and blocked contact get none', async () => {
      const [owner, contact, stranger] = [await account(), await account(), await account()];
      await sharePresence(server, owner, contact);
      const alice = await online(owner);
      const bob = await online(contact, [`${TUNE}+notify`]);
      const eve = await online(stranger, [`${TUNE}+notify`]);
      const block = x('block', 'urn:xmpp:blocking', {}, x('item', 'urn:xmpp:blocking', { jid: jid(contact) }));
      expect((await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, block))).attr('type')).toBe('result');

      await publish(alice, TUNE, 'n5', tune('Private'));
      await bob.nothing(isEvent(jid(owner), TUNE), 700);
      await eve.nothing(isEvent(jid(owner), TUNE), 10);
    });

    it('retract notifies', async () => {
      const [owner, contact] = [await account(), await account()];
      await sharePresence(server, owner, contact);
      const alice = await online(owner);
      const bob = await online(contact, [`${TUNE}+notify`]);
      await publish(alice, TUNE, 'r1', tune('Gone soon'));
      await bob.next(isEvent(jid(owner), TUNE), 3000);

      const retract = x('retract', PUBSUB, { node: TUNE, notify: 'true' }, x('item', PUBSUB, { id: 'r1' }));
      expect((await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, x('pubsub', PUBSUB, {}, retract)))).attr('type')).toBe('result');
      const event = await bob.next(isEvent(jid(owner), TUNE), 3000);
      expect(eventEntry(event)?.name).toBe('retract');
      expect(eventEntry(event)?.attr('id')).toBe('r1');
      expect(itemIds(await getItems(alice, TUNE))).toEqual([]);

      const again = await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, x('pubsub', PUBSUB, {}, retract)));
      expect(errorCondition(again)).toBe('item-not-found');
    });
  });

  describe('last published item', () => {
    it('contact gets it on presence', async () => {
      const [owner, contact] = [await account(), await account()];
      await sharePresence(server, owner, contact);
      const alice = await online(owner);
      await publish(alice, TUNE, 'l1', tune('Old one'));
      await publish(alice, TUNE, 'l2', tune('Last one'));

      const bob = await online(contact, [`${TUNE}+notify`]);
      const event = await bob.next(isEvent(jid(owner), TUNE), 3000);
      expect(eventEntry(event)?.attr('id')).toBe('l2');
      expect(event.getChild('delay', NS.DELAY)?.attr('stamp')).toMatch(/^\d{4}-/);
    });

    it('own new session gets it', async () => {
      const owner = await account();
      const alice = await online(owner);
      await publish(alice, NICK, 'current', x('nick', NICK, {}, 'Ally'));
      const phone = await online(owner, [`${NICK}+notify`]);
      const event = await phone.next(isEvent(jid(owner), NICK), 3000);
      expect(eventEntry(event)?.getChildText('nick', NICK)).toBe('Ally');
    });

    it('late contact gets item once', async () => {
      const [owner, contact] = [await account(), await account()];
      await sharePresence(server, owner, contact);
      const alice = await online(owner);

      // Slow storage: the publish must still choose its recipients before it sends the result.
      const { roster } = server.server.storage;
      const listSubscribers = roster.listSubscribers.bind(roster);
      roster.listSubscribers = async (...args) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return listSubscribers(...args);
      };
      try {
        expect((await publish(alice, TUNE, 'late1', tune('Late'))).attr('type')).toBe('result');
      } finally {
        roster.listSubscribers = listSubscribers;
      }
      const bob = await online(contact, [`${TUNE}+notify`]);
      const last = await bob.next(isEvent(jid(owner), TUNE), 3000);
      expect(last.getChild('delay', NS.DELAY)).toBeDefined();
      await bob.nothing(isEvent(jid(owner), TUNE), 600);
    });

    it('not sent again on presence update', async () => {
      const [owner, contact] = [await account(), await account()];
      await sharePresence(server, owner, contact);
      const alice = await online(owner);
      await publish(alice, TUNE, 'u1', tune('Once'));
      const bob = await online(contact, [`${TUNE}+notify`]);
      await bob.next(isEvent(jid(owner), TUNE), 3000);

      // The same caps again, as a client sends with every presence change.
      bob.send(x('presence', NS.CLIENT, {}, x('show', NS.CLIENT, {}, 'away'), announcedCaps.get(bob)!.clone()));
      await bob.nothing(isEvent(jid(owner), TUNE), 500);
    });
  });

  describe('access', () => {
    it('non-contact is refused', async () => {
      const [owner, stranger] = [await account(), await account()];
      const alice = await online(owner);
      await publish(alice, TUNE, 'a1', tune('Mine'));
      const eve = await online(stranger);
      const reply = await getItems(eve, TUNE, jid(owner));
      expect(errorCondition(reply)).toBe('not-authorized');
      expect(pubsubCondition(reply)).toBe('presence-subscription-required');
    });

    it('contact reads presence node', async () => {
      const [owner, contact] = [await account(), await account()];
      await sharePresence(server, owner, contact);
      const alice = await online(owner);
      await publish(alice, TUNE, 'a2', tune('Shared'));
      const bob = await online(contact);
      expect(itemIds(await getItems(bob, TUNE, jid(owner)))).toEqual(['a2']);
    });

    it('whitelist refuses contacts', async () => {
      const [owner, contact] = [await account(), await account()];
      await sharePresence(server, owner, contact);
      const alice = await online(owner);
      await publish(alice, 'secret', 'a3', tune('Hidden'), { 'pubsub#access_model': 'whitelist' });
      const bob = await online(contact);
      const reply = await getItems(bob, 'secret', jid(owner));
      expect(errorCondition(reply)).toBe('not-allowed');
      expect(pubsubCondition(reply)).toBe('closed-node');
    });

    it('roster groups decide', async () => {
      const [owner, friend, colleague] = [await account(), await account(), await account()];
      await sharePresence(server, owner, friend, ['Friends']);
      await sharePresence(server, owner, colleague, ['Work']);
      const alice = await online(owner);
      const config = form(`${PUBSUB}#publish-options`, 'submit', { 'pubsub#access_model': 'roster', 'pubsub#roster_groups_allowed': ['Friends'] });
      const pubsub = x('pubsub', PUBSUB, {}, x('publish', PUBSUB, { node: 'party' }, x('item', PUBSUB, { id: 'p' }, tune('Invite'))), x('publish-options', PUBSUB, {}, config));
      expect((await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, pubsub))).attr('type')).toBe('result');

      expect(itemIds(await getItems(await online(friend), 'party', jid(owner)))).toEqual(['p']);
      const refused = await getItems(await online(colleague), 'party', jid(owner));
      expect(errorCondition(refused)).toBe('not-authorized');
      expect(pubsubCondition(refused)).toBe('not-in-roster-group');
    });

    it('open node is readable by anyone', async () => {
      const [owner, stranger] = [await account(), await account()];
      const alice = await online(owner);
      await publish(alice, 'public', 'o1', tune('Hello world'), { 'pubsub#access_model': 'open' });
      expect(itemIds(await getItems(await online(stranger), 'public', jid(owner)))).toEqual(['o1']);
    });
  });

  describe('owner use cases', () => {
    it('configure get and set', async () => {
      const alice = await online(await account());
      await publish(alice, 'conf', 'a', tune('1'));
      const get = await alice.iq(x('iq', NS.CLIENT, { type: 'get' }, x('pubsub', PUBSUB_OWNER, {}, x('configure', PUBSUB_OWNER, { node: 'conf' }))));
      const fields = get.getChild('pubsub', PUBSUB_OWNER)?.getChild('configure', PUBSUB_OWNER)?.getChild('x', NS.DATA_FORMS)?.getChildren('field', NS.DATA_FORMS) ?? [];
      const access = fields.find((field) => field.attr('var') === 'pubsub#access_model');
      expect(access?.getChildText('value', NS.DATA_FORMS)).toBe('presence');

      const set = x('configure', PUBSUB_OWNER, { node: 'conf' }, form(NODE_CONFIG, 'submit', { 'pubsub#access_model': 'open', 'pubsub#max_items': '3' }));
      expect((await ownerSet(alice, set)).attr('type')).toBe('result');
      const precondition = await publish(alice, 'conf', 'b', tune('2'), { 'pubsub#access_model': 'open', 'pubsub#max_items': '3' });
      expect(precondition.attr('type')).toBe('result');

      const invalid = x('configure', PUBSUB_OWNER, { node: 'conf' }, form(NODE_CONFIG, 'submit', { 'pubsub#access_model': 'everyone' }));
      expect(errorCondition(await ownerSet(alice, invalid))).toBe('not-acceptable');
    });

    it('purge and delete', async () => {
      const [owner, contact] = [await account(), await account()];
      await sharePresence(server, owner, contact);
      const alice = await online(owner);
      const bob = await online(contact, [`${TUNE}+notify`]);
      await publish(alice, TUNE, 'd1', tune('1'));
      await bob.next(isEvent(jid(owner), TUNE), 3000);

      expect(errorCondition(await ownerSet(bob, x('purge', PUBSUB_OWNER, { node: TUNE }), jid(owner)))).toBe('forbidden');
      expect(errorCondition(await ownerSet(bob, x('delete', PUBSUB_OWNER, { node: TUNE }), jid(owner)))).toBe('forbidden');

      expect((await ownerSet(alice, x('purge', PUBSUB_OWNER, { node: TUNE }))).attr('type')).toBe('result');
      expect((await bob.next(isEvent(jid(owner), TUNE), 3000)).getChild('event', PUBSUB_EVENT)?.getChild('purge', PUBSUB_EVENT)).toBeDefined();
      expect(itemIds(await getItems(alice, TUNE))).toEqual([]);

      expect((await ownerSet(alice, x('delete', PUBSUB_OWNER, { node: TUNE }))).attr('type')).toBe('result');
      expect((await bob.next(isEvent(jid(owner), TUNE), 3000)).getChild('event', PUBSUB_EVENT)?.getChild('delete', PUBSUB_EVENT)).toBeDefined();
      expect(errorCondition(await getItems(alice, TUNE))).toBe('item-not-found');
      expect(errorCondition(await ownerSet(alice, x('delete', PUBSUB_OWNER, { node: TUNE })))).toBe('item-not-found');
    });

    it('create node explicitly', async () => {
      const alice = await online(await account());
      const create = () => alice.iq(x('iq', NS.CLIENT, { type: 'set' }, x('pubsub', PUBSUB, {}, x('create', PUBSUB, { node: 'made' }))));
      expect((await create()).attr('type')).toBe('result');
      expect(errorCondition(await create())).toBe('conflict');
      expect(itemIds(await getItems(alice, 'made'))).toEqual([]);
    });
  });

  describe('limits', () => {
    it('payload too big', async () => {
      const alice = await online(await account());
      const reply = await publish(alice, TUNE, 'big', tune('x'.repeat(3000)));
      expect(errorCondition(reply)).toBe('not-acceptable');
      expect(pubsubCondition(reply)).toBe('payload-too-big');
    });

    it('nodes per account', async () => {
      const alice = await online(await account());
      for (let i = 0; i < 4; i++) expect((await publish(alice, `node${i}`, 'a', tune('1'))).attr('type')).toBe('result');
      const reply = await publish(alice, 'node4', 'a', tune('1'));
      expect(errorCondition(reply)).toBe('not-allowed');
      expect(pubsubCondition(reply)).toBe('max-nodes-exceeded');
      expect((await publish(alice, 'node0', 'b', tune('2'))).attr('type')).toBe('result');
    });

    it('items per node', async () => {
      const alice = await online(await account());
      expect(pubsubCondition(await publish(alice, 'many', 'a', tune('1'), { 'pubsub#max_items': '6' }))).toBe('precondition-not-met');
      await publish(alice, 'many', 'i0', tune('0'), { 'pubsub#max_items': 'max' });
      for (let i = 1; i < 8; i++) await publish(alice, 'many', `i${i}`, tune(String(i)));
      expect(itemIds(await getItems(alice, 'many'))).toEqual(['i3', 'i4', 'i5', 'i6', 'i7']);
    });
  });

  it('nodes survive a restart', async () => {
    const owner = await account();
    const alice = await online(owner);
    await publish(alice, 'durable', 'k1', tune('Kept'), { 'pubsub#access_model': 'whitelist' });
    await alice.close();
    clients = [];

    await server.restart();
    const again = await online(owner);
    expect(itemIds(await getItems(again, 'durable'))).toEqual(['k1']);
    const mismatch = await publish(again, 'durable', 'k2', tune('x'), { 'pubsub#access_model': 'presence' });
    expect(pubsubCondition(mismatch)).toBe('precondition-not-met');
  });

  it('account deletion removes nodes', async () => {
    const owner = await account();
    const alice = await online(owner);
    await publish(alice, TUNE, 'z', tune('Bye'));
    await alice.close();
    clients = [];

    await deleteAccount(server.server, owner);
    expect(await server.server.storage.pep.listNodes(DOMAIN, owner)).toEqual([]);
  });
});
