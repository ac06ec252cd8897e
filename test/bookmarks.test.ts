import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { type TestServer, startTestServer } from './support/server.js';
import type { TestClient } from './support/client.js';
import { PASSWORD, PUBSUB, errorCondition, eventEntry, getItems, isEvent, itemIds, online as connectOnline, publish, pubsubCondition, sharePresence } from './support/pep.js';

const DOMAIN = 'example.test';
const BOOKMARKS = 'urn:xmpp:bookmarks:1';
const LEGACY = 'storage:bookmarks';
const NOTIFY = `${BOOKMARKS}+notify`;

/** The publish options that XEP-0402 section 3.1 requires clients to send. */
const XEP_0402_OPTIONS = {
  'pubsub#persist_items': 'true',
  'pubsub#max_items': 'max',
  'pubsub#send_last_published_item': 'never',
  'pubsub#access_model': 'whitelist',
};

function conference(name: string, autojoin: boolean, nick?: string): Element {
  return x(
    'conference',
    BOOKMARKS,
    { name, autojoin: autojoin ? 'true' : 'false' },
    nick === undefined ? undefined : x('nick', BOOKMARKS, {}, nick),
    x('extensions', BOOKMARKS, {}, x('state', 'urn:example:client', {}, 'pinned')),
  );
}

function jid(username: string): string {
  return `${username}@${DOMAIN}`;
}

