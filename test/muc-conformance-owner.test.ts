/**
 * XEP-0045 (Multi-User Chat, version 1.35.5) conformance: owner use cases (creating
 * instant and reserved rooms, configuration and its notifications, owner and admin
 * grants, revocations and lists, destroying a room).
 */
import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { TestClient } from './support/client.js';
import { bare, useMucServer } from './support/muc-fixture.js';
import {
  MUC_SERVICE,
  NS_MUC_OWNER,
  NS_MUC_ROOMCONFIG,
  NS_MUC_USER,
  adminGet,
  adminItems,
  adminSet,
  adminSetOk,
  configureRoom,
  createRoom,
  discoItems,
  enter,
  enterRejected,
  enterSeen,
  formField,
  getConfigForm,
  hasStatus,
  isPresence,
  leave,
  requestConfigForm,
  requestInstantRoom,
  stanzaError,
  statusCodes,
  userItem,
  waitForPresence,
} from './support/muc.js';

const fx = useMucServer();

/** Creates a room with crone1 (firstwitch, owner), wiccarocks (secondwitch) and hag66 (thirdwitch) in it. */
async function coven(config?: Record<string, string | boolean | string[]>): Promise<{ room: string; crone: TestClient; wicca: TestClient; hag: TestClient }> {
  const room = fx.newRoom();
  const crone = await fx.connect('crone1', 'desktop');
  await createRoom(crone, `${room}/firstwitch`, config);
  const wicca = await fx.connect('wiccarocks', 'laptop');
  await enterSeen(wicca, `${room}/secondwitch`, [crone]);
  const hag = await fx.connect('hag66', 'pda');
  await enterSeen(hag, `${room}/thirdwitch`, [crone, wicca]);
  return { room, crone, wicca, hag };
}

function cancelForm(room: string): Element {
  return x('iq', NS.CLIENT, { type: 'set', to: room, id: 'create2' }, x('query', NS_MUC_OWNER, {}, x('x', NS.DATA_FORMS, { type: 'cancel' })));
}

function hasAffiliation(from: string, affiliation: string): (el: Element) => boolean {
  return (el) => isPresence(from)(el) && userItem(el)?.attr('affiliation') === affiliation;
}

/** Matches a configuration change notice: a message from the room with a muc#user status code. */
function isConfigNotice(room: string, code: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.attr('from') === room && statusCodes(el).includes(code);
}

describe('10.1.1 creating a room', () => {
  it('acknowledges creation with 201', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1', 'desktop');

    const { self } = await enter(crone, `${room}/firstwitch`);

    expect(statusCodes(self)).toEqual(expect.arrayContaining(['110', '201']));
    expect(userItem(self)?.attrs).toMatchObject({ affiliation: 'owner', role: 'moderator' });
  });
});

describe('10.1.1 restricted room creation', () => {
  const restricted = useMucServer({ muc: { create: 'admins', admins: [bare('crone1')] } });

  it('returns not-allowed to other users', async () => {
    const hag = await restricted.connect('hag66', 'pda');

    const error = await enterRejected(hag, `${restricted.newRoom()}/thirdwitch`);

    expect(stanzaError(error)).toEqual({ type: 'cancel', condition: 'not-allowed' });
  });

  it('lets an allowed user create', async () => {
    const crone = await restricted.connect('crone1');

    const { self } = await enter(crone, `${restricted.newRoom()}/firstwitch`);

    expect(hasStatus(self, '201')).toBe(true);
  });
});

describe('10.1.2 creating an instant room', () => {
  it('unlocks the room on an empty submit', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await enter(crone, `${room}/firstwitch`);

    const reply = await requestInstantRoom(crone, room);
    const hag = await fx.connect('hag66');

    expect(reply.attr('type')).toBe('result');
    expect((await enter(hag, `${room}/thirdwitch`)).self.attr('from')).toBe(`${room}/thirdwitch`);
  });
});

