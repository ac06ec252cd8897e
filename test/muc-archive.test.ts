/**
 * Room archives over real sockets: discussion history on join (XEP-0045 section 7.2.15),
 * MAM queries addressed to a room (XEP-0313), who may read them and what they reveal,
 * catching up after a rejoin, the Parley activity query, restarts and destroyed rooms.
 */
import { describe, expect, it } from 'vitest';
import { type Element, NS, readStanzaErrorCondition, serialize, x } from '@parley/xmpp';
import type { TestClient } from './support/client.js';
import { delay } from './support/raw.js';
import { bare, useMucServer } from './support/muc-fixture.js';
import { MUC_SERVICE, adminSetOk, createRoom, enter, enterSeen, groupchat, isFromRoom, isSubjectMessage, leave, roomOf, say } from './support/muc.js';
import { type QueryOptions, type QueryOutcome, bodies, finOf, forwardedMessage, ids, queryArchive, stamps } from './support/mam.js';

const ACTIVITY = 'urn:parley:muc:activity:0';
const MUC_USER = 'http://jabber.org/protocol/muc#user';
const WAIT_MS = 5000;

const fixture = useMucServer();

/** Enters a room and collects the discussion history that comes before the subject. */
async function enterWithHistory(client: TestClient, occupant: string, history?: Record<string, string>): Promise<Element[]> {
  const room = roomOf(occupant);
  await enter(client, occupant, history ? { history } : {});
  const fromRoom = isFromRoom(room);
  const isSubject = isSubjectMessage(room);
  const messages: Element[] = [];
  for (;;) {
    const message = await client.next((el) => el.name === 'message' && fromRoom(el), WAIT_MS);
    if (isSubject(message)) return messages;
    messages.push(message);
  }
}

function texts(messages: Element[]): string[] {
  return messages.map((message) => message.getChildText('body', NS.CLIENT) ?? '');
}

function stanzaIdOf(message: Element, room: string): string | undefined {
  return message.getChildren('stanza-id', NS.STANZA_ID).find((el) => el.attr('by') === room)?.attr('id');
}

/** Posts messages one after the other, each reflected before the next; returns the reflections. */
async function postAll(client: TestClient, room: string, nick: string, messages: string[]): Promise<Element[]> {
  const reflections: Element[] = [];
  for (const body of messages) reflections.push(await say(client, room, nick, body));
  return reflections;
}

function roomQuery(client: TestClient, room: string, options: Omit<QueryOptions, 'to'> = {}): Promise<QueryOutcome> {
  return queryArchive(client, { ...options, to: room });
}

