/**
 * XEP-0045 (Multi-User Chat, version 1.35.5) conformance: entering and exiting a room,
 * discussion history and the room subject. Each test sends what an example of the
 * specification sends and checks what the specification requires of the service.
 * Entry errors are in muc-conformance-errors.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { TestClient } from './support/client.js';
import { bare, useMucServer } from './support/muc-fixture.js';
import {
  adminSetOk,
  createRoom,
  enter,
  enterPresence,
  groupchat,
  hasStatus,
  isFromRoom,
  isPresence,
  isSubjectMessage,
  leave,
  say,
  statusCodes,
  subjectChange,
  userElements,
  userItem,
  waitForPresence,
} from './support/muc.js';

const fx = useMucServer();

/** Collects the room's messages after entering, up to the subject, which ends the history. */
async function historyUntilSubject(client: TestClient, room: string): Promise<{ history: Element[]; subject: Element }> {
  const fromRoom = isFromRoom(room);
  const history: Element[] = [];
  for (;;) {
    const message = await client.next((el) => el.name === 'message' && fromRoom(el), 3000);
    if (isSubjectMessage(room)(message)) return { history, subject: message };
    history.push(message);
  }
}

function bodies(messages: Element[]): (string | undefined)[] {
  return messages.map((message) => message.getChildText('body', NS.CLIENT));
}

/** Creates a room owned by crone1 (nick firstwitch) and returns the owner's connection. */
async function roomWithOwner(room: string, config?: Record<string, string | boolean>): Promise<TestClient> {
  const crone = await fx.connect('crone1');
  await createRoom(crone, `${room}/firstwitch`, config);
  return crone;
}

describe('7.2.1 basic MUC protocol', () => {
  it('enters with an <x/> presence', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66', 'pda');

    const { self } = await enter(hag, `${room}/thirdwitch`);

    expect(self.attr('from')).toBe(`${room}/thirdwitch`);
    expect(self.attr('to')).toBe(`${bare('hag66')}/pda`);
  });

  it('accepts nicknames outside ASCII', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66');
    const hecate = await fx.connect('hecate');

    const first = await enter(hag, `${room}/日本語`);
    const second = await enter(hecate, `${room}/🧙`);

    expect(first.self.attr('from')).toBe(`${room}/日本語`);
    expect(second.self.attr('from')).toBe(`${room}/🧙`);
    expect(second.others.map((el) => el.attr('from'))).toContain(`${room}/日本語`);
  });

  it('resends the room state on a repeated join', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66');
    await enter(hag, `${room}/thirdwitch`);

    const again = await enter(hag, `${room}/thirdwitch`);

    expect(again.others.map((el) => el.attr('from'))).toEqual([`${room}/firstwitch`]);
    expect(hasStatus(again.self, '110')).toBe(true);
  });
});

describe('7.2.2 presence broadcast', () => {
  it('sends other occupants first, self-presence last', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const wicca = await fx.connect('wiccarocks');
    await enter(wicca, `${room}/secondwitch`);
    const hag = await fx.connect('hag66');

    const { others, self } = await enter(hag, `${room}/thirdwitch`);

    expect(others.map((el) => el.attr('from')).sort()).toEqual([`${room}/firstwitch`, `${room}/secondwitch`]);
    expect(others.every((el) => !hasStatus(el, '110'))).toBe(true);
    expect(self.attr('from')).toBe(`${room}/thirdwitch`);
  });

  it('gives roles and affiliations of occupants', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const wicca = await fx.connect('wiccarocks');
    await enter(wicca, `${room}/secondwitch`);
    const hag = await fx.connect('hag66');

    const { others, self } = await enter(hag, `${room}/thirdwitch`);

    const owner = others.find((el) => el.attr('from') === `${room}/firstwitch`);
    const participant = others.find((el) => el.attr('from') === `${room}/secondwitch`);
    expect(userItem(owner!)?.attrs).toMatchObject({ affiliation: 'owner', role: 'moderator' });
    expect(userItem(participant!)?.attrs).toMatchObject({ affiliation: 'none', role: 'participant' });
    expect(userItem(self)?.attrs).toMatchObject({ affiliation: 'none', role: 'participant' });
  });

  it('puts one muc#user element in each presence', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66');

    const { others, self } = await enter(hag, `${room}/thirdwitch`);

    for (const presence of [...others, self]) expect(userElements(presence)).toHaveLength(1);
  });

  it('sends the new presence to existing occupants', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const wicca = await fx.connect('wiccarocks');
    await enter(wicca, `${room}/secondwitch`);
    const hag = await fx.connect('hag66');

    await enter(hag, `${room}/thirdwitch`);

    for (const occupant of [crone, wicca]) {
      const presence = await waitForPresence(occupant, `${room}/thirdwitch`);
      expect(userItem(presence)?.attrs).toMatchObject({ affiliation: 'none', role: 'participant' });
      expect(statusCodes(presence)).not.toContain('110');
    }
  });
});

