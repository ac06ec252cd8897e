import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Element, JID, NS, x } from '@parley/xmpp';

import type { ServerContext } from '../../../core/context.js';
import { createLogger } from '../../../log.js';
import { type Storage, openStorage } from '../../../storage/index.js';
import { RoomArchive, type RoomSender } from './index.js';

const SERVICE = 'conference.example.test';
const ROOM = JID.parse(`team@${SERVICE}`);
const ALICE: RoomSender = { nick: 'alice', real: JID.parse('alice@example.test/phone') };
const BOB: RoomSender = { nick: 'bob', real: JID.parse('bob@example.test/laptop') };
const log = createLogger('silent');

let dir: string;
let storage: Storage;
let archive: RoomArchive;

/** Builds the parts of the server a room archive uses outside MAM queries: the domain and the storage. */
function contextFor(opened: Storage): ServerContext {
  return { config: { domain: 'example.test', muc: { history_max: 100 } }, storage: opened } as unknown as ServerContext;
}

async function createRoom(name: string): Promise<void> {
  await storage.mucRooms.save({ service: SERVICE, name, persistent: true, public: true, config: '{}', subject: null, subjectNick: null, createdBy: 'alice@example.test', createdAt: 1 });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-room-archive-'));
  storage = await openStorage({ driver: 'sqlite', path: join(dir, 'parley.db') });
  await createRoom('team');
  archive = new RoomArchive(contextFor(storage), log);
  await archive.init();
});

afterEach(async () => {
  await storage.close();
  await rm(dir, { recursive: true, force: true });
});

function groupchat(sender: RoomSender, id: string, ...children: Element[]): Element {
  return x('message', NS.CLIENT, { type: 'groupchat', id, from: `${ROOM.toString()}/${sender.nick}`, to: sender.real.toString() }, ...children);
}

function textMessage(sender: RoomSender, id: string, text: string): Element {
  return groupchat(sender, id, x('body', NS.CLIENT, {}, text));
}

async function bodies(request = {}): Promise<string[]> {
  const history = await archive.history(ROOM, request, 20);
  return history.map((stanza) => stanza.getChildText('body', NS.CLIENT) ?? '');
}

describe('RoomArchive.append', () => {
  it('returns the stanza id it adds', async () => {
    const message = textMessage(ALICE, 'm1', 'hello');
    const id = await archive.append(ROOM, message, ALICE);
    expect(message.getChild('stanza-id', NS.STANZA_ID)?.attrs).toEqual({ by: ROOM.toString(), id });
  });

  it('removes a forged stanza id', async () => {
    const message = textMessage(ALICE, 'm1', 'hello').append(x('stanza-id', NS.STANZA_ID, { by: ROOM.toString(), id: 'forged' }));
    await archive.append(ROOM, message, ALICE);
    expect(message.getChildren('stanza-id', NS.STANZA_ID).map((el) => el.attr('id'))).not.toContain('forged');
  });

  it('skips a no-store message', async () => {
    const message = textMessage(ALICE, 'm1', 'hello').append(x('no-store', NS.HINTS));
    expect(await archive.append(ROOM, message, ALICE)).toBeUndefined();
  });

  it('stores without the recipient', async () => {
    await archive.append(ROOM, textMessage(ALICE, 'm1', 'hello'), ALICE);
    const [message] = await storage.mucArchive.select({ service: SERVICE, room: 'team' }, {}, 'asc', 1);
    expect(message?.stanza).not.toContain('alice@example.test/phone');
  });

  it('records the real bare JID', async () => {
    await archive.append(ROOM, textMessage(ALICE, 'm1', 'hello'), ALICE);
    const [message] = await storage.mucArchive.select({ service: SERVICE, room: 'team' }, {}, 'asc', 1);
    expect(message?.sender).toBe('alice@example.test');
  });

  it('rejects for a room without a row', async () => {
    await expect(archive.append(JID.parse(`gone@${SERVICE}`), textMessage(ALICE, 'm1', 'hello'), ALICE)).rejects.toThrow();
  });

  it('issues ids after a restart', async () => {
    const first = await archive.append(ROOM, textMessage(ALICE, 'm1', 'one'), ALICE);
    const restarted = new RoomArchive(contextFor(storage), log);
    await restarted.init();
    const second = await restarted.append(ROOM, textMessage(ALICE, 'm2', 'two'), ALICE);
    expect(second! > first!).toBe(true);
  });
});

describe('RoomArchive.duplicateOf', () => {
  function withOrigin(sender: RoomSender, id: string, text: string, originId: string): Element {
    return textMessage(sender, id, text).append(x('origin-id', NS.STANZA_ID, { id: originId }));
  }

  it('finds a message by origin-id while it is written and after', async () => {
    const writing = archive.append(ROOM, withOrigin(ALICE, 'm1', 'hello', 'o1'), ALICE);
    const pending = await archive.duplicateOf(ROOM, ALICE.real, 'o1');
    const id = await writing;
    expect(pending).toBe(id);
    expect(await archive.duplicateOf(ROOM, JID.parse('alice@example.test/other'), 'o1')).toBe(id);
  });

  it('keeps senders and rooms apart', async () => {
    await createRoom('other');
    await archive.append(ROOM, withOrigin(ALICE, 'm1', 'hello', 'o1'), ALICE);
    expect(await archive.duplicateOf(ROOM, BOB.real, 'o1')).toBeUndefined();
    expect(await archive.duplicateOf(JID.parse(`other@${SERVICE}`), ALICE.real, 'o1')).toBeUndefined();
  });
});

