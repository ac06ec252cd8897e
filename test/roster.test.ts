import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient, login, openClientStream } from './support/client.js';

const PASSWORD = 'roster secret';
const DOMAIN = 'example.test';

let server: TestServer;
let clients: TestClient[] = [];
let resourceCounter = 0;

beforeEach(async () => {
  server = await startTestServer();
  for (const name of ['alice', 'bob', 'carol']) await server.createAccount(name, PASSWORD);
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
  await server.stop();
});

async function connect(username: string, options: { presence?: boolean } = {}): Promise<TestClient> {
  const client = await TestClient.connect(server, { username, password: PASSWORD, transport: 'plain', resource: `r${++resourceCounter}`, presence: options.presence });
  clients.push(client);
  return client;
}

function rosterGet(attrs: Record<string, string | undefined> = {}, to?: string): Element {
  return x('iq', NS.CLIENT, { type: 'get', to }, x('query', NS.ROSTER, attrs));
}

function rosterSet(...items: Element[]): Element {
  return x('iq', NS.CLIENT, { type: 'set' }, x('query', NS.ROSTER, {}, ...items));
}

function item(jid: string, attrs: Record<string, string> = {}, ...groups: string[]): Element {
  return x('item', NS.ROSTER, { jid, ...attrs }, ...groups.map((group) => x('group', NS.ROSTER, {}, group)));
}

function itemsOf(iq: Element): Element[] {
  return iq.getChild('query', NS.ROSTER)?.getChildren('item', NS.ROSTER) ?? [];
}

function versionOf(iq: Element): string | undefined {
  return iq.getChild('query', NS.ROSTER)?.attr('ver');
}

function errorCondition(stanza: Element): string | undefined {
  return stanza.getChild('error')?.getChildByNs(NS.STANZAS)?.name;
}

function isPush(el: Element): boolean {
  return el.name === 'iq' && el.attr('type') === 'set' && el.getChild('query', NS.ROSTER) !== undefined;
}

function isPushFor(jid: string): (el: Element) => boolean {
  return (el) => isPush(el) && itemsOf(el)[0]?.attr('jid') === jid;
}

/** Connects, reads the roster once (so the session gets pushes) and returns the client and the roster version. */
async function interestedClient(username: string): Promise<{ client: TestClient; ver: string }> {
  const client = await connect(username);
  const result = await client.iq(rosterGet({ ver: '' }));
  return { client, ver: versionOf(result) ?? '' };
}

describe('stream features', () => {
  it('advertise versioning and pre-approval', async () => {
    const { connection } = await openClientStream(server, 'plain');
    await login(connection, 'SCRAM-SHA-256', 'alice', PASSWORD);
    const features = await connection.openStream();
    connection.destroy();
    expect(features.getChild('ver', NS.ROSTER_VER)).toBeDefined();
    expect(features.getChild('sub', NS.PRE_APPROVAL)).toBeDefined();
  });
});

describe('roster get', () => {
  it('returns an empty roster', async () => {
    const client = await connect('alice');
    const result = await client.iq(rosterGet());
    expect(result.attr('type')).toBe('result');
    expect(itemsOf(result)).toHaveLength(0);
  });

  it('returns a version', async () => {
    const client = await connect('alice');
    const result = await client.iq(rosterGet());
    expect(versionOf(result)).toMatch(/^\d+$/);
  });

  it('lists items with name and groups', async () => {
    const client = await connect('alice');
    await client.iq(rosterSet(item('bob@example.test', { name: 'Bob' }, 'Friends', 'Work')));
    const [bob] = itemsOf(await client.iq(rosterGet()));
    expect(bob?.attrs).toEqual({ jid: 'bob@example.test', name: 'Bob', subscription: 'none' });
    expect(bob?.getChildren('group', NS.ROSTER).map((group) => group.text())).toEqual(['Friends', 'Work']);
  });

  it('accepts the own bare JID as to', async () => {
    const client = await connect('alice');
    const result = await client.iq(rosterGet({}, `alice@${DOMAIN}`));
    expect(result.attr('type')).toBe('result');
  });
});

describe('roster set', () => {
  it('pushes to every interested resource', async () => {
    const first = await interestedClient('alice');
    const second = await interestedClient('alice');
    const result = await first.client.iq(rosterSet(item('bob@example.test', { name: 'Bob' })));
    expect(result.attr('type')).toBe('result');
    const push = await second.client.next(isPushFor('bob@example.test'));
    expect(itemsOf(push)[0]?.attr('name')).toBe('Bob');
    expect(await first.client.next(isPushFor('bob@example.test'))).toBeDefined();
  });

  it('pushes carry a version', async () => {
    const { client } = await interestedClient('alice');
    await client.iq(rosterSet(item('bob@example.test')));
    const push = await client.next(isPushFor('bob@example.test'));
    expect(versionOf(push)).toMatch(/^\d+$/);
  });

  it('sends no push to uninterested resources', async () => {
    const watcher = await connect('alice');
    const { client } = await interestedClient('alice');
    await client.iq(rosterSet(item('bob@example.test')));
    await watcher.nothing(isPush, 300);
  });

  it('ignores a subscription attribute', async () => {
    const client = await connect('alice');
    await client.iq(rosterSet(item('bob@example.test', { subscription: 'both', ask: 'subscribe' })));
    const [bob] = itemsOf(await client.iq(rosterGet()));
    expect(bob?.attr('subscription')).toBe('none');
    expect(bob?.attr('ask')).toBeUndefined();
  });

  it('updates name and groups', async () => {
    const client = await connect('alice');
    await client.iq(rosterSet(item('bob@example.test', { name: 'Bob' }, 'Old')));
    await client.iq(rosterSet(item('bob@example.test', { name: 'Robert' }, 'New')));
    const [bob] = itemsOf(await client.iq(rosterGet()));
    expect(bob?.attr('name')).toBe('Robert');
    expect(bob?.getChildText('group', NS.ROSTER)).toBe('New');
  });

  it('removes an item with a push', async () => {
    const { client } = await interestedClient('alice');
    await client.iq(rosterSet(item('bob@example.test')));
    await client.next(isPushFor('bob@example.test'));
    const result = await client.iq(rosterSet(item('bob@example.test', { subscription: 'remove' })));
    expect(result.attr('type')).toBe('result');
    const push = await client.next(isPushFor('bob@example.test'));
    expect(itemsOf(push)[0]?.attr('subscription')).toBe('remove');
    expect(itemsOf(await client.iq(rosterGet()))).toHaveLength(0);
  });
});

