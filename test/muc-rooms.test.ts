/**
 * MUC rooms over real sockets: configuration, roles and affiliations, destruction,
 * persistence across a restart, creation rights and limits, and service discovery.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, buildForm, parseForm, x } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import {
  MUC_SERVICE,
  NS_MUC_OWNER,
  NS_MUC_USER,
  adminGet,
  adminItems,
  adminSet,
  adminSetOk,
  configureRoom,
  createRoom,
  discoFeatures,
  discoInfo,
  discoItems,
  enter,
  enterRejected,
  enterSeen,
  groupchat,
  hasStatus,
  isPresence,
  stanzaError,
  statusCodes,
  subjectChange,
  userItem,
  waitForPresence,
} from './support/muc.js';

const PASSWORD = 'muc rooms secret';
const DOMAIN = 'example.test';
const QUIET_MS = 300;

let server: TestServer;
let clients: TestClient[] = [];
let roomCounter = 0;

beforeAll(async () => {
  server = await startTestServer();
  for (const name of ['alice', 'bob', 'carol']) await server.createAccount(name, PASSWORD);
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
});

afterAll(async () => {
  await server.stop();
});

async function connect(username: string, resource = 'r1', target = server): Promise<TestClient> {
  const client = await TestClient.connect(target, { username, password: PASSWORD, transport: 'plain', resource, presence: true });
  clients.push(client);
  return client;
}

function newRoom(): string {
  roomCounter += 1;
  return `rooms${roomCounter}@${MUC_SERVICE}`;
}

function bare(user: string): string {
  return `${user}@${DOMAIN}`;
}

/** alice owns the room as ali; bob (bob) and carol (carol) are in it. */
async function threeInRoom(config?: Record<string, string | boolean | string[]>): Promise<{ room: string; alice: TestClient; bob: TestClient; carol: TestClient }> {
  const room = newRoom();
  const alice = await connect('alice');
  await createRoom(alice, `${room}/ali`, config);
  const bob = await connect('bob');
  await enterSeen(bob, `${room}/bob`, [alice]);
  const carol = await connect('carol');
  await enterSeen(carol, `${room}/carol`, [alice, bob]);
  return { room, alice, bob, carol };
}

function ownerIq(room: string, ...children: Element[]): Element {
  return x('iq', NS.CLIENT, { type: 'set', to: room }, x('query', NS_MUC_OWNER, {}, ...children));
}

