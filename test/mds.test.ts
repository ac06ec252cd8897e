/** Message Displayed Synchronization (XEP-0490): read positions shared by the devices of one account. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { ReadPositionEvent } from '../packages/server/src/core/events.js';
import type { TestClient } from './support/client.js';
import { NS_MDS, displayed, eventually, markableChat, marker, positionOf, recordPositions, stanzaIdBy } from './support/markers.js';
import { createRoom, enterSeen, groupchat, isGroupchat, roomJid } from './support/muc.js';
import { PASSWORD, PUBSUB, PUBSUB_OWNER, errorCondition, eventEntry, getItems, isEvent, online, publish, pubsubCondition, sharePresence } from './support/pep.js';
import { startTestServer, type TestServer } from './support/server.js';

const DOMAIN = 'example.test';
const ALICE = `alice@${DOMAIN}`;
const BOB = `bob@${DOMAIN}`;
const NOTIFY = [`${NS_MDS}+notify`];
/** The node configuration that XEP-0490 section 4 requires clients to publish with. */
const MDS_OPTIONS = {
  'pubsub#persist_items': 'true',
  'pubsub#max_items': 'max',
  'pubsub#send_last_published_item': 'never',
  'pubsub#access_model': 'whitelist',
};
const QUIET_MS = 300;
/** Read moves fired back to back, faster than the server publishes them. */
const BURST = 20;

let server: TestServer;
let clients: TestClient[] = [];
let positions: ReadPositionEvent[];

beforeEach(async () => {
  server = await startTestServer();
  for (const name of ['alice', 'bob']) await server.createAccount(name, PASSWORD);
  positions = recordPositions(server);
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
  await server.stop();
});

async function device(username: string, resource: string, features?: string[]): Promise<TestClient> {
  const client = await online(server, username, { resource, features });
  clients.push(client);
  return client;
}

/** bob/b1 writes to alice; resolves with the stanza id of the message in alice's archive. */
async function bobWrites(b1: TestClient, a1: TestClient, id: string): Promise<string> {
  const received = a1.next((el) => el.name === 'message' && el.attr('id') === id && el.getChild('body', NS.CLIENT) !== undefined);
  b1.send(markableChat(ALICE, `text of ${id}`, id));
  const archiveId = stanzaIdBy(await received, ALICE);
  if (archiveId === undefined) throw new Error('the message has no stanza id by alice');
  return archiveId;
}

/** Returns the `<displayed/>` payload of the item `id` in alice's MDS node, fetched by `client`. */
async function storedPosition(client: TestClient, id: string): Promise<{ id?: string; by?: string } | undefined> {
  const reply = await getItems(client, NS_MDS);
  if (reply.attr('type') !== 'result') return undefined;
  const item = reply.getChild('pubsub', PUBSUB)?.getChild('items', PUBSUB)?.getChildren('item', PUBSUB).find((el) => el.attr('id') === id);
  return positionOf(item?.getChild('displayed', NS_MDS));
}

function notifiedPosition(notification: Element): { item?: string; id?: string; by?: string } {
  const item = eventEntry(notification);
  return { item: item?.attr('id'), ...positionOf(item?.getChild('displayed', NS_MDS)) };
}

async function readPosition(owner: string, conversation: string): Promise<string | undefined> {
  return (await server.server.storage.inbox.readPositions(DOMAIN, conversation, [owner])).get(owner);
}