function errorCondition(stanza: Element): string | undefined {
  const error = stanza.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

function activityIq(to: string): Element {
  return x('iq', NS.CLIENT, { type: 'get', to }, x('activity', ACTIVITY));
}

function activityRooms(reply: Element): Record<string, Record<string, string | undefined>> {
  const rooms: Record<string, Record<string, string | undefined>> = {};
  for (const room of reply.getChild('activity', ACTIVITY)?.getChildren('room', ACTIVITY) ?? []) {
    rooms[room.attr('jid') ?? ''] = { 'last-id': room.attr('last-id'), last: room.attr('last'), joined: room.attr('joined') };
  }
  return rooms;
}

/** Sets up a room owned by crone1 with ten messages, alternating between crone1 and hag66. */
async function busyRoom(): Promise<{ room: string; owner: TestClient; member: TestClient; texts: string[] }> {
  const room = fixture.newRoom();
  const owner = await fixture.connect('crone1');
  const member = await fixture.connect('hag66');
  await createRoom(owner, `${room}/crone`);
  await enterSeen(member, `${room}/hag`, [owner]);
  const sent: string[] = [];
  for (let i = 1; i <= 10; i++) {
    const text = `message ${String(i).padStart(2, '0')}`;
    if (i % 2 === 1) await say(owner, room, 'crone', text);
    else await say(member, room, 'hag', text);
    sent.push(text);
  }
  return { room, owner, member, texts: sent };
}

describe('discussion history on join', () => {
  it('sends the default history with delay and stanza id', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`);
    const reflections = await postAll(owner, room, 'crone', ['h1', 'h2', 'h3']);

    const guest = await fixture.connect('wiccarocks');
    const history = await enterWithHistory(guest, `${room}/wicca`);
    expect(texts(history)).toEqual(['h1', 'h2', 'h3']);
    expect(history.map((message) => message.getChild('delay', NS.DELAY)?.attr('from'))).toEqual([room, room, room]);
    expect(history.map((message) => stanzaIdOf(message, room))).toEqual(reflections.map((message) => stanzaIdOf(message, room)));
  });

  it('applies maxstanzas', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`);
    await postAll(owner, room, 'crone', ['h1', 'h2', 'h3', 'h4', 'h5']);

    const guest = await fixture.connect('wiccarocks');
    expect(texts(await enterWithHistory(guest, `${room}/wicca`, { maxstanzas: '2' }))).toEqual(['h4', 'h5']);
  });

  it('sends nothing for maxstanzas 0', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`);
    await postAll(owner, room, 'crone', ['h1', 'h2']);

    const guest = await fixture.connect('wiccarocks');
    expect(await enterWithHistory(guest, `${room}/wicca`, { maxstanzas: '0' })).toEqual([]);
  });

  it('applies maxchars to whole stanzas', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`);
    await postAll(owner, room, 'crone', ['h1', 'h2', 'h3']);

    const first = await fixture.connect('wiccarocks');
    const [sample] = (await enterWithHistory(first, `${room}/wicca`, { maxstanzas: '1' })).map((message) => message.clone());
    // The count covers the stanza as the room stores it, without the recipient's address.
    sample!.setAttr('to', undefined);
    const size = serialize(sample!).length;

    const second = await fixture.connect('hecate');
    expect(texts(await enterWithHistory(second, `${room}/hecate`, { maxchars: String(size * 2 - 1) }))).toEqual(['h3']);
    const third = await fixture.connect('pistol');
    expect(texts(await enterWithHistory(third, `${room}/pistol`, { maxchars: String(size * 2) }))).toEqual(['h2', 'h3']);
  });

  it('sends nothing for maxchars 0', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`);
    await postAll(owner, room, 'crone', ['h1']);

    const guest = await fixture.connect('wiccarocks');
    expect(await enterWithHistory(guest, `${room}/wicca`, { maxchars: '0' })).toEqual([]);
  });

  it('applies seconds and since', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`);
    await postAll(owner, room, 'crone', ['old']);
    await delay(1500);
    const boundary = new Date().toISOString();
    await postAll(owner, room, 'crone', ['new']);

    const guest = await fixture.connect('wiccarocks');
    expect(texts(await enterWithHistory(guest, `${room}/wicca`, { seconds: '1' }))).toEqual(['new']);
    const other = await fixture.connect('hecate');
    expect(texts(await enterWithHistory(other, `${room}/hecate`, { since: boundary }))).toEqual(['new']);
  });

  it('leaves out no-store messages', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`);
    owner.send(groupchat(room, 'off the record').append(x('no-store', NS.HINTS)));
    await postAll(owner, room, 'crone', ['on the record']);

    const guest = await fixture.connect('wiccarocks');
    expect(texts(await enterWithHistory(guest, `${room}/wicca`))).toEqual(['on the record']);
  });
  it('drops a forged real JID', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`);
    const forged = groupchat(room, 'trust me').append(x('x', MUC_USER, {}, x('item', MUC_USER, { jid: bare('hecate') })));
    const reflected = owner.next((el) => el.name === 'message' && el.getChildText('body', NS.CLIENT) === 'trust me', WAIT_MS);
    owner.send(forged);
    await reflected;

    const guest = await fixture.connect('wiccarocks');
    const [message] = await enterWithHistory(guest, `${room}/wicca`);
    expect(message?.getChild('x', MUC_USER)).toBeUndefined();
  });
});

