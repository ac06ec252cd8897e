/**
 * XEP-0045 (Multi-User Chat, version 1.35.5) conformance: moderator use cases (the room
 * subject, kicking, granting and revoking voice, the voice list) and the occupant
 * subject change that the room configuration allows.
 */
import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { TestClient } from './support/client.js';
import { bare, useMucServer } from './support/muc-fixture.js';
import {
  NS_MUC_USER,
  adminGet,
  adminIq,
  adminItems,
  adminSet,
  adminSetOk,
  createRoom,
  enter,
  enterSeen,
  groupchat,
  isFromRoom,
  isPresence,
  isSubjectMessage,
  stanzaError,
  statusCodes,
  subjectChange,
  userItem,
  waitForPresence,
} from './support/muc.js';

const fx = useMucServer();

/** Creates a room with crone1 (firstwitch, owner), wiccarocks (secondwitch) and hag66 (thirdwitch) in it. */
async function coven(config?: Record<string, string | boolean>): Promise<{ room: string; crone: TestClient; wicca: TestClient; hag: TestClient }> {
  const room = fx.newRoom();
  const crone = await fx.connect('crone1', 'desktop');
  await createRoom(crone, `${room}/firstwitch`, config);
  const wicca = await fx.connect('wiccarocks', 'laptop');
  await enterSeen(wicca, `${room}/secondwitch`, [crone]);
  const hag = await fx.connect('hag66', 'pda');
  await enterSeen(hag, `${room}/thirdwitch`, [crone, wicca]);
  return { room, crone, wicca, hag };
}

function isSubject(room: string, subject: string): (el: Element) => boolean {
  return (el) => isSubjectMessage(room)(el) && el.getChildText('subject', NS.CLIENT) === subject;
}

/** Enters a room as hecate and returns the subject message the room sends after the history. */
async function subjectOnEntry(room: string): Promise<Element> {
  const hecate = await fx.connect('hecate', 'broom');
  await enter(hecate, `${room}/hecate`);
  return hecate.next(isSubjectMessage(room), 3000);
}

describe('8.1 modifying the room subject', () => {
  it('tells all occupants the new subject', async () => {
    const { room, crone, wicca, hag } = await coven();

    crone.send(subjectChange(room, 'Fire Burn and Cauldron Bubble!', 'lh2bs617'));

    for (const occupant of [crone, wicca, hag]) {
      const message = await occupant.next(isSubject(room, 'Fire Burn and Cauldron Bubble!'));
      expect(message.attr('type')).toBe('groupchat');
      expect([room, `${room}/firstwitch`]).toContain(message.attr('from'));
    }
  });

  it('returns forbidden to a participant', async () => {
    const { room, hag, wicca } = await coven({ 'muc#roomconfig_changesubject': false });

    hag.send(subjectChange(room, 'Fire Burn and Cauldron Bubble!', 'lh2bs617'));
    const error = await hag.next((el) => el.name === 'message' && el.attr('type') === 'error');

    expect(error.attr('id')).toBe('lh2bs617');
    expect(stanzaError(error)).toEqual({ type: 'auth', condition: 'forbidden' });
    await wicca.nothing(isSubject(room, 'Fire Burn and Cauldron Bubble!'), 200);
  });

  it('lets participants change it when configured', async () => {
    const { room, crone, hag } = await coven({ 'muc#roomconfig_changesubject': true });

    hag.send(subjectChange(room, 'Spells'));

    const message = await crone.next(isSubject(room, 'Spells'));
    expect([room, `${room}/thirdwitch`]).toContain(message.attr('from'));
  });

  it('clears the subject with an empty subject', async () => {
    const { room, crone } = await coven();
    crone.send(subjectChange(room, 'Spells'));
    await crone.next(isSubject(room, 'Spells'));

    crone.send(x('message', NS.CLIENT, { type: 'groupchat', to: room, id: 'uj3bs61g' }, x('subject', NS.CLIENT)));
    await crone.next(isSubject(room, ''));

    expect((await subjectOnEntry(room)).getChildText('subject', NS.CLIENT)).toBe('');
  });

  it('treats subject with body as a message', async () => {
    const { room, crone, wicca } = await coven();
    crone.send(subjectChange(room, 'Spells'));
    await crone.next(isSubject(room, 'Spells'));

    crone.send(x('message', NS.CLIENT, { type: 'groupchat', to: room }, x('subject', NS.CLIENT, {}, 'Not a subject'), x('body', NS.CLIENT, {}, 'just talking')));
    await wicca.next((el) => el.name === 'message' && el.getChildText('body', NS.CLIENT) === 'just talking');

    expect((await subjectOnEntry(room)).getChildText('subject', NS.CLIENT)).toBe('Spells');
  });
});