describe('RoomArchive.moderate', () => {
  const notice = (): Element => x('message', NS.CLIENT, { type: 'groupchat', from: ROOM.toString(), id: 'n1' }, x('retract', NS.RETRACT, { id: 'x' }));

  it('replaces the message with a tombstone and archives the notice', async () => {
    const id = await archive.append(ROOM, textMessage(ALICE, 'm1', 'rude'), ALICE);
    const announcement = notice();
    const noticeId = await archive.moderate(ROOM, { stanzaId: id!, by: `${ROOM.toString()}/mod`, reason: 'no' }, announcement);
    expect(announcement.getChild('stanza-id', NS.STANZA_ID)?.attr('id')).toBe(noticeId);
    const [original, stored] = await storage.mucArchive.select({ service: SERVICE, room: 'team' }, {}, 'asc', 2);
    expect(original?.retractedAt).not.toBeNull();
    expect(original?.stanza).not.toContain('rude');
    expect(stored?.stanzaId).toBe(noticeId);
  });

  it('rejects an unknown stanza id with item-not-found', async () => {
    await expect(archive.moderate(ROOM, { stanzaId: 'nope', by: `${ROOM.toString()}/mod` }, notice())).rejects.toMatchObject({ condition: 'item-not-found' });
  });

  it('returns undefined for a message retracted already', async () => {
    const id = await archive.append(ROOM, textMessage(ALICE, 'm1', 'rude'), ALICE);
    await archive.moderate(ROOM, { stanzaId: id!, by: `${ROOM.toString()}/mod` }, notice());
    expect(await archive.moderate(ROOM, { stanzaId: id!, by: `${ROOM.toString()}/mod` }, notice())).toBeUndefined();
  });
});

describe('RoomArchive edits', () => {
  it('applies a correction', async () => {
    await archive.append(ROOM, textMessage(ALICE, 'm1', 'helo'), ALICE);
    await archive.append(ROOM, groupchat(ALICE, 'm2', x('body', NS.CLIENT, {}, 'hello'), x('replace', NS.CORRECT, { id: 'm1' })), ALICE);
    expect(await bodies()).toEqual(['hello', 'hello']);
  });

  it('ignores a correction by another sender', async () => {
    await archive.append(ROOM, textMessage(ALICE, 'm1', 'helo'), ALICE);
    await archive.append(ROOM, groupchat(BOB, 'm2', x('body', NS.CLIENT, {}, 'hijacked'), x('replace', NS.CORRECT, { id: 'm1' })), BOB);
    expect((await bodies())[0]).toBe('helo');
  });

  it('applies a retraction by stanza id', async () => {
    const id = await archive.append(ROOM, textMessage(ALICE, 'm1', 'oops'), ALICE);
    await archive.append(ROOM, groupchat(ALICE, 'm2', x('retract', NS.RETRACT, { id })), ALICE);
    const [original] = await storage.mucArchive.select({ service: SERVICE, room: 'team' }, {}, 'asc', 1);
    expect(original?.retractedAt).not.toBeNull();
  });

  it('leaves retracted text unsearchable', async () => {
    const id = await archive.append(ROOM, textMessage(ALICE, 'm1', 'secret'), ALICE);
    await archive.append(ROOM, groupchat(ALICE, 'm2', x('retract', NS.RETRACT, { id })), ALICE);
    expect(await storage.mucArchive.count({ service: SERVICE, room: 'team' }, { tokens: ['secret'] })).toBe(0);
  });
});

describe('RoomArchive.history', () => {
  beforeEach(async () => {
    for (const [i, text] of ['one', 'two', 'three', 'four'].entries()) await archive.append(ROOM, textMessage(i % 2 ? BOB : ALICE, `m${i}`, text), i % 2 ? BOB : ALICE);
  });

  it('returns the default oldest first', async () => {
    expect(await bodies()).toEqual(['one', 'two', 'three', 'four']);
  });

  it('applies maxstanzas', async () => {
    expect(await bodies({ maxstanzas: 2 })).toEqual(['three', 'four']);
  });

  it('returns nothing for maxstanzas 0', async () => {
    expect(await bodies({ maxstanzas: 0 })).toEqual([]);
  });

  it('returns nothing for maxchars 0', async () => {
    expect(await bodies({ maxchars: 0 })).toEqual([]);
  });

  it('applies since', async () => {
    expect(await bodies({ since: Date.now() + 60_000 })).toEqual([]);
  });

  it('leaves out subject changes', async () => {
    await archive.append(ROOM, groupchat(ALICE, 's1', x('subject', NS.CLIENT, {}, 'Plans')), ALICE);
    expect(await bodies({ maxstanzas: 1 })).toEqual(['four']);
  });
});

describe('RoomArchive.lastActivity', () => {
  it('returns the newest message per room', async () => {
    await createRoom('quiet');
    await archive.append(ROOM, textMessage(ALICE, 'm1', 'one'), ALICE);
    const last = await archive.append(ROOM, textMessage(BOB, 'm2', 'two'), BOB);
    const activity = await archive.lastActivity([ROOM, JID.parse(`quiet@${SERVICE}`)]);
    expect([...activity.entries()].map(([room, entry]) => [room, entry.stanzaId])).toEqual([[ROOM.toString(), last]]);
  });
});