describe('10.1.3 creating a reserved room', () => {
  it('sends the configuration form', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await enter(crone, `${room}/firstwitch`);

    const reply = await requestConfigForm(crone, room);

    expect(reply.attr('type')).toBe('result');
    const formElement = reply.getChild('query', NS_MUC_OWNER)?.getChild('x', NS.DATA_FORMS);
    expect(formElement?.attr('type')).toBe('form');
    const formType = formElement?.getChildren('field', NS.DATA_FORMS).find((field) => field.attr('var') === 'FORM_TYPE');
    expect(formType?.attr('type')).toBe('hidden');
    expect(formType?.getChildText('value', NS.DATA_FORMS)).toBe(NS_MUC_ROOMCONFIG);
  });

  it('applies the submitted form and unlocks', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await enter(crone, `${room}/firstwitch`);

    const reply = await configureRoom(crone, room, { 'muc#roomconfig_roomname': 'A Dark Cave', 'muc#roomconfig_roomdesc': 'The place for all good witches!' });
    const hag = await fx.connect('hag66');

    expect(reply.attr('type')).toBe('result');
    await enter(hag, `${room}/thirdwitch`);
    const form = await getConfigForm(crone, room);
    expect(formField(form, 'muc#roomconfig_roomname')?.values).toEqual(['A Dark Cave']);
    expect(formField(form, 'muc#roomconfig_roomdesc')?.values).toEqual(['The place for all good witches!']);
  });

  it('destroys the room on cancel', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await enter(crone, `${room}/firstwitch`);

    crone.send(cancelForm(room));
    const presence = await waitForPresence(crone, `${room}/firstwitch`, { type: 'unavailable' });

    expect(userItem(presence)?.attr('role')).toBe('none');
    expect(hasStatus((await enter(crone, `${room}/firstwitch`)).self, '201')).toBe(true);
  });

  it('destroys the room when the owner leaves', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await enter(crone, `${room}/firstwitch`);

    await leave(crone, `${room}/firstwitch`);
    const { self } = await enter(crone, `${room}/firstwitch`);

    expect(hasStatus(self, '201')).toBe(true);
  });
});

describe('10.2 subsequent room configuration', () => {
  it('shows the current options', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await createRoom(crone, `${room}/firstwitch`, { 'muc#roomconfig_roomname': 'A Dark Cave', 'muc#roomconfig_membersonly': true });

    const form = await getConfigForm(crone, room);

    expect(form.type).toBe('form');
    expect(formField(form, 'muc#roomconfig_roomname')?.values).toEqual(['A Dark Cave']);
    expect(['1', 'true']).toContain(formField(form, 'muc#roomconfig_membersonly')?.values[0]);
  });

  it('keeps the configuration on cancel', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await createRoom(crone, `${room}/firstwitch`, { 'muc#roomconfig_roomname': 'A Dark Cave' });
    await getConfigForm(crone, room);

    const reply = await crone.iq(cancelForm(room));

    expect(reply.attr('type')).toBe('result');
    expect(formField(await getConfigForm(crone, room), 'muc#roomconfig_roomname')?.values).toEqual(['A Dark Cave']);
  });

  it('removes non-members with 322', async () => {
    const { room, crone, wicca, hag } = await coven();
    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('wiccarocks') });

    expect((await configureRoom(crone, room, { 'muc#roomconfig_membersonly': true })).attr('type')).toBe('result');

    for (const occupant of [hag, crone, wicca]) {
      const presence = await waitForPresence(occupant, `${room}/thirdwitch`, { type: 'unavailable', codes: ['322'] });
      expect(userItem(presence)?.attr('role')).toBe('none');
    }
    await crone.nothing(isPresence(`${room}/secondwitch`, { type: 'unavailable' }), 200);
  });

  it('tells occupants of admins added by the form', async () => {
    const { room, crone, hag } = await coven();

    const reply = await configureRoom(crone, room, { 'muc#roomconfig_roomadmins': [bare('wiccarocks')] });

    expect(reply.attr('type')).toBe('result');
    const presence = await hag.next(hasAffiliation(`${room}/secondwitch`, 'admin'));
    expect(userItem(presence)?.attr('role')).toBe('moderator');
  });

  it('tells occupants of owners added by the form', async () => {
    const { room, crone, hag } = await coven();

    const reply = await configureRoom(crone, room, { 'muc#roomconfig_roomowners': [bare('crone1'), bare('wiccarocks')] });

    expect(reply.attr('type')).toBe('result');
    const presence = await hag.next(hasAffiliation(`${room}/secondwitch`, 'owner'));
    expect(userItem(presence)?.attr('role')).toBe('moderator');
  });

});

