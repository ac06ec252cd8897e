import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { upsertAccount } from '../packages/server/src/provisioning/accounts-service.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { startAdminApi, type AdminApi } from './support/admin-api.js';

interface Item {
  jid: string;
  name: string | undefined;
  subscription: string | undefined;
  groups: string[];
}

function readItem(item: Element): Item {
  return {
    jid: item.attr('jid')!,
    name: item.attr('name'),
    subscription: item.attr('subscription'),
    groups: item.getChildren('group', NS.ROSTER).map((group) => group.text()).sort(),
  };
}

async function rosterGet(client: TestClient, ver?: string): Promise<{ ver: string | undefined; items: Item[] } | undefined> {
  const reply = await client.iq(x('iq', NS.CLIENT, { type: 'get' }, x('query', NS.ROSTER, { ver })));
  expect(reply.attr('type'), reply.toString()).toBe('result');
  const query = reply.getChild('query', NS.ROSTER);
  if (query === undefined) return undefined;
  return { ver: query.attr('ver'), items: query.getChildren('item', NS.ROSTER).map(readItem) };
}

function isPushFor(jid: string): (el: Element) => boolean {
  return (el) => el.name === 'iq' && el.attr('type') === 'set' && el.getChild('query', NS.ROSTER)?.getChild('item', NS.ROSTER)?.attr('jid') === jid;
}

async function nextPush(client: TestClient, jid: string): Promise<{ item: Item; ver: string | undefined }> {
  const push = await client.next(isPushFor(jid), 3000);
  client.send(x('iq', NS.CLIENT, { type: 'result', id: push.attr('id') }));
  const query = push.getChild('query', NS.ROSTER)!;
  return { item: readItem(query.getChild('item', NS.ROSTER)!), ver: query.attr('ver') };
}

function isPresenceFrom(bare: string, type?: string): (el: Element) => boolean {
  return (el) => el.name === 'presence' && (el.attr('from') ?? '').startsWith(`${bare}/`) && el.attr('type') === type;
}

describe('shared roster groups', () => {
  let server: TestServer;
  let alice: TestClient;
  let bob: TestClient | undefined;
  let carol: TestClient;

  beforeAll(async () => {
    server = await startTestServer();
    const ctx = server.server;
    await upsertAccount(ctx, { username: 'alice', password: 'pw-alice', displayName: 'Alice A', department: 'eng', departmentName: 'Engineering' });
    await upsertAccount(ctx, { username: 'bob', password: 'pw-bob', displayName: 'Bob B', department: 'eng' });
    await upsertAccount(ctx, { username: 'carol', password: 'pw-carol', displayName: 'Carol C', department: 'sales', departmentName: 'Sales' });

    // What the admin API does when it turns the shared roster on for a department.
    const eng = (await ctx.storage.orgGroups.get(server.domain, 'eng'))!;
    await ctx.storage.orgGroups.upsert({ ...eng, sharedRoster: true, updatedAt: Date.now() });
    await ctx.hooks.fire('org/group-changed', { host: server.domain, id: 'eng', changed: ['sharedRoster'] });

    alice = await TestClient.connect(server, { username: 'alice', password: 'pw-alice', resource: 'desk', presence: true });
    carol = await TestClient.connect(server, { username: 'carol', password: 'pw-carol', resource: 'desk', presence: true });
  });

  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close(), carol?.close()]);
    await server?.stop();
  });

  it('shows department members with subscription both and the department as group', async () => {
    const roster = (await rosterGet(alice))!;
    expect(roster.items).toEqual([{ jid: 'bob@example.test', name: 'Bob B', subscription: 'both', groups: ['Engineering'] }]);
    expect((await rosterGet(carol))!.items).toEqual([]);
  });

  it('lets presence flow without subscriptions', async () => {
    const bobOnline = alice.next(isPresenceFrom('bob@example.test'), 3000);
    bob = await TestClient.connect(server, { username: 'bob', password: 'pw-bob', resource: 'laptop' });
    const aliceToBob = bob.next(isPresenceFrom('alice@example.test'), 3000);
    bob.send(x('presence', NS.CLIENT));
    await bobOnline;
    await aliceToBob;
    await carol.nothing(isPresenceFrom('bob@example.test'), 200);
  });

  it('keeps the user name and groups, and resets a removed shared item', async () => {
    await rosterGet(alice);
    const set = await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, x('query', NS.ROSTER, {}, x('item', NS.ROSTER, { jid: 'bob@example.test', name: 'Bobby' }, x('group', NS.ROSTER, {}, 'Friends')))));
    expect(set.attr('type')).toBe('result');
    expect((await nextPush(alice, 'bob@example.test')).item).toEqual({ jid: 'bob@example.test', name: 'Bobby', subscription: 'both', groups: ['Engineering', 'Friends'] });

    const removal = await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, x('query', NS.ROSTER, {}, x('item', NS.ROSTER, { jid: 'bob@example.test', subscription: 'remove' }))));
    expect(removal.attr('type')).toBe('result');
    expect((await nextPush(alice, 'bob@example.test')).item).toEqual({ jid: 'bob@example.test', name: 'Bob B', subscription: 'both', groups: ['Engineering'] });
    expect((await rosterGet(alice))!.items.map((item) => item.jid)).toEqual(['bob@example.test']);
    // Removing the item cancelled nothing: bob still sees alice.
    expect((await rosterGet(bob!))!.items.map((item) => item.subscription)).toEqual(['both']);
  });

  it('pushes members who join and leave, with presence', async () => {
    const before = (await rosterGet(alice))!;
    await rosterGet(carol);

    const aliceGetsCarol = nextPush(alice, 'carol@example.test');
    const carolGetsAlice = nextPush(carol, 'alice@example.test');
    const carolGetsBob = nextPush(carol, 'bob@example.test');
    const carolPresenceToAlice = alice.next(isPresenceFrom('carol@example.test'), 3000);
    const bobPresenceToCarol = carol.next(isPresenceFrom('bob@example.test'), 3000);
    await upsertAccount(server.server, { username: 'carol', department: 'eng' });

    const pushed = await aliceGetsCarol;
    expect(pushed.item).toEqual({ jid: 'carol@example.test', name: 'Carol C', subscription: 'both', groups: ['Engineering'] });
    expect((await carolGetsAlice).item.groups).toEqual(['Engineering']);
    expect((await carolGetsBob).item.subscription).toBe('both');
    await carolPresenceToAlice;
    await bobPresenceToCarol;

    // Roster versioning: the old version gets the whole roster, the pushed one nothing.
    expect(pushed.ver).not.toBe(before.ver);
    const stale = (await rosterGet(alice, before.ver))!;
    expect(stale.items.map((item) => item.jid)).toEqual(['bob@example.test', 'carol@example.test']);
    expect(stale.ver).toBe(pushed.ver);
    expect(await rosterGet(alice, pushed.ver)).toBeUndefined();

    const removed = nextPush(alice, 'carol@example.test');
    const carolOffline = alice.next(isPresenceFrom('carol@example.test', 'unavailable'), 3000);
    await upsertAccount(server.server, { username: 'carol', department: 'sales' });
    expect((await removed).item.subscription).toBe('remove');
    await carolOffline;
    expect((await rosterGet(carol))!.items).toEqual([]);
  });

  it('sends unavailable presence and follows the shared roster flag', async () => {
    const bobOffline = alice.next(isPresenceFrom('bob@example.test', 'unavailable'), 3000);
    await bob!.close();
    bob = undefined;
    await bobOffline;

    const ctx = server.server;
    const eng = (await ctx.storage.orgGroups.get(server.domain, 'eng'))!;
    const removal = nextPush(alice, 'bob@example.test');
    await ctx.storage.orgGroups.upsert({ ...eng, sharedRoster: false, updatedAt: Date.now() });
    await ctx.hooks.fire('org/group-changed', { host: server.domain, id: 'eng', changed: ['sharedRoster'] });
    // alice's own record of bob, made by her roster set, stays as a plain item.
    expect((await removal).item).toEqual({ jid: 'bob@example.test', name: undefined, subscription: 'none', groups: [] });
    expect((await rosterGet(alice))!.items.map((item) => item.jid)).toEqual(['bob@example.test']);
    expect((await rosterGet(carol))!.items).toEqual([]);
  });
});

