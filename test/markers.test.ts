/** Chat markers (XEP-0333): routing, carbons, archiving, and the read positions they move. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { ReadPositionEvent } from '../packages/server/src/core/events.js';
import { TestClient } from './support/client.js';
import { forwardedMessage, queryArchive } from './support/mam.js';
import {
  NS_MARKERS,
  enableCarbons,
  isMarker,
  isMarkerCopy,
  markableChat,
  marker,
  recordPositions,
  stanzaIdBy,
} from './support/markers.js';
import { createRoom, enter, enterSeen, groupchat, isGroupchat, roomJid } from './support/muc.js';
import { startTestServer, type TestServer } from './support/server.js';

const PASSWORD = 'markers secret';
const DOMAIN = 'example.test';
const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
/** How long a test waits to be sure that nothing more arrives. */
const QUIET_MS = 300;

let server: TestServer;
let clients: TestClient[] = [];
let positions: ReadPositionEvent[];

beforeEach(async () => {
  server = await startTestServer();
  for (const name of ['alice', 'bob', 'carol']) await server.createAccount(name, PASSWORD);
  positions = recordPositions(server);
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
  await server.stop();
});

/** Connects `username/resource` with carbons enabled and initial presence. */
async function connect(username: string, resource: string): Promise<TestClient> {
  const client = await TestClient.connect(server, { username, password: PASSWORD, transport: 'plain', resource });
  clients.push(client);
  await enableCarbons(client);
  const echo = client.next((el) => el.name === 'presence' && el.attr('from') === client.jid.toString());
  client.send(x('presence', NS.CLIENT));
  await echo;
  return client;
}

/** bob/b1 sends alice a markable message; resolves with the copy alice/a1 got. */
async function bobWrites(b1: TestClient, a1: TestClient, id: string, extra: Element[] = []): Promise<Element> {
  const received = a1.next((el) => el.name === 'message' && el.attr('id') === id && el.getChild('body', NS.CLIENT) !== undefined);
  const message = markableChat(ALICE, `text of ${id}`, id);
  message.append(...extra);
  b1.send(message);
  return received;
}

/** Sends `stanza` and waits until the server handled it: a session handles its stanzas in order. */
async function sendAndSettle(client: TestClient, stanza: Element): Promise<void> {
  client.send(stanza);
  await client.ping();
}

/** Returns the archived messages of `client`'s archive with `peer` that carry a marker and no body. */
async function archivedMarkers(client: TestClient, peer: string): Promise<Element[]> {
  await server.server.storage.batch.drained();
  const outcome = await queryArchive(client, { fields: { with: peer } });
  expect(outcome.iq.attr('type')).toBe('result');
  const messages = outcome.results.map(forwardedMessage).filter((message): message is Element => message !== undefined);
  return messages.filter((message) => message.getChild('body', NS.CLIENT) === undefined && message.getChildByNs(NS_MARKERS) !== undefined);
}

describe('routing', () => {
  it('displayed marker reaches all devices', async () => {
    const a1 = await connect('alice', 'a1');
    const a2 = await connect('alice', 'a2');
    const b1 = await connect('bob', 'b1');
    const b2 = await connect('bob', 'b2');
    await bobWrites(b1, a1, 'm1');

    a1.send(marker(BOB, 'displayed', 'm1'));
    const atB1 = await b1.next(isMarker('displayed', 'm1'));
    const atB2 = await b2.next(isMarker('displayed', 'm1'));
    const copy = await a2.next(isMarkerCopy('sent', 'displayed', 'm1'));

    expect(atB1.attr('from')).toBe(`${ALICE}/a1`);
    expect(atB2.attr('from')).toBe(`${ALICE}/a1`);
    expect(copy.attr('from')).toBe(ALICE);
    await a1.nothing(isMarker('displayed', 'm1'), QUIET_MS);
  });

  it.each(['received', 'acknowledged'] as const)('a %s marker reaches the peer', async (kind) => {
    const a1 = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    await bobWrites(b1, a1, 'm2');

    a1.send(marker(BOB, kind, 'm2'));
    expect((await b1.next(isMarker(kind, 'm2'))).attr('from')).toBe(`${ALICE}/a1`);
  });

  it('a groupchat marker reaches every occupant of the room', async () => {
    const a1 = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    const room = roomJid('markers');
    await createRoom(a1, `${room}/alice`);
    await enterSeen(b1, `${room}/bob`, [a1]);

    const atAlice = a1.next(isGroupchat(`${room}/bob`, 'hello room'));
    b1.send(groupchat(room, 'hello room', 'g1'));
    const roomId = stanzaIdBy(await atAlice, room)!;
    expect(roomId).toBeDefined();

    a1.send(marker(room, 'displayed', roomId, 'groupchat'));
    const atBob = await b1.next(isMarker('displayed', roomId));
    expect(atBob.attr('from')).toBe(`${room}/alice`);
    expect(atBob.attr('type')).toBe('groupchat');
  });
});