describe('configuration', () => {
  it('shows the configured room in its disco#info features and muc#roominfo form', async () => {
    const room = newRoom();
    const alice = await connect('alice');
    await createRoom(alice, `${room}/ali`, {
      'muc#roomconfig_roomname': 'Team room',
      'muc#roomconfig_roomdesc': 'Where the team talks',
      'muc#roomconfig_persistentroom': true,
      'muc#roomconfig_publicroom': false,
      'muc#roomconfig_membersonly': true,
      'muc#roomconfig_moderatedroom': true,
      'muc#roomconfig_passwordprotectedroom': true,
      'muc#roomconfig_roomsecret': 'pw',
      'muc#roomconfig_whois': 'anyone',
    });

    const info = await discoInfo(alice, room);
    const features = discoFeatures(info);
    expect(features).toEqual(expect.arrayContaining(['http://jabber.org/protocol/muc', 'muc_persistent', 'muc_hidden', 'muc_membersonly', 'muc_moderated', 'muc_passwordprotected', 'muc_nonanonymous', NS.MAM, NS.STANZA_ID]));
    expect(features).not.toContain('muc_temporary');
    const query = info.getChild('query', NS.DISCO_INFO)!;
    expect(query.getChild('identity', NS.DISCO_INFO)?.attrs).toMatchObject({ category: 'conference', type: 'text', name: 'Team room' });
    const form = parseForm(query.getChild('x', NS.DATA_FORMS)!);
    expect(form.fields.find((field) => field.var === 'muc#roominfo_occupants')?.values).toEqual(['1']);
    expect(form.fields.find((field) => field.var === 'muc#roominfo_description')?.values).toEqual(['Where the team talks']);
  });

  it('refuses the configuration form to non-owners with forbidden', async () => {
    const { room, bob } = await threeInRoom();
    const reply = await bob.iq(x('iq', NS.CLIENT, { type: 'get', to: room }, x('query', NS_MUC_OWNER)));
    expect(stanzaError(reply)?.condition).toBe('forbidden');
  });

  it('tells occupants of configuration changes with 104 and 172', async () => {
    const { room, alice, bob } = await threeInRoom();
    await configureRoom(alice, room, { 'muc#roomconfig_roomname': 'Renamed', 'muc#roomconfig_whois': 'anyone' });
    const notice = await bob.next((el) => el.name === 'message' && el.attr('from') === room && el.getChild('x', NS_MUC_USER) !== undefined);
    expect(statusCodes(notice).sort()).toEqual(['104', '172']);
  });

  it('removes non-members with 322 when the room becomes members-only', async () => {
    const { room, alice, bob, carol } = await threeInRoom();
    await adminSetOk(alice, room, { jid: bare('bob'), affiliation: 'member' });
    await configureRoom(alice, room, { 'muc#roomconfig_membersonly': true });

    const removed = await waitForPresence(carol, `${room}/carol`, { type: 'unavailable', codes: ['322', '110'] });
    expect(userItem(removed)?.attr('role')).toBe('none');
    await waitForPresence(bob, `${room}/carol`, { type: 'unavailable', codes: ['322'] });
    await bob.nothing(isPresence(`${room}/bob`, { type: 'unavailable' }), QUIET_MS);
  });

  it('lets only allowed occupants change the subject', async () => {
    const { room, alice, bob, carol } = await threeInRoom();
    bob.send(subjectChange(room, 'not yours', 's1'));
    const refused = await bob.next((el) => el.name === 'message' && el.attr('type') === 'error');
    expect(stanzaError(refused)?.condition).toBe('forbidden');

    alice.send(subjectChange(room, 'Plans'));
    const seen = await carol.next((el) => el.name === 'message' && el.getChildText('subject', NS.CLIENT) === 'Plans');
    expect(seen.attr('from')).toBe(`${room}/ali`);

    await configureRoom(alice, room, { 'muc#roomconfig_changesubject': true });
    bob.send(subjectChange(room, 'Bob may'));
    await carol.next((el) => el.name === 'message' && el.getChildText('subject', NS.CLIENT) === 'Bob may');
  });
});