describe('MAM on a room', () => {
  it('returns the archive in order', async () => {
    const { room, owner, texts: sent } = await busyRoom();
    const outcome = await roomQuery(owner, room);
    expect(bodies(outcome)).toEqual(sent);
    expect(finOf(outcome)).toMatchObject({ count: '10', complete: 'true' });
  });

  it('sends results from the room', async () => {
    const { room, owner } = await busyRoom();
    const outcome = await roomQuery(owner, room, { rsm: { max: 1 } });
    const result = outcome.results[0]!;
    expect(forwardedMessage(result)?.attr('from')).toBe(`${room}/crone`);
    expect(stamps(outcome)[0]).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('uses the stanza ids occupants got', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`);
    const reflections = await postAll(owner, room, 'crone', ['a', 'b']);
    expect(ids(await roomQuery(owner, room))).toEqual(reflections.map((message) => stanzaIdOf(message, room)));
  });

  it('pages forwards with RSM', async () => {
    const { room, owner, texts: sent } = await busyRoom();
    const first = await roomQuery(owner, room, { rsm: { max: 4 } });
    const second = await roomQuery(owner, room, { rsm: { max: 4, after: finOf(first).last! } });
    const third = await roomQuery(owner, room, { rsm: { max: 4, after: finOf(second).last! } });
    expect([...bodies(first), ...bodies(second), ...bodies(third)]).toEqual(sent);
    expect([finOf(first).complete, finOf(second).complete, finOf(third).complete]).toEqual([undefined, undefined, 'true']);
  });

  it('pages backwards with RSM', async () => {
    const { room, owner, texts: sent } = await busyRoom();
    const last = await roomQuery(owner, room, { rsm: { max: 4, before: '' } });
    const previous = await roomQuery(owner, room, { rsm: { max: 4, before: finOf(last).first! } });
    expect(bodies(last)).toEqual(sent.slice(6));
    expect(bodies(previous)).toEqual(sent.slice(2, 6));
  });

  it('filters with an occupant JID', async () => {
    const { room, owner, texts: sent } = await busyRoom();
    const outcome = await roomQuery(owner, room, { fields: { with: `${room}/hag` } });
    expect(bodies(outcome)).toEqual(sent.filter((_, i) => i % 2 === 1));
  });

  it('filters with start and end', async () => {
    const { room, owner, texts: sent } = await busyRoom();
    const all = await roomQuery(owner, room);
    const times = stamps(all);
    const outcome = await roomQuery(owner, room, { fields: { start: times[2]!, end: times[4]! } });
    // Stamps have millisecond precision, so neighbours within the same millisecond match too.
    expect(bodies(outcome)).toEqual(expect.arrayContaining(sent.slice(2, 5)));
    expect(bodies(outcome)).not.toContain(sent[0]);
  });

  it('filters with after-id and before-id', async () => {
    const { room, owner, texts: sent } = await busyRoom();
    const all = ids(await roomQuery(owner, room));
    const outcome = await roomQuery(owner, room, { fields: { 'after-id': all[2]!, 'before-id': all[6]! } });
    expect(bodies(outcome)).toEqual(sent.slice(3, 6));
  });

  it('returns only the count for max 0', async () => {
    const { room, owner } = await busyRoom();
    const outcome = await roomQuery(owner, room, { rsm: { max: 0 } });
    expect(outcome.results).toEqual([]);
    expect(finOf(outcome).count).toBe('10');
  });

  it('rejects an unknown id', async () => {
    const { room, owner } = await busyRoom();
    const outcome = await roomQuery(owner, room, { fields: { 'after-id': 'no-such-id' } });
    expect(errorCondition(outcome.iq)).toBe('item-not-found');
  });

  it('searches the full text', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`);
    await postAll(owner, room, 'crone', ['the cauldron bubbles', 'eye of newt', 'toil and trouble']);
    const outcome = await roomQuery(owner, room, { fields: { [`{${NS.FULLTEXT}}fulltext`]: 'newt' } });
    expect(bodies(outcome)).toEqual(['eye of newt']);
  });

  it('returns the query form', async () => {
    const { room, owner } = await busyRoom();
    const reply = await owner.iq(x('iq', NS.CLIENT, { type: 'get', to: room }, x('query', NS.MAM)));
    const vars = reply.getChild('query', NS.MAM)?.getChild('x', NS.DATA_FORMS)?.getChildren('field', NS.DATA_FORMS).map((field) => field.attr('var'));
    expect(vars).toEqual(expect.arrayContaining(['FORM_TYPE', 'with', 'start', 'end', 'after-id', 'before-id', 'ids']));
  });

  it('returns the metadata', async () => {
    const { room, owner } = await busyRoom();
    const all = ids(await roomQuery(owner, room));
    const reply = await owner.iq(x('iq', NS.CLIENT, { type: 'get', to: room }, x('metadata', NS.MAM)));
    const metadata = reply.getChild('metadata', NS.MAM);
    expect([metadata?.getChild('start', NS.MAM)?.attr('id'), metadata?.getChild('end', NS.MAM)?.attr('id')]).toEqual([all[0], all[9]]);
  });

  it('shows a correction in place', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`);
    const original = owner.next((el) => el.name === 'message' && el.getChildText('body', NS.CLIENT) === 'helo', WAIT_MS);
    owner.send(groupchat(room, 'helo', 'orig-1'));
    await original;
    const correction = groupchat(room, 'hello', 'fix-1').append(x('replace', NS.CORRECT, { id: 'orig-1' }));
    const reflected = owner.next((el) => el.name === 'message' && el.attr('id') === 'fix-1', WAIT_MS);
    owner.send(correction);
    await reflected;
    expect(bodies(await roomQuery(owner, room))[0]).toBe('hello');
  });

  it('tombstones a retraction', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`);
    const [sent] = await postAll(owner, room, 'crone', ['regrettable']);
    const retraction = x('message', NS.CLIENT, { type: 'groupchat', to: room, id: 'retract-1' }, x('retract', NS.RETRACT, { id: stanzaIdOf(sent!, room) }));
    const reflected = owner.next((el) => el.name === 'message' && el.attr('id') === 'retract-1', WAIT_MS);
    owner.send(retraction);
    await reflected;
    const [first] = (await roomQuery(owner, room)).results;
    const message = forwardedMessage(first!);
    expect(message?.getChild('body', NS.CLIENT)).toBeUndefined();
    expect(message?.getChild('retracted', NS.RETRACT)).toBeDefined();
  });
});

