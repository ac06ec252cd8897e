/**
 * What flows through MUC rooms over real sockets: groupchat messages with the room's
 * stanza ids, history, private messages, invitations, IQs to occupants (self-ping),
 * the room archive over MAM, the activity query and the muc/message event.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { MucMessageEvent } from '../packages/server/src/core/events.js';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import {
  MUC_SERVICE,
  NS_MUC_USER,
  adminSetOk,
  configureRoom,
  createRoom,
  enter,
  enterSeen,
  groupchat,
  isGroupchat,
  say,
  stanzaError,
} from './support/muc.js';

const PASSWORD = 'muc traffic secret';
const DOMAIN = 'example.test';
const NS_ACTIVITY = 'urn:parley:muc:activity:0';

let server: TestServer;
let clients: TestClient[] = [];
let roomCounter = 0;

beforeAll(async () => {
  server = await startTestServer({ muc: { messages_per_second: 1, message_burst: 5 } });
  for (const name of ['alice', 'bob', 'carol']) await server.createAccount(name, PASSWORD);
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
});

afterAll(async () => {
  await server.stop();
});

async function connect(username: string, resource = 'r1'): Promise<TestClient> {
  const client = await TestClient.connect(server, { username, password: PASSWORD, transport: 'plain', resource, presence: true });
  clients.push(client);
  return client;
}

function newRoom(): string {
  roomCounter += 1;
  return `traffic${roomCounter}@${MUC_SERVICE}`;
}

async function pair(config?: Record<string, string | boolean | string[]>): Promise<{ room: string; alice: TestClient; bob: TestClient }> {
  const room = newRoom();
  const alice = await connect('alice');
  await createRoom(alice, `${room}/ali`, config);
  const bob = await connect('bob');
  await enterSeen(bob, `${room}/bob`, [alice]);
  return { room, alice, bob };
}

function errorOf(client: TestClient, name: string): Promise<Element> {
  return client.next((el) => el.name === name && el.attr('type') === 'error');
}

function stanzaIdBy(message: Element, by: string): string | undefined {
  return message.getChildren('stanza-id', NS.STANZA_ID).find((el) => el.attr('by') === by)?.attr('id');
}

describe('groupchat messages', () => {
  it('reaches every occupant from the occupant JID with one stanza-id by the room', async () => {
    const { room, alice, bob } = await pair();
    const forged = groupchat(room, 'hello all');
    forged.append(x('stanza-id', NS.STANZA_ID, { by: room, id: 'forged' }));
    alice.send(forged);

    const got = await bob.next(isGroupchat(`${room}/ali`, 'hello all'));
    const echo = await alice.next(isGroupchat(`${room}/ali`, 'hello all'));
    const id = stanzaIdBy(got, room);
    expect(id).toBeDefined();
    expect(id).not.toBe('forged');
    expect(got.getChildren('stanza-id', NS.STANZA_ID)).toHaveLength(1);
    expect(stanzaIdBy(echo, room)).toBe(id);
  });

  it('refuses non-occupants with not-acceptable, and groupchat to an occupant with bad-request', async () => {
    const { room, bob } = await pair();
    const carol = await connect('carol');
    carol.send(groupchat(room, 'let me in'));
    expect(stanzaError(await errorOf(carol, 'message'))?.condition).toBe('not-acceptable');
    bob.send(groupchat(`${room}/ali`, 'wrong address'));
    expect(stanzaError(await errorOf(bob, 'message'))?.condition).toBe('bad-request');
  });

  it('answers an occupant over the message rate with resource-constraint', async () => {
    const { room, bob } = await pair();
    for (let i = 0; i < 8; i++) bob.send(groupchat(room, `burst ${i}`));
    const refused = await errorOf(bob, 'message');
    expect(stanzaError(refused)).toEqual({ condition: 'resource-constraint', type: 'wait' });
  });

  it('history on join and muc/message event', async () => {
    const events: MucMessageEvent[] = [];
    server.server.hooks.on('muc/message', (event) => {
      events.push(event);
    });
    const { room, alice, bob } = await pair();
    await adminSetOk(alice, room, { jid: `bob@${DOMAIN}`, affiliation: 'member' });
    await say(alice, room, 'ali', 'first');
    await say(bob, room, 'bob', 'second');

    const carol = await connect('carol');
    await enter(carol, `${room}/carol`, { history: { maxstanzas: '1' } });
    const history = await carol.next((el) => el.name === 'message' && el.getChild('body', NS.CLIENT) !== undefined);
    expect(history.getChildText('body', NS.CLIENT)).toBe('second');
    expect(history.getChild('delay', NS.DELAY)?.attr('from')).toBe(room);
    await carol.next((el) => el.name === 'message' && el.getChild('subject', NS.CLIENT) !== undefined);

    const quiet = await connect('carol', 'quiet');
    await enter(quiet, `${room}/carol`, { history: { maxstanzas: '0' } });
    const next = await quiet.next((el) => el.name === 'message');
    expect(next.getChild('subject', NS.CLIENT)).toBeDefined();

    const mine = events.filter((event) => event.room.toString() === room);
    expect(mine.map((event) => event.message.getChildText('body', NS.CLIENT))).toEqual(['first', 'second']);
    expect(mine[1]!.sender.nick).toBe('bob');
    expect(mine[1]!.stanzaId).toBeDefined();
    expect(mine[1]!.members.map(String).sort()).toEqual([`alice@${DOMAIN}`, `bob@${DOMAIN}`]);
  });
});

describe('private messages', () => {
  it('delivers between occupants with the muc#user payload, and follows the allowpm setting', async () => {
    const { room, alice, bob } = await pair();
    bob.send(x('message', NS.CLIENT, { type: 'chat', to: `${room}/ali` }, x('body', NS.CLIENT, {}, 'psst')));
    const pm = await alice.next((el) => el.name === 'message' && el.attr('type') === 'chat');
    expect(pm.attr('from')).toBe(`${room}/bob`);
    expect(pm.getChild('x', NS_MUC_USER)).toBeDefined();

    bob.send(x('message', NS.CLIENT, { type: 'chat', to: `${room}/nobody` }, x('body', NS.CLIENT, {}, 'hello?')));
    expect(stanzaError(await errorOf(bob, 'message'))?.condition).toBe('item-not-found');

    await configureRoom(alice, room, { 'muc#roomconfig_allowpm': 'none' });
    bob.send(x('message', NS.CLIENT, { type: 'chat', to: `${room}/ali` }, x('body', NS.CLIENT, {}, 'again')));
    expect(stanzaError(await errorOf(bob, 'message'))?.condition).toBe('forbidden');
  });
});

describe('invitations', () => {
  it('mediated invitation and decline', async () => {
    const { room, alice } = await pair({ 'muc#roomconfig_membersonly': false });
    await configureRoom(alice, room, { 'muc#roomconfig_membersonly': true });
    const carol = await connect('carol');

    const invite = x('x', NS_MUC_USER, {}, x('invite', NS_MUC_USER, { to: `carol@${DOMAIN}` }, x('reason', NS_MUC_USER, {}, 'join us')));
    alice.send(x('message', NS.CLIENT, { to: room }, invite));
    const got = await carol.next((el) => el.name === 'message' && el.attr('from') === room);
    const received = got.getChild('x', NS_MUC_USER)?.getChild('invite', NS_MUC_USER);
    expect(received?.attr('from')).toBe(`alice@${DOMAIN}/r1`);
    expect(received?.getChildText('reason', NS_MUC_USER)).toBe('join us');
    await enter(carol, `${room}/carol`);

    const decline = x('x', NS_MUC_USER, {}, x('decline', NS_MUC_USER, { to: `alice@${DOMAIN}` }, x('reason', NS_MUC_USER, {}, 'busy')));
    carol.send(x('message', NS.CLIENT, { to: room }, decline));
    const declined = await alice.next((el) => el.name === 'message' && el.getChild('x', NS_MUC_USER)?.getChild('decline', NS_MUC_USER) !== undefined);
    expect(declined.getChild('x', NS_MUC_USER)?.getChild('decline', NS_MUC_USER)?.attr('from')).toBe(`carol@${DOMAIN}`);
  });

  it('routes a direct invitation (XEP-0249) as a normal message between users', async () => {
    const { room, alice } = await pair();
    const carol = await connect('carol');
    alice.send(x('message', NS.CLIENT, { to: `carol@${DOMAIN}` }, x('x', 'jabber:x:conference', { jid: room, reason: 'come' })));
    const got = await carol.next((el) => el.name === 'message' && el.getChild('x', 'jabber:x:conference') !== undefined);
    expect(got.attr('from')).toBe(`alice@${DOMAIN}/r1`);
    expect(got.getChild('x', 'jabber:x:conference')?.attr('jid')).toBe(room);
  });
});

describe('IQs to occupants', () => {
  it('answers a self-ping when joined and not-acceptable when not (XEP-0410)', async () => {
    const { room, bob } = await pair();
    const ping = (to: string) => x('iq', NS.CLIENT, { type: 'get', to }, x('ping', NS.PING));
    expect((await bob.iq(ping(`${room}/bob`))).attr('type')).toBe('result');
    const carol = await connect('carol');
    expect(stanzaError(await carol.iq(ping(`${room}/carol`)))?.condition).toBe('not-acceptable');
  });

  it('IQ forwarded between occupant JIDs', async () => {
    const { room, alice, bob } = await pair();
    const request = bob.iq(x('iq', NS.CLIENT, { type: 'get', to: `${room}/ali`, id: 'ver1' }, x('query', NS.VERSION)));
    const forwarded = await alice.next((el) => el.name === 'iq' && el.attr('type') === 'get');
    expect(forwarded.attr('from')).toBe(`${room}/bob`);
    expect(forwarded.attr('id')).not.toBe('ver1');
    alice.send(x('iq', NS.CLIENT, { type: 'result', to: forwarded.attr('from'), id: forwarded.attr('id') }, x('query', NS.VERSION, {}, x('name', NS.VERSION, {}, 'Client'))));

    const reply = await request;
    expect(reply.attr('from')).toBe(`${room}/ali`);
    expect(reply.getChild('query', NS.VERSION)?.getChildText('name', NS.VERSION)).toBe('Client');
  });
});

describe('room archive and activity', () => {
  it('serves MAM queries to readers only and reports per-room activity for members', async () => {
    const { room, alice, bob } = await pair();
    await adminSetOk(alice, room, { jid: `bob@${DOMAIN}`, affiliation: 'member' });
    const said = await say(alice, room, 'ali', 'archived line');
    const id = stanzaIdBy(said, room);

    const query = () => x('iq', NS.CLIENT, { type: 'set', to: room }, x('query', NS.MAM, { queryid: 'q1' }));
    const result = bob.next((el) => el.name === 'message' && el.getChild('result', NS.MAM) !== undefined);
    expect((await bob.iq(query())).attr('type')).toBe('result');
    const forwarded = (await result).getChild('result', NS.MAM)?.getChild('forwarded', NS.FORWARD)?.getChild('message', NS.CLIENT);
    expect(forwarded?.getChildText('body', NS.CLIENT)).toBe('archived line');

    const carol = await connect('carol');
    expect(stanzaError(await carol.iq(query()))?.condition).toBe('forbidden');

    const activity = await bob.iq(x('iq', NS.CLIENT, { type: 'get', to: MUC_SERVICE }, x('activity', NS_ACTIVITY)));
    const rooms = activity.getChild('activity', NS_ACTIVITY)?.getChildren('room', NS_ACTIVITY) ?? [];
    const mine = rooms.find((el) => el.attr('jid') === room);
    expect(mine?.attrs).toMatchObject({ 'last-id': id, joined: 'true' });
    expect(Number.isNaN(Date.parse(mine?.attr('last') ?? ''))).toBe(false);
    expect(rooms.every((el) => el.attr('jid') !== undefined)).toBe(true);

    const one = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: room }, x('activity', NS_ACTIVITY)));
    expect(one.getChild('activity', NS_ACTIVITY)?.getChildren('room', NS_ACTIVITY).map((el) => el.attr('jid'))).toEqual([room]);
    expect(stanzaError(await carol.iq(x('iq', NS.CLIENT, { type: 'get', to: room }, x('activity', NS_ACTIVITY))))?.condition).toBe('forbidden');
  });
});