describe('archiving', () => {
  it('a marker-only message goes into the archives of both parties', async () => {
    const a1 = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    await bobWrites(b1, a1, 'm3');
    a1.send(marker(BOB, 'displayed', 'm3'));
    await b1.next(isMarker('displayed', 'm3'));

    const inAlice = await archivedMarkers(a1, BOB);
    const inBob = await archivedMarkers(b1, ALICE);
    expect(inAlice.map((message) => message.getChild('displayed', NS_MARKERS)?.attr('id'))).toEqual(['m3']);
    expect(inBob.map((message) => message.getChild('displayed', NS_MARKERS)?.attr('id'))).toEqual(['m3']);
  });

  it('received and acknowledged markers are archived too', async () => {
    const a1 = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    await bobWrites(b1, a1, 'm4');
    await sendAndSettle(a1, marker(BOB, 'received', 'm4'));
    await sendAndSettle(a1, marker(BOB, 'acknowledged', 'm4'));

    const kinds = (await archivedMarkers(b1, ALICE)).map((message) => message.getChildByNs(NS_MARKERS)?.name);
    expect(kinds).toEqual(['received', 'acknowledged']);
  });

  it('a chat-state-only message stays out of the archives', async () => {
    const a1 = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    const composing = x('message', NS.CLIENT, { type: 'chat', to: BOB, id: 'cs1' }, x('composing', NS.CHATSTATES));
    a1.send(composing);
    await b1.next((el) => el.attr('id') === 'cs1');
    await server.server.storage.batch.drained();

    const outcome = await queryArchive(b1, { fields: { with: ALICE } });
    expect(outcome.results).toHaveLength(0);
  });

  it('a groupchat marker is in the room archive, not in join history', async () => {
    const a1 = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    const room = roomJid('archived-markers');
    await createRoom(a1, `${room}/alice`);
    await enterSeen(b1, `${room}/bob`, [a1]);
    const atAlice = a1.next(isGroupchat(`${room}/bob`, 'read me'));
    b1.send(groupchat(room, 'read me', 'g2'));
    const roomId = stanzaIdBy(await atAlice, room)!;
    a1.send(marker(room, 'displayed', roomId, 'groupchat'));
    await b1.next(isMarker('displayed', roomId));
    await server.server.storage.batch.drained();

    const outcome = await queryArchive(b1, { to: room });
    const archived = outcome.results.map(forwardedMessage);
    const markerIds = archived.map((message) => message?.getChild('displayed', NS_MARKERS)?.attr('id')).filter((id) => id !== undefined);
    expect(markerIds).toEqual([roomId]);

    const carol = await connect('carol', 'c1');
    await enter(carol, `${room}/carol`, { history: { maxstanzas: '10' } });
    const history: string[] = [];
    for (;;) {
      // The room sends its subject after the history (XEP-0045 section 7.2.15).
      const message = await carol.next((el) => el.name === 'message' && (el.attr('from') ?? '').startsWith(room));
      if (message.getChild('subject', NS.CLIENT)) break;
      history.push(message.getChild('displayed', NS_MARKERS) ? 'marker' : (message.getChildText('body', NS.CLIENT) ?? ''));
    }
    expect(history).toEqual(['read me']);
  });
});