describe('roles and affiliations', () => {
  it('kicks with 307 and bans with 301, with actor and reason', async () => {
    const { room, alice, bob, carol } = await threeInRoom();
    await adminSetOk(alice, room, { nick: 'carol', role: 'none', reason: 'calm down' });
    const kicked = await waitForPresence(carol, `${room}/carol`, { type: 'unavailable', codes: ['307', '110'] });
    expect(userItem(kicked)?.getChild('reason', NS_MUC_USER)?.text()).toBe('calm down');
    expect(userItem(kicked)?.getChild('actor', NS_MUC_USER)?.attr('nick')).toBe('ali');
    await waitForPresence(bob, `${room}/carol`, { type: 'unavailable', codes: ['307'] });

    await adminSetOk(alice, room, { jid: bare('bob'), affiliation: 'outcast' });
    const banned = await waitForPresence(bob, `${room}/bob`, { type: 'unavailable', codes: ['301', '110'] });
    expect(userItem(banned)?.attr('affiliation')).toBe('outcast');
    const outcasts = adminItems(await adminGet(alice, room, { affiliation: 'outcast' }));
    expect(outcasts.map((item) => item.attr('jid'))).toEqual([bare('bob')]);
  });

  it('refuses admin requests from participants and kicks of admins', async () => {
    const { room, alice, bob } = await threeInRoom();
    expect(stanzaError(await adminSet(bob, room, { nick: 'carol', role: 'none' }))?.condition).toBe('forbidden');
    expect(stanzaError(await adminGet(bob, room, { affiliation: 'member' }))?.condition).toBe('forbidden');
    await adminSetOk(alice, room, { jid: bare('bob'), affiliation: 'admin' });
    await adminSetOk(alice, room, { jid: bare('carol'), affiliation: 'admin' });
    expect(stanzaError(await adminSet(bob, room, { nick: 'carol', role: 'none' }))?.condition).toBe('not-allowed');
    // Section 9.1: an admin acting on an owner gets not-allowed; granting ownership is the owners' alone.
    expect(stanzaError(await adminSet(bob, room, { jid: bare('alice'), affiliation: 'none' }))?.condition).toBe('not-allowed');
    expect(stanzaError(await adminSet(bob, room, { jid: bare('bob'), affiliation: 'owner' }))?.condition).toBe('forbidden');
  });

  it('voice grant, revoke and request', async () => {
    const { room, alice, bob } = await threeInRoom({ 'muc#roomconfig_moderatedroom': true });
    bob.send(groupchat(room, 'can I speak?'));
    const refused = await bob.next((el) => el.name === 'message' && el.attr('type') === 'error');
    expect(stanzaError(refused)?.condition).toBe('forbidden');

    const request = buildForm({ type: 'submit', fields: [
      { var: 'FORM_TYPE', values: ['http://jabber.org/protocol/muc#request'] },
      { var: 'muc#role', values: ['participant'] },
    ] });
    bob.send(x('message', NS.CLIENT, { to: room }, request));
    const forwarded = await alice.next((el) => el.name === 'message' && el.attr('from') === room && el.getChild('x', NS.DATA_FORMS) !== undefined);
    const form = parseForm(forwarded.getChild('x', NS.DATA_FORMS)!);
    expect(form.fields.find((field) => field.var === 'muc#roomnick')?.values).toEqual(['bob']);

    const approval = buildForm({ type: 'submit', fields: [...form.fields.map((field) => ({ var: field.var, values: field.var === 'muc#request_allow' ? ['true'] : field.values }))] });
    alice.send(x('message', NS.CLIENT, { to: room }, approval));
    const voiced = await bob.next((el) => isPresence(`${room}/bob`)(el) && userItem(el)?.attr('role') === 'participant');
    expect(hasStatus(voiced, '110')).toBe(true);

    await adminSetOk(alice, room, { nick: 'bob', role: 'visitor' });
    await bob.next((el) => isPresence(`${room}/bob`)(el) && userItem(el)?.attr('role') === 'visitor');
  });

  it('manages the member, admin and owner lists, and keeps the last owner', async () => {
    const { room, alice, bob } = await threeInRoom();
    await adminSetOk(alice, room, { jid: bare('bob'), affiliation: 'member', nick: 'bob' }, { jid: bare('carol'), affiliation: 'admin' });
    expect(adminItems(await adminGet(alice, room, { affiliation: 'member' })).map((item) => item.attrs)).toEqual([{ jid: bare('bob'), affiliation: 'member', nick: 'bob' }]);
    expect(adminItems(await adminGet(alice, room, { affiliation: 'admin' })).map((item) => item.attr('jid'))).toEqual([bare('carol')]);
    const promoted = await bob.next((el) => isPresence(`${room}/carol`)(el) && userItem(el)?.attr('affiliation') === 'admin');
    expect(userItem(promoted)?.attr('role')).toBe('moderator');

    expect(stanzaError(await adminSet(alice, room, { jid: bare('alice'), affiliation: 'member' }))?.condition).toBe('conflict');
    await adminSetOk(alice, room, { jid: bare('bob'), affiliation: 'owner' });
    await adminSetOk(alice, room, { jid: bare('alice'), affiliation: 'member' });
    expect(adminItems(await adminGet(bob, room, { affiliation: 'owner' })).map((item) => item.attr('jid'))).toEqual([bare('bob')]);
    const moderators = adminItems(await adminGet(bob, room, { role: 'moderator' })).map((item) => item.attr('nick')).sort();
    expect(moderators).toEqual(['bob', 'carol']);
  });

  it('removes an occupant whose membership is revoked in a members-only room with 321', async () => {
    const room = newRoom();
    const alice = await connect('alice');
    await createRoom(alice, `${room}/ali`, { 'muc#roomconfig_membersonly': true });
    await adminSetOk(alice, room, { jid: bare('bob'), affiliation: 'member' });
    const bob = await connect('bob');
    await enterSeen(bob, `${room}/bob`, [alice]);

    await adminSetOk(alice, room, { jid: bare('bob'), affiliation: 'none' });
    await waitForPresence(bob, `${room}/bob`, { type: 'unavailable', codes: ['321', '110'] });
    expect(stanzaError(await enterRejected(bob, `${room}/bob`))?.condition).toBe('registration-required');
  });
});