describe('shared roster changes through the admin API', () => {
  let api: AdminApi;
  let dana: TestClient;
  const groupEvents: { id: string; changed: string[] }[] = [];

  beforeAll(async () => {
    api = await startAdminApi();
    api.server.server.hooks.on('org/group-changed', ({ id, changed }) => {
      groupEvents.push({ id, changed });
      return false;
    });
    for (const [username, name] of [['dana', 'Dana D'], ['eli', 'Eli E'], ['fay', 'Fay F']]) {
      const created = await api.request('POST', '/accounts', { username, password: `pw-${username}`, display_name: name, department: 'ops', department_name: 'Operations' });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
    }
    dana = await TestClient.connect(api.server, { username: 'dana', password: 'pw-dana', resource: 'desk', presence: true });
  });

  afterAll(async () => {
    await dana?.close();
    await api?.stop();
  });

  it('pushes department members when PATCH turns the flag on', async () => {
    expect((await rosterGet(dana))!.items).toEqual([]);
    const eliPushed = nextPush(dana, 'eli@example.test');
    const fayPushed = nextPush(dana, 'fay@example.test');

    const patched = await api.request('PATCH', '/departments/ops', { shared_roster: true });
    expect(patched.status).toBe(200);
    expect(patched.body.shared_roster).toBe(true);
    expect((await eliPushed).item).toEqual({ jid: 'eli@example.test', name: 'Eli E', subscription: 'both', groups: ['Operations'] });
    expect((await fayPushed).item.subscription).toBe('both');
    expect(groupEvents.at(-1)).toEqual({ id: 'ops', changed: ['sharedRoster'] });
    expect((await rosterGet(dana))!.items.map((item) => item.jid)).toEqual(['eli@example.test', 'fay@example.test']);
  });

  it('removes a deleted group from shared rosters', async () => {
    const created = await api.request('POST', '/groups', { id: 'night-shift', name: 'Night shift', shared_roster: true });
    expect(created.status).toBe(201);
    expect((await api.request('PATCH', '/departments/ops', { shared_roster: false })).status).toBe(200);
    await nextPush(dana, 'eli@example.test');
    await nextPush(dana, 'fay@example.test');

    const eliPushed = nextPush(dana, 'eli@example.test');
    for (const username of ['dana', 'eli']) expect((await api.request('PUT', `/groups/night-shift/members/${username}`)).status).toBe(204);
    expect((await eliPushed).item).toEqual({ jid: 'eli@example.test', name: 'Eli E', subscription: 'both', groups: ['Night shift'] });

    const eliRemoved = nextPush(dana, 'eli@example.test');
    groupEvents.length = 0;
    expect((await api.request('DELETE', '/groups/night-shift')).status).toBe(204);
    expect((await eliRemoved).item.subscription).toBe('remove');
    expect(groupEvents).toEqual([{ id: 'night-shift', changed: ['deleted'] }]);
    expect((await rosterGet(dana))!.items).toEqual([]);
    await dana.nothing(isPushFor('fay@example.test'), 200);
  });
});