describe('read positions', () => {
  it('displayed marker moves the position', async () => {
    const a1 = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    const message = await bobWrites(b1, a1, 'm5');
    const archiveId = stanzaIdBy(message, ALICE);
    expect(archiveId).toBeDefined();

    await sendAndSettle(a1, marker(BOB, 'displayed', 'm5'));
    expect(positions).toEqual([expect.objectContaining({ stanzaId: archiveId, source: 'marker' })]);
    expect(positions[0]!.owner.toString()).toBe(ALICE);
    expect(positions[0]!.conversation.toString()).toBe(BOB);
  });

  it('an acknowledged marker moves the position too', async () => {
    const a1 = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    const archiveId = stanzaIdBy(await bobWrites(b1, a1, 'm6'), ALICE);

    await sendAndSettle(a1, marker(BOB, 'acknowledged', 'm6'));
    expect(positions.map((event) => event.stanzaId)).toEqual([archiveId]);
  });

  it('a marker that names the message by its origin-id finds it', async () => {
    const a1 = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    const message = await bobWrites(b1, a1, 'm7', [x('origin-id', NS.STANZA_ID, { id: 'origin-m7' })]);

    await sendAndSettle(a1, marker(BOB, 'displayed', 'origin-m7'));
    expect(positions.map((event) => event.stanzaId)).toEqual([stanzaIdBy(message, ALICE)]);
  });

  it('a marker that names the message by its stanza id finds it', async () => {
    const a1 = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    const archiveId = stanzaIdBy(await bobWrites(b1, a1, 'm8'), ALICE)!;

    await sendAndSettle(a1, marker(BOB, 'displayed', archiveId));
    expect(positions.map((event) => event.stanzaId)).toEqual([archiveId]);
  });

  it('a received marker does not move the position', async () => {
    const a1 = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    await bobWrites(b1, a1, 'm9');

    await sendAndSettle(a1, marker(BOB, 'received', 'm9'));
    expect(positions).toEqual([]);
  });

  it('unknown message moves nothing', async () => {
    const a1 = await connect('alice', 'a1');
    await connect('bob', 'b1');

    await sendAndSettle(a1, marker(BOB, 'displayed', 'never-sent'));
    expect(positions).toEqual([]);
  });

  it('marker for another contact moves nothing', async () => {
    const a1 = await connect('alice', 'a1');
    const c1 = await connect('carol', 'c1');
    await connect('bob', 'b1');
    await bobWrites(c1, a1, 'from-carol');

    await sendAndSettle(a1, marker(BOB, 'displayed', 'from-carol'));
    expect(positions).toEqual([]);
  });

  it('a marker for alice\'s own message does not move her position', async () => {
    const a1 = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    a1.send(markableChat(BOB, 'mine', 'own1'));
    await b1.next((el) => el.attr('id') === 'own1');

    await sendAndSettle(a1, marker(BOB, 'displayed', 'own1'));
    expect(positions).toEqual([]);
  });

  it('groupchat marker moves the room position', async () => {
    const a1 = await connect('alice', 'a1');
    const b1 = await connect('bob', 'b1');
    const room = roomJid('positions');
    await createRoom(a1, `${room}/alice`);
    await enterSeen(b1, `${room}/bob`, [a1]);
    const atAlice = a1.next(isGroupchat(`${room}/bob`, 'read me'));
    b1.send(groupchat(room, 'read me'));
    const roomId = stanzaIdBy(await atAlice, room)!;

    await sendAndSettle(a1, marker(room, 'displayed', roomId, 'groupchat'));
    expect(positions).toEqual([expect.objectContaining({ stanzaId: roomId, source: 'marker' })]);
    expect(positions[0]!.owner.toString()).toBe(ALICE);
    expect(positions[0]!.conversation.toString()).toBe(room);
  });

  it('made-up room id moves nothing', async () => {
    const a1 = await connect('alice', 'a1');
    const room = roomJid('made-up');
    await createRoom(a1, `${room}/alice`);

    await sendAndSettle(a1, marker(room, 'displayed', '0000000000000zzzzzz', 'groupchat'));
    expect(positions).toEqual([]);
  });
});