describe('room archive access', () => {
  it('refuses a non-member of a members-only room', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`, { 'muc#roomconfig_membersonly': true });
    await postAll(owner, room, 'crone', ['members only']);

    const outsider = await fixture.connect('pistol');
    const outcome = await roomQuery(outsider, room);
    expect(errorCondition(outcome.iq)).toBe('forbidden');
    expect(outcome.results).toEqual([]);
  });

  it('lets a member read without joining', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`, { 'muc#roomconfig_membersonly': true });
    await postAll(owner, room, 'crone', ['members only']);
    await adminSetOk(owner, room, { jid: bare('hecate'), affiliation: 'member' });

    const member = await fixture.connect('hecate');
    expect(bodies(await roomQuery(member, room))).toEqual(['members only']);
  });

  it('hides real JIDs from participants', async () => {
    const { room, member } = await busyRoom();
    const outcome = await roomQuery(member, room);
    const payloads = outcome.results.flatMap((result) => forwardedMessage(result)?.getChildren('x', MUC_USER) ?? []);
    expect(payloads).toEqual([]);
  });

  it('hides real JIDs from the with filter', async () => {
    const { room, member } = await busyRoom();
    const outcome = await roomQuery(member, room, { fields: { with: bare('crone1') } });
    expect(outcome.results).toEqual([]);
  });

  it('shows real JIDs to the owner', async () => {
    const { room, owner } = await busyRoom();
    const outcome = await roomQuery(owner, room, { rsm: { max: 2 } });
    const jids = outcome.results.map((result) => forwardedMessage(result)?.getChild('x', MUC_USER)?.getChild('item', MUC_USER)?.attr('jid'));
    expect(jids).toEqual([bare('crone1'), bare('hag66')]);
  });

  it('shows real JIDs in a non-anonymous room', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`, { 'muc#roomconfig_whois': 'anyone' });
    const guest = await fixture.connect('wiccarocks');
    await enterSeen(guest, `${room}/wicca`, [owner]);
    await postAll(owner, room, 'crone', ['open book']);

    const outcome = await roomQuery(guest, room);
    expect(forwardedMessage(outcome.results[0]!)?.getChild('x', MUC_USER)?.getChild('item', MUC_USER)?.attr('jid')).toBe(bare('crone1'));
  });
});

describe('rejoin catch-up', () => {
  it('pages exactly the missed messages', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`);
    const member = await fixture.connect('hag66');
    await enterSeen(member, `${room}/hag`, [owner]);

    await postAll(owner, room, 'crone', ['before 1', 'before 2']);
    const seen = await member.next((el) => el.name === 'message' && el.getChildText('body', NS.CLIENT) === 'before 2', WAIT_MS);
    const lastSeen = stanzaIdOf(seen, room);
    await leave(member, `${room}/hag`);

    const missed = ['missed 1', 'missed 2', 'missed 3', 'missed 4', 'missed 5'];
    await postAll(owner, room, 'crone', missed);

    expect(await enterWithHistory(member, `${room}/hag`, { maxstanzas: '0' })).toEqual([]);
    const outcome = await roomQuery(member, room, { fields: { 'after-id': lastSeen! } });
    expect(bodies(outcome)).toEqual(missed);
    expect(finOf(outcome).complete).toBe('true');
  });
});