describe('roster errors', () => {
  it('two items are a bad request', async () => {
    const client = await connect('alice');
    const result = await client.iq(rosterSet(item('bob@example.test'), item('carol@example.test')));
    expect(errorCondition(result)).toBe('bad-request');
  });

  it("another user's roster is forbidden", async () => {
    const client = await connect('alice');
    const result = await client.iq(rosterGet({}, `bob@${DOMAIN}`));
    expect(errorCondition(result)).toBe('forbidden');
  });

  it("setting another user's roster is forbidden", async () => {
    const client = await connect('alice');
    const request = rosterSet(item('carol@example.test'));
    request.setAttr('to', `bob@${DOMAIN}`);
    expect(errorCondition(await client.iq(request))).toBe('forbidden');
  });

  it('a malformed JID is jid-malformed', async () => {
    const client = await connect('alice');
    const result = await client.iq(rosterSet(item('bob@@example.test')));
    expect(errorCondition(result)).toBe('jid-malformed');
  });

  it('a full JID is a bad request', async () => {
    const client = await connect('alice');
    const result = await client.iq(rosterSet(item('bob@example.test/phone')));
    expect(errorCondition(result)).toBe('bad-request');
  });

  it('the own JID is not allowed', async () => {
    const client = await connect('alice');
    const result = await client.iq(rosterSet(item(`alice@${DOMAIN}`)));
    expect(errorCondition(result)).toBe('not-allowed');
  });

  it('duplicate groups are a bad request', async () => {
    const client = await connect('alice');
    const result = await client.iq(rosterSet(item('bob@example.test', {}, 'Friends', 'Friends')));
    expect(errorCondition(result)).toBe('bad-request');
  });

  it('an empty group is not acceptable', async () => {
    const client = await connect('alice');
    const result = await client.iq(rosterSet(item('bob@example.test', {}, '')));
    expect(errorCondition(result)).toBe('not-acceptable');
  });

  it('a too long name is not acceptable', async () => {
    const client = await connect('alice');
    const result = await client.iq(rosterSet(item('bob@example.test', { name: 'n'.repeat(2000) })));
    expect(errorCondition(result)).toBe('not-acceptable');
  });

  it('removing a missing item is item-not-found', async () => {
    const client = await connect('alice');
    const result = await client.iq(rosterSet(item('bob@example.test', { subscription: 'remove' })));
    expect(errorCondition(result)).toBe('item-not-found');
  });
});

describe('roster versioning', () => {
  it('current version gets an empty result', async () => {
    const { client, ver } = await interestedClient('alice');
    await client.iq(rosterSet(item('bob@example.test')));
    const current = versionOf(await client.next(isPushFor('bob@example.test')));

    const result = await client.iq(rosterGet({ ver: current }));
    expect(result.getChild('query', NS.ROSTER)).toBeUndefined();
    expect(current).not.toBe(ver);
    await client.nothing(isPush, 300);
  });

  it('old version gets pushes for the changes only', async () => {
    const setup = await connect('alice');
    await setup.iq(rosterSet(item('bob@example.test', { name: 'Bob' })));
    await setup.iq(rosterSet(item('carol@example.test', { name: 'Carol' })));
    const old = versionOf(await setup.iq(rosterGet({ ver: '' })));

    await setup.iq(rosterSet(item('bob@example.test', { name: 'Robert' })));
    await setup.iq(rosterSet(item('carol@example.test', { subscription: 'remove' })));
    await setup.iq(rosterSet(item('dave@example.test')));
    const current = versionOf(await setup.iq(rosterGet({ ver: '' })));

    const client = await connect('alice');
    const result = await client.iq(rosterGet({ ver: old }));
    expect(result.attr('type')).toBe('result');
    expect(result.getChild('query', NS.ROSTER)).toBeUndefined();

    const pushes = [await client.next(isPush), await client.next(isPush), await client.next(isPush)];
    const changes = pushes.map((push) => `${itemsOf(push)[0]?.attr('jid')} ${itemsOf(push)[0]?.attr('subscription')}`);
    expect(changes.sort()).toEqual(['bob@example.test none', 'carol@example.test remove', 'dave@example.test none']);
    expect(versionOf(pushes[2]!)).toBe(current);
    await client.nothing(isPush, 300);
  });

  it('unknown version gets the full roster', async () => {
    const client = await connect('alice');
    await client.iq(rosterSet(item('bob@example.test')));
    const result = await client.iq(rosterGet({ ver: 'not-a-version' }));
    expect(itemsOf(result).map((entry) => entry.attr('jid'))).toEqual(['bob@example.test']);
  });

  it('future version gets the full roster', async () => {
    const client = await connect('alice');
    await client.iq(rosterSet(item('bob@example.test')));
    const result = await client.iq(rosterGet({ ver: '999999' }));
    expect(itemsOf(result)).toHaveLength(1);
  });
});