describe('10.2.1 notification of configuration changes', () => {
  it('sends 172 when the room becomes non-anonymous', async () => {
    const { room, crone, hag } = await coven({ 'muc#roomconfig_whois': 'moderators' });

    await configureRoom(crone, room, { 'muc#roomconfig_whois': 'anyone' });

    const notice = await hag.next(isConfigNotice(room, '172'));
    expect(notice.attr('type')).toBe('groupchat');
  });

  it('sends 173 when the room becomes semi-anonymous', async () => {
    const { room, crone, hag } = await coven({ 'muc#roomconfig_whois': 'anyone' });

    await configureRoom(crone, room, { 'muc#roomconfig_whois': 'moderators' });

    await hag.next(isConfigNotice(room, '173'));
  });

  it('sends 104 for other changes (SHOULD)', async () => {
    const { room, crone, hag } = await coven();

    await configureRoom(crone, room, { 'muc#roomconfig_roomname': 'A Dark Cave' });

    await hag.next(isConfigNotice(room, '104'));
  });
});

describe('10.3 granting owner status', () => {
  it('tells occupants of the new owner', async () => {
    const { room, crone, wicca, hag } = await coven();

    const reply = await adminSet(crone, room, { affiliation: 'owner', jid: bare('wiccarocks'), reason: 'A worthy witch indeed!' });

    expect(reply.attr('type')).toBe('result');
    for (const occupant of [crone, wicca, hag]) {
      const presence = await occupant.next(hasAffiliation(`${room}/secondwitch`, 'owner'));
      expect(userItem(presence)?.attr('role')).toBe('moderator');
    }
  });

  it('returns forbidden to an admin', async () => {
    const { room, crone, wicca } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    const reply = await adminSet(wicca, room, { affiliation: 'owner', jid: bare('wiccarocks') });

    expect(stanzaError(reply)?.condition).toBe('forbidden');
  });
});

describe('10.4 revoking owner status', () => {
  it('demotes another owner or returns not-authorized', async () => {
    const { room, crone, hag } = await coven();
    await adminSetOk(crone, room, { affiliation: 'owner', jid: bare('wiccarocks') });
    await hag.next(hasAffiliation(`${room}/secondwitch`, 'owner'));

    const reply = await adminSet(crone, room, { affiliation: 'admin', jid: bare('wiccarocks'), reason: 'Not so worthy after all!' });

    if (reply.attr('type') === 'error') {
      expect(stanzaError(reply)?.condition).toBe('not-authorized');
    } else {
      const presence = await hag.next(hasAffiliation(`${room}/secondwitch`, 'admin'));
      expect(userItem(presence)?.attr('role')).toBe('moderator');
    }
  });

  it('returns conflict to the only owner', async () => {
    const { room, crone } = await coven();

    const reply = await adminSet(crone, room, { affiliation: 'admin', jid: bare('crone1') });

    expect(stanzaError(reply)?.condition).toBe('conflict');
  });

  it('lets an owner step down beside another (SHOULD)', async () => {
    const { room, crone, hag } = await coven();
    await adminSetOk(crone, room, { affiliation: 'owner', jid: bare('wiccarocks') });

    const reply = await adminSet(crone, room, { affiliation: 'admin', jid: bare('crone1') });

    expect(reply.attr('type')).toBe('result');
    await hag.next(hasAffiliation(`${room}/firstwitch`, 'admin'));
  });
});