describe('activity query', () => {
  it('lists the member rooms with last id and joined flag', async () => {
    const owner = await fixture.connect('crone1');
    const busy = fixture.newRoom();
    const quiet = fixture.newRoom();
    const visited = fixture.newRoom();
    await createRoom(owner, `${busy}/crone`, { 'muc#roomconfig_persistentroom': true });
    await createRoom(owner, `${quiet}/crone`, { 'muc#roomconfig_persistentroom': true });
    await createRoom(owner, `${visited}/crone`);
    await adminSetOk(owner, busy, { jid: bare('bard'), affiliation: 'member' });
    await adminSetOk(owner, quiet, { jid: bare('bard'), affiliation: 'member' });
    const [, last] = await postAll(owner, busy, 'crone', ['one', 'two']);

    const bard = await fixture.connect('bard');
    await enterSeen(bard, `${quiet}/bard`, [owner]);
    await enterSeen(bard, `${visited}/bard`, [owner]);
    const reply = await bard.iq(activityIq(MUC_SERVICE));
    const rooms = activityRooms(reply);
    expect(Object.keys(rooms).sort()).toEqual([busy, quiet].sort());
    expect(rooms[busy]).toMatchObject({ 'last-id': stanzaIdOf(last!, busy), joined: 'false' });
    expect(rooms[busy]?.last).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(rooms[quiet]).toEqual({ 'last-id': undefined, last: undefined, joined: 'true' });
  });

  it('answers for one room', async () => {
    const { room, member } = await busyRoom();
    const all = ids(await roomQuery(member, room));
    const rooms = activityRooms(await member.iq(activityIq(room)));
    expect(rooms).toEqual({ [room]: expect.objectContaining({ 'last-id': all[9], joined: 'true' }) });
  });

  it('refuses one room to an outsider', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`, { 'muc#roomconfig_membersonly': true });
    const outsider = await fixture.connect('pistol');
    expect(errorCondition(await outsider.iq(activityIq(room)))).toBe('forbidden');
  });
});

describe('archive lifetime', () => {
  it('survives a restart', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`, { 'muc#roomconfig_persistentroom': true });
    const before = await postAll(owner, room, 'crone', ['before restart']);
    await fixture.server.restart();

    const again = await fixture.connect('crone1', 'again');
    await enter(again, `${room}/crone`, { history: { maxstanzas: '0' } });
    const after = await postAll(again, room, 'crone', ['after restart']);
    const outcome = await roomQuery(again, room);
    expect(bodies(outcome)).toEqual(['before restart', 'after restart']);
    expect(ids(outcome)).toEqual([stanzaIdOf(before[0]!, room), stanzaIdOf(after[0]!, room)]);
  });

  it('goes with a destroyed room', async () => {
    const room = fixture.newRoom();
    const owner = await fixture.connect('crone1');
    await createRoom(owner, `${room}/crone`, { 'muc#roomconfig_persistentroom': true });
    await postAll(owner, room, 'crone', ['doomed']);
    const destroyed = await owner.iq(x('iq', NS.CLIENT, { type: 'set', to: room }, x('query', 'http://jabber.org/protocol/muc#owner', {}, x('destroy', 'http://jabber.org/protocol/muc#owner'))));
    expect(destroyed.attr('type')).toBe('result');

    const { storage } = fixture.server.server;
    const [name, service] = room.split('@') as [string, string];
    expect(await storage.mucArchive.count({ service, room: name }, {})).toBe(0);

    const fresh = await fixture.connect('crone1', 'fresh');
    await createRoom(fresh, `${room}/crone`);
    expect((await roomQuery(fresh, room)).results).toEqual([]);
  });
});