describe('positions from chat markers', () => {
  it('a displayed marker on one device reaches the other device as a notification', async () => {
    const a1 = await device('alice', 'a1');
    const a2 = await device('alice', 'a2', NOTIFY);
    const b1 = await device('bob', 'b1');
    const archiveId = await bobWrites(b1, a1, 'm1');

    const notification = a2.next(isEvent(ALICE, NS_MDS), 3000);
    a1.send(marker(BOB, 'displayed', 'm1'));
    expect(notifiedPosition(await notification)).toEqual({ item: BOB, id: archiveId, by: ALICE });
    expect(await readPosition(ALICE, BOB)).toBe(archiveId);
  });

  it('offline device finds the position on login', async () => {
    const a1 = await device('alice', 'a1');
    const b1 = await device('bob', 'b1');
    const archiveId = await bobWrites(b1, a1, 'm2');
    a1.send(marker(BOB, 'displayed', 'm2'));
    await eventually(async () => ((await storedPosition(a1, BOB))?.id === archiveId ? true : undefined));

    const a2 = await device('alice', 'a2', NOTIFY);
    // send_last_published_item is 'never', so the device requests the node itself.
    await a2.nothing(isEvent(ALICE, NS_MDS), QUIET_MS);
    expect(await storedPosition(a2, BOB)).toEqual({ id: archiveId, by: ALICE });
  });

  it('a groupchat marker publishes the room position with the room as the issuer', async () => {
    const a1 = await device('alice', 'a1');
    const a2 = await device('alice', 'a2', NOTIFY);
    const b1 = await device('bob', 'b1');
    const room = roomJid('mds');
    await createRoom(a1, `${room}/alice`);
    await enterSeen(b1, `${room}/bob`, [a1]);
    const atAlice = a1.next(isGroupchat(`${room}/bob`, 'group text'));
    b1.send(groupchat(room, 'group text'));
    const roomId = stanzaIdBy(await atAlice, room)!;

    const notification = a2.next(isEvent(ALICE, NS_MDS), 3000);
    a1.send(marker(room, 'displayed', roomId, 'groupchat'));
    expect(notifiedPosition(await notification)).toEqual({ item: room, id: roomId, by: room });
  });

  it('an older marker does not move the published position back', async () => {
    const a1 = await device('alice', 'a1');
    const a2 = await device('alice', 'a2', NOTIFY);
    const b1 = await device('bob', 'b1');
    await bobWrites(b1, a1, 'old');
    const newer = await bobWrites(b1, a1, 'new');
    const notification = a2.next(isEvent(ALICE, NS_MDS), 3000);
    a1.send(marker(BOB, 'displayed', 'new'));
    await notification;

    a1.send(marker(BOB, 'displayed', 'old'));
    await a1.ping();
    await a2.nothing(isEvent(ALICE, NS_MDS), QUIET_MS);
    expect(await storedPosition(a1, BOB)).toEqual({ id: newer, by: ALICE });
  });
});

describe('positions in a fast conversation', () => {
  it('fast read moves publish the newest once', async () => {
    const a1 = await device('alice', 'a1');
    const a2 = await device('alice', 'a2', NOTIFY);
    const b1 = await device('bob', 'b1');
    const ids: string[] = [];
    for (let i = 0; i < BURST; i++) ids.push(await bobWrites(b1, a1, `burst-${i}`));

    // As the inbox fires them when each reply in a busy chat clears what came before it.
    const owner = a1.jid.bare();
    const conversation = b1.jid.bare();
    const fired = ids.map((stanzaId) => server.server.hooks.fire('inbox/read', { owner, conversation, stanzaId }));
    await Promise.all(fired);

    expect(notifiedPosition(await a2.next(isEvent(ALICE, NS_MDS), 3000)).id).toBe(ids.at(-1));
    await a2.nothing(isEvent(ALICE, NS_MDS), QUIET_MS);
    expect(await storedPosition(a1, BOB)).toEqual({ id: ids.at(-1), by: ALICE });
  });
});

describe('positions from messages the user sends', () => {
  it('a reply that clears unread messages is published to the other device', async () => {
    const a1 = await device('alice', 'a1');
    const a2 = await device('alice', 'a2', NOTIFY);
    const b1 = await device('bob', 'b1');
    await bobWrites(b1, a1, 'm10');

    const notification = a2.next(isEvent(ALICE, NS_MDS), 3000);
    a1.send(markableChat(BOB, 'my answer', 'r10'));
    const published = notifiedPosition(await notification);
    expect(published.item).toBe(BOB);
    expect(published.by).toBe(ALICE);
    expect(published.id).toBe(await readPosition(ALICE, BOB));
  });

  it('a message with nothing unread publishes nothing', async () => {
    const a1 = await device('alice', 'a1');
    const a2 = await device('alice', 'a2', NOTIFY);
    await device('bob', 'b1');

    a1.send(markableChat(BOB, 'first words', 'r11'));
    await a2.nothing(isEvent(ALICE, NS_MDS), QUIET_MS);
    expect(await readPosition(ALICE, BOB)).toBeDefined();
  });
});

