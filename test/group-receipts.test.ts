/** Parley's group read receipts (docs/protocol.md): who of a room's members has read a message. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { TestClient } from './support/client.js';
import { NS_GROUP_RECEIPTS, NS_MDS, displayed, eventually, marker, stanzaIdBy } from './support/markers.js';
import { adminSetOk, createRoom, enterSeen, groupchat, isGroupchat, roomJid } from './support/muc.js';
import { PASSWORD, errorCondition, online, publish } from './support/pep.js';
import { startTestServer, type TestServer } from './support/server.js';

const DOMAIN = 'example.test';
const jid = (name: string) => `${name}@${DOMAIN}`;
const ROOM = roomJid('team');

let server: TestServer;
let clients: TestClient[] = [];
let alice: TestClient;
let bob: TestClient;
let carol: TestClient;

beforeEach(async () => {
  server = await startTestServer();
  for (const name of ['alice', 'bob', 'carol', 'dave', 'erin', 'frank']) await server.createAccount(name, PASSWORD);

  // alice owns the room; bob, carol and dave are members, erin an admin; dave and erin never join.
  alice = await device('alice');
  bob = await device('bob');
  carol = await device('carol');
  await createRoom(alice, `${ROOM}/alice`);
  await adminSetOk(alice, ROOM, { jid: jid('bob'), affiliation: 'member' }, { jid: jid('carol'), affiliation: 'member' }, { jid: jid('dave'), affiliation: 'member' });
  await adminSetOk(alice, ROOM, { jid: jid('erin'), affiliation: 'admin' });
  await enterSeen(bob, `${ROOM}/bob`, [alice]);
  await enterSeen(carol, `${ROOM}/carol`, [alice, bob]);
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
  await server.stop();
});

async function device(username: string): Promise<TestClient> {
  const client = await online(server, username);
  clients.push(client);
  return client;
}

/** bob sends `body` to the room; resolves with the room's stanza id once carol has the message. */
async function bobSays(body: string): Promise<string> {
  const atCarol = carol.next(isGroupchat(`${ROOM}/bob`, body), 3000);
  bob.send(groupchat(ROOM, body));
  const id = stanzaIdBy(await atCarol, ROOM);
  if (id === undefined) throw new Error('the room gave the message no stanza id');
  return id;
}

/** Waits until `user`'s read position in the room is `stanzaId`. */
async function positionReaches(user: string, stanzaId: string): Promise<void> {
  await eventually(async () => {
    const positions = await server.server.storage.inbox.readPositions(DOMAIN, ROOM, [jid(user)]);
    return positions.get(jid(user)) === stanzaId ? true : undefined;
  });
}

/** carol marks `stanzaId` displayed in the room. */
async function carolReads(stanzaId: string): Promise<void> {
  carol.send(marker(ROOM, 'displayed', stanzaId, 'groupchat'));
  await positionReaches('carol', stanzaId);
}

function ask(client: TestClient, stanzaId: string, room = ROOM, to?: string): Promise<Element> {
  return client.iq(x('iq', NS.CLIENT, { type: 'get', to }, x('query', NS_GROUP_RECEIPTS, { room, id: stanzaId })));
}

interface Receipts {
  read: string[];
  unread: string[];
  counts: { read?: string; unread?: string };
}

/** Reads a result: each member as its JID, or '?' when the requester may not see it. */
function receiptsOf(reply: Element): Receipts {
  expect(reply.attr('type')).toBe('result');
  const query = reply.getChild('query', NS_GROUP_RECEIPTS)!;
  const names = (name: string) => query.getChildren(name, NS_GROUP_RECEIPTS).map((el) => el.attr('jid') ?? '?').sort();
  return { read: names('read'), unread: names('unread'), counts: { read: query.attr('read'), unread: query.attr('unread') } };
}

describe('who read a message', () => {
  it('sender sees readers, member JIDs only', async () => {
    const message = await bobSays('did you read this?');
    await carolReads(message);

    const receipts = receiptsOf(await ask(bob, message));
    expect(receipts.read).toEqual([jid('carol')]);
    // alice (owner) and erin (admin) are not on the member list that members may read; the room is semi-anonymous.
    expect(receipts.unread).toEqual(['?', '?', jid('dave')]);
    expect(receipts.counts).toEqual({ read: '1', unread: '3' });
  });

  it('a room owner may ask and sees every JID', async () => {
    const message = await bobSays('owner asks');
    await carolReads(message);

    const receipts = receiptsOf(await ask(alice, message));
    expect(receipts.read).toEqual([jid('carol')]);
    expect(receipts.unread).toEqual([jid('alice'), jid('dave'), jid('erin')]);
  });

  it('a room admin who never joined may ask', async () => {
    const message = await bobSays('admin asks');
    const erin = await device('erin');

    const receipts = receiptsOf(await ask(erin, message));
    expect(receipts.read).toEqual([]);
    expect(receipts.unread).toEqual([jid('alice'), jid('carol'), jid('dave'), jid('erin')]);
  });

  it('position before or after the message', async () => {
    const first = await bobSays('first');
    await carolReads(first);
    const second = await bobSays('second');

    expect(receiptsOf(await ask(bob, first)).read).toEqual([jid('carol')]);
    expect(receiptsOf(await ask(bob, second)).read).toEqual([]);

    await carolReads(second);
    expect(receiptsOf(await ask(bob, first)).read).toEqual([jid('carol')]);
    expect(receiptsOf(await ask(bob, second)).read).toEqual([jid('carol')]);
  });

  it('a member who is not joined reads through displayed synchronization', async () => {
    const message = await bobSays('for dave');
    const dave = await device('dave');
    const reply = await publish(dave, NS_MDS, ROOM, displayed(message, ROOM));
    expect(reply.attr('type')).toBe('result');
    await positionReaches('dave', message);

    expect(receiptsOf(await ask(bob, message)).read).toEqual([jid('dave')]);
  });
});

describe('authorization and errors', () => {
  it('another member gets forbidden', async () => {
    const message = await bobSays('not yours');
    expect(errorCondition(await ask(carol, message))).toBe('forbidden');
  });

  it('a user outside the room gets forbidden', async () => {
    const message = await bobSays('outsiders');
    const frank = await device('frank');
    expect(errorCondition(await ask(frank, message))).toBe('forbidden');
  });

  it('asking another account gets forbidden', async () => {
    const message = await bobSays('wrong address');
    expect(errorCondition(await ask(bob, message, ROOM, jid('alice')))).toBe('forbidden');
  });

  it('an unknown message gets item-not-found', async () => {
    await bobSays('something');
    expect(errorCondition(await ask(bob, '0000000000000aaaaaa'))).toBe('item-not-found');
  });

  it('an unknown room gets item-not-found', async () => {
    const message = await bobSays('elsewhere');
    expect(errorCondition(await ask(bob, message, roomJid('nowhere')))).toBe('item-not-found');
    expect(errorCondition(await ask(bob, message, 'team@example.test'))).toBe('item-not-found');
  });

  it('a request without a room or id gets bad-request', async () => {
    const reply = await bob.iq(x('iq', NS.CLIENT, { type: 'get' }, x('query', NS_GROUP_RECEIPTS, { room: ROOM })));
    expect(errorCondition(reply)).toBe('bad-request');
  });
});