describe('destruction and persistence', () => {
  it('destroys a room with reason, alternate venue and password, and deletes its row', async () => {
    const { room, alice, bob } = await threeInRoom({ 'muc#roomconfig_persistentroom': true });
    const venue = `elsewhere@${MUC_SERVICE}`;
    const destroy = x('destroy', NS_MUC_OWNER, { jid: venue }, x('reason', NS_MUC_OWNER, {}, 'moving'), x('password', NS_MUC_OWNER, {}, 'pw'));

    expect(stanzaError(await bob.iq(ownerIq(room, destroy.clone())))?.condition).toBe('forbidden');
    expect((await alice.iq(ownerIq(room, destroy))).attr('type')).toBe('result');
    const gone = await waitForPresence(bob, `${room}/bob`, { type: 'unavailable' });
    const destroyed = gone.getChild('x', NS_MUC_USER)?.getChild('destroy', NS_MUC_USER);
    expect(destroyed?.attr('jid')).toBe(venue);
    expect(destroyed?.getChildText('reason', NS_MUC_USER)).toBe('moving');
    expect(destroyed?.getChildText('password', NS_MUC_USER)).toBe('pw');

    const name = room.split('@')[0]!;
    expect(await server.server.storage.mucRooms.get(MUC_SERVICE, name)).toBeUndefined();
  });

  it('persistent rooms survive a restart', async () => {
    const own = await startTestServer();
    try {
      for (const name of ['alice', 'bob']) await own.createAccount(name, PASSWORD);
      const alice = await connect('alice', 'r1', own);
      const kept = `kept@${MUC_SERVICE}`;
      const temporary = `temp@${MUC_SERVICE}`;
      await createRoom(alice, `${kept}/ali`, { 'muc#roomconfig_persistentroom': true, 'muc#roomconfig_roomname': 'Kept', 'muc#roomconfig_membersonly': true });
      await createRoom(alice, `${temporary}/ali`);
      await adminSetOk(alice, kept, { jid: bare('bob'), affiliation: 'member' });
      alice.send(subjectChange(kept, 'Still here'));
      await alice.next((el) => el.name === 'message' && el.getChildText('subject', NS.CLIENT) === 'Still here');

      await Promise.all(clients.map((client) => client.close()));
      clients = [];
      await own.restart();

      const bob = await connect('bob', 'r1', own);
      const entered = await enter(bob, `${kept}/bob`);
      expect(userItem(entered.self)?.attr('affiliation')).toBe('member');
      const subject = await bob.next((el) => el.name === 'message' && el.getChild('subject', NS.CLIENT) !== undefined);
      expect(subject.getChildText('subject', NS.CLIENT)).toBe('Still here');
      const info = await discoInfo(bob, kept);
      expect(info.getChild('query', NS.DISCO_INFO)?.getChild('identity', NS.DISCO_INFO)?.attr('name')).toBe('Kept');
      expect(stanzaError(await discoInfo(bob, temporary))?.condition).toBe('item-not-found');
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      clients = [];
      await own.stop();
    }
  });

  it('deletes a temporary room when its last occupant leaves', async () => {
    const room = newRoom();
    const alice = await connect('alice');
    await createRoom(alice, `${room}/ali`);
    alice.send(x('presence', NS.CLIENT, { to: `${room}/ali`, type: 'unavailable' }));
    await waitForPresence(alice, `${room}/ali`, { type: 'unavailable' });
    expect(stanzaError(await discoInfo(alice, room))?.condition).toBe('item-not-found');
  });
});