describe('7.2.3 non-anonymous rooms', () => {
  it('sends the full JID to all occupants', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room, { 'muc#roomconfig_whois': 'anyone' });
    const wicca = await fx.connect('wiccarocks', 'laptop');
    await enter(wicca, `${room}/secondwitch`);
    const hag = await fx.connect('hag66', 'pda');

    await enter(hag, `${room}/thirdwitch`);

    for (const occupant of [crone, wicca]) {
      const presence = await waitForPresence(occupant, `${room}/thirdwitch`);
      expect(userItem(presence)?.attr('jid')).toBe(`${bare('hag66')}/pda`);
    }
  });

  it('warns the new occupant with status 100', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room, { 'muc#roomconfig_whois': 'anyone' });
    const hag = await fx.connect('hag66');

    const { self } = await enter(hag, `${room}/thirdwitch`);

    expect(statusCodes(self)).toEqual(expect.arrayContaining(['100', '110']));
  });
});

describe('7.2.4 semi-anonymous rooms', () => {
  it('shows the full JID to moderators only', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room, { 'muc#roomconfig_whois': 'moderators' });
    const wicca = await fx.connect('wiccarocks');
    await enter(wicca, `${room}/secondwitch`);
    const hag = await fx.connect('hag66', 'pda');

    await enter(hag, `${room}/thirdwitch`);

    const toModerator = await waitForPresence(crone, `${room}/thirdwitch`);
    const toParticipant = await waitForPresence(wicca, `${room}/thirdwitch`);
    expect(userItem(toModerator)?.attr('jid')).toBe(`${bare('hag66')}/pda`);
    expect(userItem(toParticipant)?.attr('jid')).toBeUndefined();
  });
});

describe('7.2.5 password-protected rooms', () => {
  it('admits a user with the password', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room, { 'muc#roomconfig_passwordprotectedroom': true, 'muc#roomconfig_roomsecret': 'cauldronburn' });
    const hag = await fx.connect('hag66');

    const { self } = await enter(hag, `${room}/thirdwitch`, { password: 'cauldronburn' });

    expect(userItem(self)?.attr('role')).toBe('participant');
  });
});

describe('7.2.6 members-only rooms', () => {
  it('admits a member', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room, { 'muc#roomconfig_membersonly': true });
    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('hag66') });
    const hag = await fx.connect('hag66');

    const { self } = await enter(hag, `${room}/thirdwitch`);

    expect(userItem(self)?.attrs).toMatchObject({ affiliation: 'member', role: 'participant' });
  });
});

