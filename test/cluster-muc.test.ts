import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '../packages/xmpp/src/index.js';
import { TestClient } from './support/client.js';
import { useTestCluster } from './support/cluster.js';
import { queryArchive } from './support/mam.js';
import { MUC_SERVICE, createRoom, enter, enterSeen, groupchat, isGroupchat, isPresence } from './support/muc.js';

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const WAIT_MS = 5000;
const LEASE_PREFIX = `parley:cluster:lease:muc:${MUC_SERVICE}/`;

const env = useTestCluster(3, USERS);
const connect = (node: number, user: string) => env.connect(node, user);
let roomCounter = 0;

/** Creates a persistent room from `owner` as nick `nick`; returns the room JID. */
async function persistentRoom(owner: TestClient, nick: string): Promise<string> {
  const room = `cluster${++roomCounter}@${MUC_SERVICE}`;
  await createRoom(owner, `${room}/${nick}`, { 'muc#roomconfig_persistentroom': true });
  return room;
}

/** Sends a groupchat message and waits until each client in `readers` got it. */
async function sayTo(sender: TestClient, room: string, nick: string, body: string, readers: TestClient[]): Promise<void> {
  const received = readers.map((reader) => reader.next(isGroupchat(`${room}/${nick}`, body), WAIT_MS));
  sender.send(groupchat(room, body));
  await Promise.all(received);
}

function bodyOf(message: Element): string {
  return message.getChildText('body', NS.CLIENT) ?? '';
}

/** Returns the bodies of the room's archive (one page of up to 100). */
async function archivedBodies(client: TestClient, room: string): Promise<string[]> {
  const outcome = await queryArchive(client, { to: room, rsm: { max: 100 } });
  return outcome.results.flatMap((result) => {
    const message = result.getChild('forwarded', NS.FORWARD)?.getChild('message', NS.CLIENT);
    return message?.getChild('body', NS.CLIENT) === undefined ? [] : [bodyOf(message)];
  });
}

function nodeOfLease(room: string): Promise<string | null> {
  return env.redis.get(LEASE_PREFIX + room.slice(0, room.indexOf('@')));
}

describe('group chat across cluster nodes', () => {
  it('occupants on three nodes chat', async () => {
    const alice = await connect(0, 'alice');
    const bob = await connect(1, 'bob');
    const carol = await connect(2, 'carol');
    const room = await persistentRoom(alice, 'ali');
    expect(await nodeOfLease(room)).toBe('node-0');

    await enterSeen(bob, `${room}/bob`, [alice]);
    const entered = await enterSeen(carol, `${room}/carol`, [alice, bob]);
    expect(entered.others.map((presence) => presence.attr('from')).sort()).toEqual([`${room}/ali`, `${room}/bob`]);

    await sayTo(bob, room, 'bob', 'from node 1', [alice, bob, carol]);
    await sayTo(carol, room, 'carol', 'from node 2', [alice, bob, carol]);
    await sayTo(alice, room, 'ali', 'from node 0', [alice, bob, carol]);

    bob.send(x('message', NS.CLIENT, { to: `${room}/carol`, type: 'chat' }, x('body', NS.CLIENT, {}, 'private')));
    const pm = await carol.next((el) => el.name === 'message' && el.attr('type') === 'chat', WAIT_MS);
    expect(pm.attr('from')).toBe(`${room}/bob`);

    const left = alice.next(isPresence(`${room}/carol`, { type: 'unavailable' }), WAIT_MS);
    await carol.close();
    await left;
  }, 30_000);

  it('history and archive anywhere', async () => {
    const alice = await connect(0, 'alice');
    const bob = await connect(1, 'bob');
    const room = await persistentRoom(alice, 'ali');
    await enterSeen(bob, `${room}/bob`, [alice]);
    for (const body of ['one', 'two', 'three']) await sayTo(bob, room, 'bob', body, [alice, bob]);

    const dave = await connect(2, 'dave');
    const history: string[] = [];
    const readHistory = (async () => {
      for (let count = 0; count < 2; count++) history.push(bodyOf(await dave.next((el) => el.name === 'message' && el.getChild('delay', NS.DELAY) !== undefined, WAIT_MS)));
    })();
    await enter(dave, `${room}/dave`, { history: { maxstanzas: '2' } });
    await readHistory;
    expect(history).toEqual(['two', 'three']);
    expect(await archivedBodies(dave, room)).toEqual(['one', 'two', 'three']);
  }, 30_000);

  it('acks after the host stores', async () => {
    const alice = await connect(0, 'alice');
    const bob = await connect(1, 'bob');
    const room = await persistentRoom(alice, 'ali');
    await enterSeen(bob, `${room}/bob`, [alice]);

    bob.send(x('enable', NS.SM, {}));
    await bob.next((el) => el.name === 'enabled' && el.ns === NS.SM, WAIT_MS);
    const bodies = Array.from({ length: 20 }, (_, index) => `acked ${index}`);
    for (const body of bodies) bob.send(groupchat(room, body));
    bob.send(x('r', NS.SM));
    const ack = await bob.next((el) => el.name === 'a' && el.ns === NS.SM && Number(el.attr('h')) >= bodies.length, WAIT_MS);
    expect(Number(ack.attr('h'))).toBe(bodies.length);
    expect(await archivedBodies(alice, room)).toEqual(bodies);
  }, 30_000);
});

// Kills node 0, so it runs last.
describe('a room whose node dies', () => {
  it('room survives host death', async () => {
    const alice = await connect(0, 'alice');
    const bob = await connect(1, 'bob');
    const carol = await connect(2, 'carol');
    const room = await persistentRoom(alice, 'ali');
    await enterSeen(bob, `${room}/bob`, [alice]);
    await enterSeen(carol, `${room}/carol`, [alice, bob]);
    await sayTo(bob, room, 'bob', 'before', [alice, bob, carol]);
    expect(await nodeOfLease(room)).toBe('node-0');

    await env.cluster.kill(0);
    alice.kill();
    const aliceGone = [bob, carol].map((client) => client.next(isPresence(`${room}/ali`, { type: 'unavailable' }), WAIT_MS * 2));
    await sayTo(bob, room, 'bob', 'after', [bob, carol]);
    await Promise.all(aliceGone);
    expect(['node-1', 'node-2']).toContain(await nodeOfLease(room));

    await sayTo(carol, room, 'carol', 'still here', [bob, carol]);
    expect(await archivedBodies(bob, room)).toEqual(['before', 'after', 'still here']);
  }, 40_000);
});