describe('8.2 kicking an occupant', () => {
  it('removes the occupant with 307', async () => {
    const { room, crone, hag } = await coven();

    const reply = await adminSet(crone, room, { nick: 'thirdwitch', role: 'none', reason: 'Avaunt, you cullion!' });
    const kicked = await waitForPresence(hag, `${room}/thirdwitch`, { type: 'unavailable' });

    expect(reply.attr('type')).toBe('result');
    expect(statusCodes(kicked)).toEqual(expect.arrayContaining(['110', '307']));
    expect(userItem(kicked)?.attrs).toMatchObject({ affiliation: 'none', role: 'none' });
  });

  it('tells the kicked occupant the reason (MAY)', async () => {
    const { room, crone, hag } = await coven();

    await adminSetOk(crone, room, { nick: 'thirdwitch', role: 'none', reason: 'Avaunt, you cullion!' });
    const kicked = await waitForPresence(hag, `${room}/thirdwitch`, { type: 'unavailable' });

    expect(userItem(kicked)?.getChildText('reason', NS_MUC_USER)).toBe('Avaunt, you cullion!');
  });

  it('tells remaining occupants with 307', async () => {
    const { room, crone, wicca } = await coven();

    await adminSetOk(crone, room, { nick: 'thirdwitch', role: 'none' });

    for (const occupant of [crone, wicca]) {
      const presence = await waitForPresence(occupant, `${room}/thirdwitch`, { type: 'unavailable', codes: ['307'] });
      expect(statusCodes(presence)).not.toContain('110');
      expect(userItem(presence)?.attr('role')).toBe('none');
    }
  });

  it('answers the moderator before the broadcast', async () => {
    const { room, crone } = await coven();
    const kick = adminIq(room, 'set', [{ nick: 'thirdwitch', role: 'none' }]).setAttr('id', 'kick1');

    crone.send(kick);
    const first = await crone.next((el) => (el.name === 'iq' && el.attr('id') === 'kick1') || isPresence(`${room}/thirdwitch`, { type: 'unavailable' })(el));

    expect([first.name, first.attr('type')]).toEqual(['iq', 'result']);
  });

  it('lets the kicked user enter again', async () => {
    const { room, crone, hag } = await coven();
    await adminSetOk(crone, room, { nick: 'thirdwitch', role: 'none' });
    await waitForPresence(hag, `${room}/thirdwitch`, { type: 'unavailable' });

    const { self } = await enter(hag, `${room}/thirdwitch`);

    expect(userItem(self)?.attr('role')).toBe('participant');
  });

  it('returns not-allowed for a higher affiliation', async () => {
    const { room, crone, hag } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });
    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('hag66') });
    await adminSetOk(crone, room, { nick: 'thirdwitch', role: 'moderator' });

    const reply = await adminSet(hag, room, { nick: 'secondwitch', role: 'none' });

    expect(stanzaError(reply)).toEqual({ type: 'cancel', condition: 'not-allowed' });
  });

  it('returns not-allowed when an admin kicks an owner', async () => {
    const { room, crone, wicca } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    const reply = await adminSet(wicca, room, { nick: 'firstwitch', role: 'none' });

    expect(stanzaError(reply)).toEqual({ type: 'cancel', condition: 'not-allowed' });
  });
});