describe('7.2.13 discussion history', () => {
  it('sends history after the self-presence', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    await say(crone, room, 'firstwitch', "Thrice the brinded cat hath mew'd.");
    const hecate = await fx.connect('hecate', 'broom');

    hecate.send(enterPresence(`${room}/hecate`));
    const fromRoom = isFromRoom(room);
    const first = await hecate.next((el) => fromRoom(el) && (el.name === 'presence' || el.name === 'message'));
    const second = await hecate.next((el) => fromRoom(el) && (el.name === 'presence' || el.name === 'message'));
    const third = await hecate.next((el) => fromRoom(el) && (el.name === 'presence' || el.name === 'message'));

    expect([first.name, first.attr('from')]).toEqual(['presence', `${room}/firstwitch`]);
    expect([second.name, second.attr('from')]).toEqual(['presence', `${room}/hecate`]);
    expect(hasStatus(second, '110')).toBe(true);
    expect(third.name).toBe('message');
    expect(third.getChildText('body', NS.CLIENT)).toBe("Thrice the brinded cat hath mew'd.");
  });

  it('stamps history with a delay from the room', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const before = Date.now() - 1000;
    await say(crone, room, 'firstwitch', "Thrice the brinded cat hath mew'd.");
    const hecate = await fx.connect('hecate');

    await enter(hecate, `${room}/hecate`);
    const { history } = await historyUntilSubject(hecate, room);

    expect(history).toHaveLength(1);
    const message = history[0]!;
    expect(message.attr('type')).toBe('groupchat');
    expect(message.attr('from')).toBe(`${room}/firstwitch`);
    const delay = message.getChild('delay', NS.DELAY);
    expect(delay?.attr('from')).toBe(room);
    expect(Date.parse(delay?.attr('stamp') ?? '')).toBeGreaterThanOrEqual(before);
  });

  it('sends history oldest first', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const wicca = await fx.connect('wiccarocks');
    await enter(wicca, `${room}/secondwitch`);
    await say(crone, room, 'firstwitch', "Thrice the brinded cat hath mew'd.");
    await say(wicca, room, 'secondwitch', 'Thrice and once the hedge-pig whined.');
    await say(crone, room, 'firstwitch', "Harpier cries 'Tis time, 'tis time.");
    const hecate = await fx.connect('hecate');

    await enter(hecate, `${room}/hecate`);
    const { history } = await historyUntilSubject(hecate, room);

    expect(bodies(history)).toEqual(["Thrice the brinded cat hath mew'd.", 'Thrice and once the hedge-pig whined.', "Harpier cries 'Tis time, 'tis time."]);
    expect(history.map((el) => el.attr('from'))).toEqual([`${room}/firstwitch`, `${room}/secondwitch`, `${room}/firstwitch`]);
  });

  it('keeps subject changes out of history', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    crone.send(subjectChange(room, 'Old subject'));
    await crone.next(isSubjectMessage(room));
    await say(crone, room, 'firstwitch', 'between subjects');
    crone.send(subjectChange(room, 'Fire Burn and Cauldron Bubble!'));
    await crone.next(isSubjectMessage(room));
    const hecate = await fx.connect('hecate');

    await enter(hecate, `${room}/hecate`);
    const { history, subject } = await historyUntilSubject(hecate, room);

    expect(bodies(history)).toEqual(['between subjects']);
    expect(subject.getChildText('subject', NS.CLIENT)).toBe('Fire Burn and Cauldron Bubble!');
  });
});

describe('7.2.14 managing discussion history', () => {
  async function roomWithThreeMessages(): Promise<string> {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    for (const body of ['one', 'two', 'three']) await say(crone, room, 'firstwitch', body);
    return room;
  }

  async function historyWith(room: string, request: Record<string, string>): Promise<(string | undefined)[]> {
    const hecate = await fx.connect('hecate');
    await enter(hecate, `${room}/hecate`, { history: request });
    const { history } = await historyUntilSubject(hecate, room);
    return bodies(history);
  }

  it('limits history by maxstanzas', async () => {
    const room = await roomWithThreeMessages();
    expect(await historyWith(room, { maxstanzas: '2' })).toEqual(['two', 'three']);
  });

  it('sends no history for maxchars 0', async () => {
    const room = await roomWithThreeMessages();
    expect(await historyWith(room, { maxchars: '0' })).toEqual([]);
  });

  it('sends no history for maxstanzas 0', async () => {
    const room = await roomWithThreeMessages();
    expect(await historyWith(room, { maxstanzas: '0' })).toEqual([]);
  });

  it('sends only complete stanzas under maxchars', async () => {
    const room = await roomWithThreeMessages();
    expect(await historyWith(room, { maxchars: '10' })).toEqual([]);
  });

  it('limits history by seconds', async () => {
    const room = await roomWithThreeMessages();
    expect(await historyWith(room, { seconds: '3600' })).toEqual(['one', 'two', 'three']);
  });

  it('sends nothing since a future time', async () => {
    const room = await roomWithThreeMessages();
    const future = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect(await historyWith(room, { since: future })).toEqual([]);
  });

  it('sends history since a past time', async () => {
    const room = await roomWithThreeMessages();
    expect(await historyWith(room, { since: '1970-01-01T00:00:00Z' })).toEqual(['one', 'two', 'three']);
  });
});