describe('10.5 modifying the owner list', () => {
  it('lists owners with affiliation and jid', async () => {
    const { room, crone } = await coven();
    await adminSetOk(crone, room, { affiliation: 'owner', jid: bare('hecate') });

    const reply = await adminGet(crone, room, { affiliation: 'owner' });

    expect(reply.attr('type')).toBe('result');
    const items = adminItems(reply);
    expect(items.map((item) => item.attr('jid')).sort()).toEqual([bare('crone1'), bare('hecate')]);
    expect(items.every((item) => item.attr('affiliation') === 'owner' && item.attr('role') === undefined)).toBe(true);
  });

  it('returns forbidden when a non-owner edits it', async () => {
    const { room, crone, wicca } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    const reply = await adminSet(wicca, room, { affiliation: 'owner', jid: bare('hecate') });

    expect(stanzaError(reply)).toEqual({ type: 'auth', condition: 'forbidden' });
  });
});

describe('10.5 and 10.8 list access in semi-anonymous rooms', () => {
  it('returns forbidden when an admin requests the owner list', async () => {
    const { room, crone, wicca } = await coven({ 'muc#roomconfig_whois': 'moderators' });
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    const reply = await adminGet(wicca, room, { affiliation: 'owner' });

    expect(stanzaError(reply)?.condition).toBe('forbidden');
  });

  it('returns forbidden when an admin requests the admin list', async () => {
    const { room, crone, wicca } = await coven({ 'muc#roomconfig_whois': 'moderators' });
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    const reply = await adminGet(wicca, room, { affiliation: 'admin' });

    expect(stanzaError(reply)?.condition).toBe('forbidden');
  });
});

describe('10.6 granting admin status', () => {
  it('tells occupants of the new admin', async () => {
    const { room, crone, wicca, hag } = await coven();

    const reply = await adminSet(crone, room, { affiliation: 'admin', jid: bare('wiccarocks'), reason: 'A worthy witch indeed!' });

    expect(reply.attr('type')).toBe('result');
    for (const occupant of [crone, wicca, hag]) {
      const presence = await occupant.next(hasAffiliation(`${room}/secondwitch`, 'admin'));
      expect(userItem(presence)?.attr('role')).toBe('moderator');
    }
  });

  it('returns forbidden to an admin', async () => {
    const { room, crone, wicca } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    const reply = await adminSet(wicca, room, { affiliation: 'admin', jid: bare('hag66') });

    expect(stanzaError(reply)?.condition).toBe('forbidden');
  });
});

describe('10.7 revoking admin status', () => {
  it('tells occupants of the lost admin status', async () => {
    const { room, crone, hag } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });
    await hag.next(hasAffiliation(`${room}/secondwitch`, 'admin'));

    const reply = await adminSet(crone, room, { affiliation: 'none', jid: bare('wiccarocks'), reason: 'Not so worthy after all!' });

    expect(reply.attr('type')).toBe('result');
    const presence = await hag.next(hasAffiliation(`${room}/secondwitch`, 'none'));
    expect(userItem(presence)?.attr('role')).not.toBe('none');
  });
});

describe('10.8 modifying the admin list', () => {
  it('lists admins with affiliation and jid', async () => {
    const { room, crone } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('hecate') });

    const reply = await adminGet(crone, room, { affiliation: 'admin' });

    expect(reply.attr('type')).toBe('result');
    const items = adminItems(reply);
    expect(items.map((item) => item.attr('jid')).sort()).toEqual([bare('hecate'), bare('wiccarocks')]);
    expect(items.every((item) => item.attr('affiliation') === 'admin' && item.attr('role') === undefined)).toBe(true);
  });

  it('applies a delta of several items', async () => {
    const { room, crone } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('hag66') });

    const reply = await adminSet(crone, room, { affiliation: 'none', jid: bare('hag66') }, { affiliation: 'admin', jid: bare('hecate') });

    expect(reply.attr('type')).toBe('result');
    expect(adminItems(await adminGet(crone, room, { affiliation: 'admin' })).map((item) => item.attr('jid'))).toEqual([bare('hecate')]);
  });

  it('returns forbidden when a non-owner edits it', async () => {
    const { room, crone, wicca } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    const reply = await adminSet(wicca, room, { affiliation: 'admin', jid: bare('hecate') });

    expect(stanzaError(reply)).toEqual({ type: 'auth', condition: 'forbidden' });
  });
});