describe('8.3 granting voice to a visitor', () => {
  it('makes the visitor a participant', async () => {
    const { room, crone, wicca, hag } = await coven({ 'muc#roomconfig_moderatedroom': true });

    const reply = await adminSet(crone, room, { nick: 'thirdwitch', role: 'participant', reason: 'A worthy witch indeed!' });

    expect(reply.attr('type')).toBe('result');
    for (const occupant of [crone, wicca, hag]) {
      const presence = await occupant.next((el) => isPresence(`${room}/thirdwitch`)(el) && userItem(el)?.attr('role') === 'participant');
      expect(userItem(presence)?.attr('affiliation')).toBe('none');
    }
  });

  it('lets the new participant speak', async () => {
    const { room, crone, hag } = await coven({ 'muc#roomconfig_moderatedroom': true });
    await adminSetOk(crone, room, { nick: 'thirdwitch', role: 'participant' });

    hag.send(groupchat(room, 'I have a voice'));

    await crone.next((el) => el.name === 'message' && el.attr('from') === `${room}/thirdwitch` && el.getChildText('body', NS.CLIENT) === 'I have a voice');
  });

  it('enters moderated rooms as visitor', async () => {
    const { room } = await coven({ 'muc#roomconfig_moderatedroom': true });
    const hecate = await fx.connect('hecate');

    const { others } = await enter(hecate, `${room}/hecate`);

    const hagPresence = others.find((el) => el.attr('from') === `${room}/thirdwitch`);
    expect(userItem(hagPresence!)?.attr('role')).toBe('visitor');
  });
});

describe('8.4 revoking voice from a participant', () => {
  it('makes the participant a visitor', async () => {
    const { room, crone, wicca } = await coven();

    const reply = await adminSet(crone, room, { nick: 'thirdwitch', role: 'visitor', reason: 'Not so worthy after all!' });

    expect(reply.attr('type')).toBe('result');
    const presence = await wicca.next((el) => isPresence(`${room}/thirdwitch`)(el) && userItem(el)?.attr('role') === 'visitor');
    expect(userItem(presence)?.attr('affiliation')).toBe('none');
  });

  it('silences the new visitor', async () => {
    const { room, crone, hag } = await coven();
    await adminSetOk(crone, room, { nick: 'thirdwitch', role: 'visitor' });

    hag.send(groupchat(room, 'muted', 'muted1'));
    const error = await hag.next((el) => el.name === 'message' && el.attr('type') === 'error' && isFromRoom(room)(el));

    expect(stanzaError(error)?.condition).toBe('forbidden');
  });

  it('returns not-allowed for an admin', async () => {
    const { room, crone } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    const reply = await adminSet(crone, room, { nick: 'secondwitch', role: 'visitor' });

    expect(stanzaError(reply)).toEqual({ type: 'cancel', condition: 'not-allowed' });
  });
});

describe('8.5 modifying the voice list', () => {
  it('lists participants with nick and role', async () => {
    const { room, crone } = await coven({ 'muc#roomconfig_moderatedroom': true });
    await adminSetOk(crone, room, { nick: 'thirdwitch', role: 'participant' });

    const reply = await adminGet(crone, room, { role: 'participant' });

    expect(reply.attr('type')).toBe('result');
    const items = adminItems(reply);
    expect(items.map((item) => item.attr('nick'))).toEqual(['thirdwitch']);
    expect(items[0]?.attrs).toMatchObject({ role: 'participant', affiliation: 'none', jid: `${bare('hag66')}/pda` });
  });

  it('applies a delta of several items', async () => {
    const { room, crone, wicca } = await coven({ 'muc#roomconfig_moderatedroom': true });
    await adminSetOk(crone, room, { nick: 'thirdwitch', role: 'participant' });

    const reply = await adminSet(crone, room, { nick: 'thirdwitch', role: 'visitor' }, { nick: 'secondwitch', role: 'participant', reason: 'A worthy fellow.' });

    expect(reply.attr('type')).toBe('result');
    await wicca.next((el) => isPresence(`${room}/secondwitch`)(el) && userItem(el)?.attr('role') === 'participant');
    await wicca.next((el) => isPresence(`${room}/thirdwitch`)(el) && userItem(el)?.attr('role') === 'visitor');
    const list = adminItems(await adminGet(crone, room, { role: 'participant' }));
    expect(list.map((item) => item.attr('nick'))).toEqual(['secondwitch']);
  });

  it('returns forbidden to a visitor', async () => {
    const { room, hag } = await coven({ 'muc#roomconfig_moderatedroom': true });

    const reply = await adminGet(hag, room, { role: 'participant' });

    expect(stanzaError(reply)?.condition).toBe('forbidden');
  });
});