describe('7.2.15 room subject', () => {
  it('sends the subject after the history', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    crone.send(subjectChange(room, 'Fire Burn and Cauldron Bubble!'));
    await crone.next(isSubjectMessage(room));
    await say(crone, room, 'firstwitch', 'after the subject');
    const hecate = await fx.connect('hecate');

    await enter(hecate, `${room}/hecate`);
    const { history, subject } = await historyUntilSubject(hecate, room);

    expect(bodies(history)).toEqual(['after the subject']);
    expect(subject.attr('type')).toBe('groupchat');
    expect(subject.getChildText('subject', NS.CLIENT)).toBe('Fire Burn and Cauldron Bubble!');
    expect(subject.getChild('body', NS.CLIENT)).toBeUndefined();
  });

  it('stamps the subject with a delay from the room (SHOULD)', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    crone.send(subjectChange(room, 'Fire Burn and Cauldron Bubble!'));
    await crone.next(isSubjectMessage(room));
    const hecate = await fx.connect('hecate');

    await enter(hecate, `${room}/hecate`);
    const { subject } = await historyUntilSubject(hecate, room);

    expect(subject.getChild('delay', NS.DELAY)?.attr('from')).toBe(room);
  });

  it('sends an empty subject when none is set', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hecate = await fx.connect('hecate');

    await enter(hecate, `${room}/hecate`);
    const { subject } = await historyUntilSubject(hecate, room);

    expect(subject.getChildText('subject', NS.CLIENT)).toBe('');
  });

  it('sends live messages after the subject', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const hecate = await fx.connect('hecate');
    await enter(hecate, `${room}/hecate`);

    crone.send(groupchat(room, 'live'));
    const { history } = await historyUntilSubject(hecate, room);
    const live = await hecate.next((el) => el.name === 'message' && el.getChildText('body', NS.CLIENT) === 'live');

    expect(history).toEqual([]);
    expect(live.getChild('delay', NS.DELAY)).toBeUndefined();
  });
});

describe('7.2.16 groupchat 1.0 presence (RECOMMENDED)', () => {
  it('kicks a non-occupant that sends presence without <x/>', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66');

    hag.send(x('presence', NS.CLIENT, { to: `${room}/thirdwitch` }));
    const kick = await waitForPresence(hag, `${room}/thirdwitch`, { type: 'unavailable' });

    expect(statusCodes(kick)).toEqual(expect.arrayContaining(['110', '307', '333']));
    expect(userItem(kick)?.attr('role')).toBe('none');
  });
});

describe('7.14 exiting a room', () => {
  it('sends unavailable self-presence with 110', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66');
    await enter(hag, `${room}/thirdwitch`);

    const self = await leave(hag, `${room}/thirdwitch`);

    expect(userItem(self)?.attr('role')).toBe('none');
    expect(userItem(self)?.attr('affiliation')).toBe('none');
  });

  it('tells remaining occupants with role none', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const hag = await fx.connect('hag66');
    await enter(hag, `${room}/thirdwitch`);

    await leave(hag, `${room}/thirdwitch`);
    const presence = await waitForPresence(crone, `${room}/thirdwitch`, { type: 'unavailable' });

    expect(userItem(presence)?.attrs).toMatchObject({ affiliation: 'none', role: 'none' });
    expect(statusCodes(presence)).not.toContain('110');
  });

  it('passes a custom exit status (SHOULD)', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const hag = await fx.connect('hag66');
    await enter(hag, `${room}/thirdwitch`);

    hag.send(x('presence', NS.CLIENT, { to: `${room}/thirdwitch`, type: 'unavailable' }, x('status', NS.CLIENT, {}, 'gone where the goblins go')));
    const presence = await waitForPresence(crone, `${room}/thirdwitch`, { type: 'unavailable' });

    expect(presence.getChildText('status', NS.CLIENT)).toBe('gone where the goblins go');
  });

  it('removes an occupant whose connection ends', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const hag = await fx.connect('hag66');
    await enter(hag, `${room}/thirdwitch`);

    await hag.close();
    const presence = await waitForPresence(crone, `${room}/thirdwitch`, { type: 'unavailable' });

    expect(userItem(presence)?.attr('role')).toBe('none');
  });

  it('removes the occupant on broadcast unavailable presence', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const hag = await fx.connect('hag66');
    await enter(hag, `${room}/thirdwitch`);

    hag.send(x('presence', NS.CLIENT, { type: 'unavailable' }));
    const presence = await waitForPresence(crone, `${room}/thirdwitch`, { type: 'unavailable' });

    expect(userItem(presence)?.attr('role')).toBe('none');
  });

  it('destroys a temporary room when the last occupant leaves', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room, { 'muc#roomconfig_persistentroom': false });

    await leave(crone, `${room}/firstwitch`);
    const { self } = await enter(crone, `${room}/firstwitch`);

    expect(hasStatus(self, '201')).toBe(true);
  });

  it('ignores presence with a type other than unavailable', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const hag = await fx.connect('hag66');
    await enter(hag, `${room}/thirdwitch`);

    hag.send(x('presence', NS.CLIENT, { to: `${room}/thirdwitch`, type: 'probe' }));
    await say(hag, room, 'thirdwitch', 'still here');

    await crone.nothing(isPresence(`${room}/thirdwitch`, { type: 'unavailable' }), 300);
  });
});