describe('positions that clients publish', () => {
  it('a published position moves the read position', async () => {
    const a1 = await device('alice', 'a1');
    const b1 = await device('bob', 'b1');
    const archiveId = await bobWrites(b1, a1, 'm3');

    const reply = await publish(a1, NS_MDS, BOB, displayed(archiveId, ALICE), MDS_OPTIONS);
    expect(reply.attr('type')).toBe('result');
    expect(positions).toEqual([expect.objectContaining({ stanzaId: archiveId, source: 'mds' })]);
    expect(positions[0]!.conversation.toString()).toBe(BOB);
    expect(await readPosition(ALICE, BOB)).toBe(archiveId);
  });

  it('the other device gets the client\'s notification once, not a second one from the server', async () => {
    const a1 = await device('alice', 'a1');
    const a2 = await device('alice', 'a2', NOTIFY);
    const b1 = await device('bob', 'b1');
    const archiveId = await bobWrites(b1, a1, 'm4');

    await publish(a1, NS_MDS, BOB, displayed(archiveId, ALICE), MDS_OPTIONS);
    expect(notifiedPosition(await a2.next(isEvent(ALICE, NS_MDS), 3000))).toEqual({ item: BOB, id: archiveId, by: ALICE });
    await a2.nothing(isEvent(ALICE, NS_MDS), QUIET_MS);
  });

  it('a position that names no message of the conversation moves nothing', async () => {
    const a1 = await device('alice', 'a1');
    const b1 = await device('bob', 'b1');
    await bobWrites(b1, a1, 'm5');

    expect((await publish(a1, NS_MDS, BOB, displayed('zzzzzzzzzzzzzzzzzzz', ALICE), MDS_OPTIONS)).attr('type')).toBe('result');
    expect(positions).toEqual([]);
    expect(await readPosition(ALICE, BOB)).toBeUndefined();
  });

  it('a position whose issuer is not the owner\'s archive moves nothing', async () => {
    const a1 = await device('alice', 'a1');
    const b1 = await device('bob', 'b1');
    const archiveId = await bobWrites(b1, a1, 'm6');

    await publish(a1, NS_MDS, BOB, displayed(archiveId, BOB), MDS_OPTIONS);
    expect(positions).toEqual([]);
  });
});

describe('the node', () => {
  it('is created with the configuration XEP-0490 requires when the client gives no options', async () => {
    const a1 = await device('alice', 'a1');
    const b1 = await device('bob', 'b1');
    const archiveId = await bobWrites(b1, a1, 'm7');
    expect((await publish(a1, NS_MDS, BOB, displayed(archiveId, ALICE))).attr('type')).toBe('result');

    const get = await a1.iq(x('iq', NS.CLIENT, { type: 'get' }, x('pubsub', PUBSUB_OWNER, {}, x('configure', PUBSUB_OWNER, { node: NS_MDS }))));
    const fields = get.getChild('pubsub', PUBSUB_OWNER)?.getChild('configure', PUBSUB_OWNER)?.getChild('x', NS.DATA_FORMS)?.getChildren('field', NS.DATA_FORMS) ?? [];
    const value = (name: string) => fields.find((field) => field.attr('var') === name)?.getChildText('value', NS.DATA_FORMS);
    expect(value('pubsub#access_model')).toBe('whitelist');
    expect(value('pubsub#max_items')).toBe('max');
    expect(value('pubsub#send_last_published_item')).toBe('never');
    expect(value('pubsub#persist_items')).toBe('1');
  });

  it('server-created node meets XEP-0490 preconditions', async () => {
    const a1 = await device('alice', 'a1');
    const b1 = await device('bob', 'b1');
    await bobWrites(b1, a1, 'm8');
    const second = await bobWrites(b1, a1, 'm9');
    a1.send(marker(BOB, 'displayed', 'm8'));
    await eventually(async () => ((await storedPosition(a1, BOB)) ? true : undefined));

    expect((await publish(a1, NS_MDS, BOB, displayed(second, ALICE), MDS_OPTIONS)).attr('type')).toBe('result');
  });

  it('contacts cannot read it', async () => {
    await sharePresence(server, 'alice', 'bob');
    const a1 = await device('alice', 'a1');
    const b1 = await device('bob', 'b1');
    const archiveId = await bobWrites(b1, a1, 'm10');
    await publish(a1, NS_MDS, BOB, displayed(archiveId, ALICE), MDS_OPTIONS);

    const reply = await getItems(b1, NS_MDS, ALICE);
    expect(errorCondition(reply)).toBe('not-allowed');
    expect(pubsubCondition(reply)).toBe('closed-node');
  });
});