describe('native bookmarks', () => {
  let server: TestServer;
  let clients: TestClient[] = [];
  let accountCounter = 0;

  async function account(): Promise<string> {
    const username = `bm${++accountCounter}`;
    await server.createAccount(username, PASSWORD);
    return username;
  }

  async function online(username: string, features?: string[]): Promise<TestClient> {
    const client = await connectOnline(server, username, { features });
    clients.push(client);
    return client;
  }

  function privateGet(client: TestClient): Promise<Element> {
    return client.iq(x('iq', NS.CLIENT, { type: 'get' }, x('query', NS.PRIVATE, {}, x('storage', LEGACY))));
  }

  function privateSet(client: TestClient, storage: Element): Promise<Element> {
    return client.iq(x('iq', NS.CLIENT, { type: 'set' }, x('query', NS.PRIVATE, {}, storage)));
  }

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterEach(async () => {
    await Promise.all(clients.map((client) => client.close()));
    clients = [];
  });

  afterAll(async () => {
    await server.stop();
  });

  it('every own device gets the bookmark', async () => {
    const owner = await account();
    const laptop = await online(owner, [NOTIFY]);
    const phone = await online(owner, [NOTIFY]);
    const room = 'coven@conference.example.test';
    expect((await publish(laptop, BOOKMARKS, room, conference('The Coven', true, 'Alice'), XEP_0402_OPTIONS)).attr('type')).toBe('result');

    for (const client of [laptop, phone]) {
      const event = await client.next(isEvent(jid(owner), BOOKMARKS), 3000);
      const item = eventEntry(event);
      expect(item?.attr('id')).toBe(room);
      expect(item?.getChild('conference', BOOKMARKS)?.attr('autojoin')).toBe('true');
      expect(item?.getChild('conference', BOOKMARKS)?.getChildText('nick', BOOKMARKS)).toBe('Alice');
    }
  });

  it('contacts never see bookmarks', async () => {
    const [owner, contact] = [await account(), await account()];
    await sharePresence(server, owner, contact);
    const alice = await online(owner, [NOTIFY]);
    const bob = await online(contact, [NOTIFY]);
    await publish(alice, BOOKMARKS, 'room@conference.example.test', conference('Room', true), XEP_0402_OPTIONS);

    await alice.next(isEvent(jid(owner), BOOKMARKS), 3000);
    await bob.nothing(isEvent(jid(owner), BOOKMARKS), 500);
    const reply = await getItems(bob, BOOKMARKS, jid(owner));
    expect(errorCondition(reply)).toBe('not-allowed');
    expect(pubsubCondition(reply)).toBe('closed-node');
  });

  it('publish without options stays private', async () => {
    const [owner, contact] = [await account(), await account()];
    await sharePresence(server, owner, contact);
    const alice = await online(owner);
    expect((await publish(alice, BOOKMARKS, 'a@conference.example.test', conference('A', false))).attr('type')).toBe('result');
    expect(errorCondition(await getItems(await online(contact), BOOKMARKS, jid(owner)))).toBe('not-allowed');

    const precondition = await publish(alice, BOOKMARKS, 'b@conference.example.test', conference('B', false), XEP_0402_OPTIONS);
    expect(precondition.attr('type')).toBe('result');
  });

  it('keeps every room and no last item on login', async () => {
    const owner = await account();
    const alice = await online(owner);
    for (const room of ['one', 'two', 'three']) {
      await publish(alice, BOOKMARKS, `${room}@conference.example.test`, conference(room, true), XEP_0402_OPTIONS);
    }
    const items = await getItems(alice, BOOKMARKS);
    expect(itemIds(items)).toEqual(['one@conference.example.test', 'two@conference.example.test', 'three@conference.example.test']);

    const phone = await online(owner, [NOTIFY]);
    await phone.nothing(isEvent(jid(owner), BOOKMARKS), 500);
  });

  it('retract reaches other devices', async () => {
    const owner = await account();
    const laptop = await online(owner, [NOTIFY]);
    const phone = await online(owner, [NOTIFY]);
    const room = 'leave@conference.example.test';
    await publish(laptop, BOOKMARKS, room, conference('Leave', true), XEP_0402_OPTIONS);
    await phone.next(isEvent(jid(owner), BOOKMARKS), 3000);

    const retract = x('retract', PUBSUB, { node: BOOKMARKS, notify: 'true' }, x('item', PUBSUB, { id: room }));
    expect((await laptop.iq(x('iq', NS.CLIENT, { type: 'set' }, x('pubsub', PUBSUB, {}, retract)))).attr('type')).toBe('result');
    const event = await phone.next(isEvent(jid(owner), BOOKMARKS), 3000);
    expect(eventEntry(event)?.name).toBe('retract');
    expect(eventEntry(event)?.attr('id')).toBe(room);
  });

  describe('compat with private storage', () => {
    it('native bookmarks appear in private storage', async () => {
      const alice = await online(await account());
      await publish(alice, BOOKMARKS, 'pep@conference.example.test', conference('From PEP', true, 'Al'), XEP_0402_OPTIONS);

      const storage = (await privateGet(alice)).getChild('query', NS.PRIVATE)?.getChild('storage', LEGACY);
      const legacy = storage?.getChildren('conference', LEGACY) ?? [];
      expect(legacy.map((el) => el.attr('jid'))).toEqual(['pep@conference.example.test']);
      expect(legacy[0]?.attr('autojoin')).toBe('true');
      expect(legacy[0]?.attr('name')).toBe('From PEP');
      expect(legacy[0]?.getChildText('nick', LEGACY)).toBe('Al');
    });

    it('private storage changes reach PEP', async () => {
      const owner = await account();
      const legacyClient = await online(owner);
      const modern = await online(owner, [NOTIFY]);
      await publish(modern, BOOKMARKS, 'kept@conference.example.test', conference('Kept', true), XEP_0402_OPTIONS);
      await publish(modern, BOOKMARKS, 'dropped@conference.example.test', conference('Dropped', true), XEP_0402_OPTIONS);
      await modern.next(isEvent(jid(owner), BOOKMARKS), 3000);
      await modern.next(isEvent(jid(owner), BOOKMARKS), 3000);

      const storage = x(
        'storage',
        LEGACY,
        {},
        x('conference', LEGACY, { jid: 'kept@conference.example.test', name: 'Kept', autojoin: 'true' }),
        x('conference', LEGACY, { jid: 'added@conference.example.test', name: 'Added', autojoin: '1' }, x('nick', LEGACY, {}, 'Old')),
        x('url', LEGACY, { name: 'Site', url: 'https://example.test/' }),
      );
      expect((await privateSet(legacyClient, storage)).attr('type')).toBe('result');

      const added = await modern.next(isEvent(jid(owner), BOOKMARKS), 3000);
      expect(eventEntry(added)?.attr('id')).toBe('added@conference.example.test');
      expect(eventEntry(added)?.getChild('conference', BOOKMARKS)?.getChildText('nick', BOOKMARKS)).toBe('Old');
      const removed = await modern.next(isEvent(jid(owner), BOOKMARKS), 3000);
      expect(eventEntry(removed)?.name).toBe('retract');
      expect(eventEntry(removed)?.attr('id')).toBe('dropped@conference.example.test');
      // The unchanged conference gets no notification (XEP-0402 section 5.3).
      await modern.nothing(isEvent(jid(owner), BOOKMARKS), 300);

      const items = await getItems(modern, BOOKMARKS);
      expect(itemIds(items).sort()).toEqual(['added@conference.example.test', 'kept@conference.example.test']);
      const kept = items.getChild('pubsub', PUBSUB)?.getChild('items', PUBSUB)?.getChildren('item', PUBSUB).find((item) => item.attr('id') === 'kept@conference.example.test');
      expect(kept?.getChild('conference', BOOKMARKS)?.getChild('extensions', BOOKMARKS)).toBeDefined();

      // A later PEP change keeps the XEP-0048 URL bookmark.
      await publish(modern, BOOKMARKS, 'third@conference.example.test', conference('Third', false), XEP_0402_OPTIONS);
      const legacy = (await privateGet(legacyClient)).getChild('query', NS.PRIVATE)?.getChild('storage', LEGACY);
      expect(legacy?.getChildren('url', LEGACY).map((el) => el.attr('url'))).toEqual(['https://example.test/']);
      expect(legacy?.getChildren('conference', LEGACY)).toHaveLength(3);
    });
  });

  it('bookmarks survive a restart', async () => {
    const owner = await account();
    const alice = await online(owner);
    await publish(alice, BOOKMARKS, 'durable@conference.example.test', conference('Durable', true), XEP_0402_OPTIONS);
    await alice.close();
    clients = [];

    await server.restart();
    const again = await online(owner);
    expect(itemIds(await getItems(again, BOOKMARKS))).toEqual(['durable@conference.example.test']);
  });
});