function destroyRequest(room: string, alternate: string, reason: string): Element {
  const destroy = x('destroy', NS_MUC_OWNER, { jid: alternate }, x('reason', NS_MUC_OWNER, {}, reason));
  return x('iq', NS.CLIENT, { type: 'set', to: room, id: 'begone' }, x('query', NS_MUC_OWNER, {}, destroy));
}

describe('10.9 destroying a room', () => {
  it('removes each occupant with the alternate venue', async () => {
    const { room, crone, wicca, hag } = await coven();
    const venue = `heath@${MUC_SERVICE}`;

    const reply = await crone.iq(destroyRequest(room, venue, 'Macbeth doth come.'));

    expect(reply.attr('type')).toBe('result');
    const removals: [TestClient, string][] = [
      [crone, 'firstwitch'],
      [wicca, 'secondwitch'],
      [hag, 'thirdwitch'],
    ];
    for (const [occupant, nick] of removals) {
      const presence = await waitForPresence(occupant, `${room}/${nick}`, { type: 'unavailable' });
      const destroy = presence.getChild('x', NS_MUC_USER)?.getChild('destroy', NS_MUC_USER);
      expect(destroy?.attr('jid')).toBe(venue);
      expect(destroy?.getChildText('reason', NS_MUC_USER)).toBe('Macbeth doth come.');
      expect(userItem(presence)?.attr('role')).toBe('none');
    }
  });

  it('includes <destroy/> without venue or reason', async () => {
    const { room, crone, hag } = await coven();

    await crone.iq(x('iq', NS.CLIENT, { type: 'set', to: room }, x('query', NS_MUC_OWNER, {}, x('destroy', NS_MUC_OWNER))));
    const presence = await waitForPresence(hag, `${room}/thirdwitch`, { type: 'unavailable' });

    expect(presence.getChild('x', NS_MUC_USER)?.getChild('destroy', NS_MUC_USER)).toBeDefined();
  });

  it('returns forbidden to a non-owner', async () => {
    const { room, wicca, crone } = await coven();

    const reply = await wicca.iq(destroyRequest(room, `heath@${MUC_SERVICE}`, 'Macbeth doth come.'));

    expect(stanzaError(reply)).toEqual({ type: 'auth', condition: 'forbidden' });
    await crone.nothing(isPresence(`${room}/firstwitch`, { type: 'unavailable' }), 200);
  });

  it('removes a persistent room', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await createRoom(crone, `${room}/firstwitch`, { 'muc#roomconfig_persistentroom': true, 'muc#roomconfig_publicroom': true });
    const listed = await discoItems(crone, MUC_SERVICE);
    expect(listed.getChild('query', NS.DISCO_ITEMS)?.getChildren('item', NS.DISCO_ITEMS).map((item) => item.attr('jid'))).toContain(room);

    const reply = await crone.iq(destroyRequest(room, `heath@${MUC_SERVICE}`, 'Macbeth doth come.'));

    expect(reply.attr('type')).toBe('result');
    const after = await discoItems(crone, MUC_SERVICE);
    expect(after.getChild('query', NS.DISCO_ITEMS)?.getChildren('item', NS.DISCO_ITEMS).map((item) => item.attr('jid'))).not.toContain(room);
  });
});

describe('10 owner affiliation', () => {
  it('survives leaving a persistent room', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await createRoom(crone, `${room}/firstwitch`, { 'muc#roomconfig_persistentroom': true });
    await leave(crone, `${room}/firstwitch`);

    const { self } = await enter(crone, `${room}/firstwitch`);

    expect(statusCodes(self)).not.toContain('201');
    expect(userItem(self)?.attrs).toMatchObject({ affiliation: 'owner', role: 'moderator' });
  });

  it('lets an owner configure from outside the room', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await createRoom(crone, `${room}/firstwitch`, { 'muc#roomconfig_persistentroom': true });
    await leave(crone, `${room}/firstwitch`);

    const form = await getConfigForm(crone, room);

    expect(form.type).toBe('form');
  });
});