describe('creation rights and limits', () => {
  it('lets only the listed admins create rooms with create = "admins"', async () => {
    const own = await startTestServer({ muc: { create: 'admins', admins: [bare('alice')] } });
    try {
      for (const name of ['alice', 'bob']) await own.createAccount(name, PASSWORD);
      const bob = await connect('bob', 'r1', own);
      expect(stanzaError(await enterRejected(bob, `new@${MUC_SERVICE}/bob`))?.condition).toBe('not-allowed');
      const alice = await connect('alice', 'r1', own);
      await createRoom(alice, `new@${MUC_SERVICE}/ali`);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      clients = [];
      await own.stop();
    }
  });

  it('refuses a room beyond max_rooms_per_user with resource-constraint', async () => {
    const own = await startTestServer({ muc: { max_rooms_per_user: 1 } });
    try {
      await own.createAccount('bob', PASSWORD);
      const bob = await connect('bob', 'r1', own);
      await createRoom(bob, `first@${MUC_SERVICE}/bob`);
      const refused = await enterRejected(bob, `second@${MUC_SERVICE}/bob`);
      expect(stanzaError(refused)).toEqual({ condition: 'resource-constraint', type: 'wait' });
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      clients = [];
      await own.stop();
    }
  });
});

describe('service discovery', () => {
  it('lists the service in the server items and describes it', async () => {
    const alice = await connect('alice');
    const items = (await discoItems(alice, DOMAIN)).getChild('query', NS.DISCO_ITEMS)?.getChildren('item', NS.DISCO_ITEMS) ?? [];
    expect(items.map((item) => item.attr('jid'))).toContain(MUC_SERVICE);
    const info = await discoInfo(alice, MUC_SERVICE);
    expect(info.getChild('query', NS.DISCO_INFO)?.getChild('identity', NS.DISCO_INFO)?.attrs).toMatchObject({ category: 'conference', type: 'text' });
    expect(discoFeatures(info)).toContain('http://jabber.org/protocol/muc');
  });

  it('lists public rooms only, and room occupants only to occupants', async () => {
    const { room, alice } = await threeInRoom();
    const hidden = newRoom();
    await createRoom(alice, `${hidden}/ali`, { 'muc#roomconfig_publicroom': false });
    const rooms = (await discoItems(alice, MUC_SERVICE)).getChild('query', NS.DISCO_ITEMS)?.getChildren('item', NS.DISCO_ITEMS).map((item) => item.attr('jid')) ?? [];
    expect(rooms).toContain(room);
    expect(rooms).not.toContain(hidden);

    const inside = (await discoItems(alice, room)).getChild('query', NS.DISCO_ITEMS)?.getChildren('item', NS.DISCO_ITEMS) ?? [];
    expect(inside).toHaveLength(3);
    const outside = await connect('carol', 'outside');
    const hiddenFromOutside = (await discoItems(outside, hidden)).getChild('query', NS.DISCO_ITEMS)?.getChildren('item', NS.DISCO_ITEMS) ?? [];
    expect(hiddenFromOutside).toEqual([]);
  });
});
