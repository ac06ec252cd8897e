import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, readStanzaErrorCondition, x } from '@parley/xmpp';
import { type TestServer, startTestServer } from './support/server.js';
import { TestClient } from './support/client.js';

const PASSWORD = 'secret-pw';
const PREFS = 'exodus:prefs';
const BOOKMARKS = 'storage:bookmarks';

function errorCondition(reply: Element): string | undefined {
  const error = reply.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

function query(...children: (Element | string)[]): Element {
  return x('query', NS.PRIVATE, {}, ...children);
}

function prefs(nick?: string): Element {
  return x('exodus', PREFS, {}, nick === undefined ? undefined : x('defaultnick', PREFS, {}, nick));
}

describe('private XML storage', () => {
  let server: TestServer;
  const clients: TestClient[] = [];

  async function connect(username: string): Promise<TestClient> {
    const client = await TestClient.connect(server, { username, password: PASSWORD });
    clients.push(client);
    return client;
  }

  function get(client: TestClient, payload: Element, to?: string): Promise<Element> {
    return client.iq(x('iq', NS.CLIENT, { type: 'get', to }, payload));
  }

  function set(client: TestClient, payload: Element, to?: string): Promise<Element> {
    return client.iq(x('iq', NS.CLIENT, { type: 'set', to }, payload));
  }

  beforeAll(async () => {
    server = await startTestServer();
    for (const name of ['alice', 'bob']) await server.createAccount(name, PASSWORD);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await server.stop();
  });

  it('set then get returns the fragment', async () => {
    const alice = await connect('alice');
    expect((await set(alice, query(prefs('Hamlet')))).attr('type')).toBe('result');
    const stored = (await get(alice, query(prefs()))).getChild('query', NS.PRIVATE)?.getChild('exodus', PREFS);
    expect(stored?.getChildText('defaultnick', PREFS)).toBe('Hamlet');
  });

  it('set replaces the fragment', async () => {
    const alice = await connect('alice');
    await set(alice, query(prefs('Hamlet')));
    await set(alice, query(prefs('Ophelia')));
    const stored = (await get(alice, query(prefs()))).getChild('query', NS.PRIVATE)?.getChild('exodus', PREFS);
    expect(stored?.getChildText('defaultnick', PREFS)).toBe('Ophelia');
  });

  it('unset fragment comes back empty', async () => {
    const bob = await connect('bob');
    const reply = await get(bob, query(x('settings', 'urn:example:unset')));
    const fragment = reply.getChild('query', NS.PRIVATE)?.getChild('settings', 'urn:example:unset');
    expect(reply.attr('type')).toBe('result');
    expect(fragment?.children).toHaveLength(0);
  });

  it('set with several children stores each', async () => {
    const alice = await connect('alice');
    const bookmarks = x('storage', BOOKMARKS, {}, x('conference', BOOKMARKS, { jid: 'room@rooms.example.test', autojoin: 'true' }));
    expect((await set(alice, query(prefs('Horatio'), bookmarks))).attr('type')).toBe('result');

    const storedPrefs = (await get(alice, query(prefs()))).getChild('query', NS.PRIVATE)?.getChild('exodus', PREFS);
    const storedBookmarks = (await get(alice, query(x('storage', BOOKMARKS)))).getChild('query', NS.PRIVATE)?.getChild('storage', BOOKMARKS);
    expect(storedPrefs?.getChildText('defaultnick', PREFS)).toBe('Horatio');
    expect(storedBookmarks?.getChild('conference', BOOKMARKS)?.attr('jid')).toBe('room@rooms.example.test');
  });

  it('keeps attributes and namespaces of descendants', async () => {
    const alice = await connect('alice');
    const fragment = x('config', 'urn:example:cfg', { version: '2' }, x('item', 'urn:example:other', { 'xml:lang': 'de' }, 'Grüße'));
    await set(alice, query(fragment));
    const stored = (await get(alice, query(x('config', 'urn:example:cfg')))).getChild('query', NS.PRIVATE)?.getChild('config', 'urn:example:cfg');
    const item = stored?.getChild('item', 'urn:example:other');
    expect(stored?.attr('version')).toBe('2');
    expect(item?.attr('xml:lang')).toBe('de');
    expect(item?.text()).toBe('Grüße');
  });

  it('fragments are per account', async () => {
    const alice = await connect('alice');
    await set(alice, query(prefs('Hamlet')));
    const bob = await connect('bob');
    const stored = (await get(bob, query(prefs()))).getChild('query', NS.PRIVATE)?.getChild('exodus', PREFS);
    expect(stored?.children).toHaveLength(0);
  });

  it("get of another user's data is forbidden", async () => {
    const bob = await connect('bob');
    expect(errorCondition(await get(bob, query(prefs()), `alice@${server.domain}`))).toBe('forbidden');
  });

  it("set of another user's data is forbidden", async () => {
    const bob = await connect('bob');
    expect(errorCondition(await set(bob, query(prefs('Macbeth')), `alice@${server.domain}`))).toBe('forbidden');
  });

  it('get with the own bare JID works', async () => {
    const alice = await connect('alice');
    await set(alice, query(prefs('Hamlet')));
    const reply = await get(alice, query(prefs()), `alice@${server.domain}`);
    expect(reply.getChild('query', NS.PRIVATE)?.getChild('exodus', PREFS)?.getChildText('defaultnick', PREFS)).toBe('Hamlet');
  });

  it('empty get is not-acceptable', async () => {
    const alice = await connect('alice');
    expect(errorCondition(await get(alice, query()))).toBe('not-acceptable');
  });

  it('empty set is not-acceptable', async () => {
    const alice = await connect('alice');
    expect(errorCondition(await set(alice, query()))).toBe('not-acceptable');
  });

  it('text-only query is not-acceptable', async () => {
    const alice = await connect('alice');
    expect(errorCondition(await set(alice, query('just text')))).toBe('not-acceptable');
  });

  it('child without own namespace is not-acceptable', async () => {
    const alice = await connect('alice');
    expect(errorCondition(await set(alice, query(x('exodus', NS.PRIVATE))))).toBe('not-acceptable');
  });

  for (const reserved of [NS.CLIENT, NS.SERVER, NS.DATA_FORMS]) {
    it(`reserved ${reserved} is not-acceptable`, async () => {
      const alice = await connect('alice');
      expect(errorCondition(await set(alice, query(x('message', reserved))))).toBe('not-acceptable');
    });
  }

  it('reserved namespace in a get is not-acceptable', async () => {
    const alice = await connect('alice');
    expect(errorCondition(await get(alice, query(x('x', NS.DATA_FORMS))))).toBe('not-acceptable');
  });

  it('set with a reserved child stores nothing', async () => {
    const bob = await connect('bob');
    await set(bob, query(prefs('Yorick'), x('message', NS.CLIENT)));
    const stored = (await get(bob, query(prefs()))).getChild('query', NS.PRIVATE)?.getChild('exodus', PREFS);
    expect(stored?.children).toHaveLength(0);
  });

  it('get of two elements is bad-request', async () => {
    const alice = await connect('alice');
    expect(errorCondition(await get(alice, query(prefs(), x('storage', BOOKMARKS))))).toBe('bad-request');
  });

  it('survives a restart', async () => {
    const first = await connect('alice');
    await set(first, query(prefs('Laertes')));
    await first.close();
    await server.restart();
    const alice = await connect('alice');
    const stored = (await get(alice, query(prefs()))).getChild('query', NS.PRIVATE)?.getChild('exodus', PREFS);
    expect(stored?.getChildText('defaultnick', PREFS)).toBe('Laertes');
  });
});
