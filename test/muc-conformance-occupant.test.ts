/**
 * XEP-0045 (Multi-User Chat, version 1.35.5) conformance: what occupants do once in a
 * room (messages, private messages, nickname and presence changes, invitations, voice
 * requests), plus direct invitations (XEP-0249) and self-ping (XEP-0410).
 */
import { describe, expect, it } from 'vitest';
import { type Element, NS, buildForm, parseForm, x } from '@parley/xmpp';
import type { TestClient } from './support/client.js';
import { bare, useMucServer } from './support/muc-fixture.js';
import {
  NS_MUC_REQUEST,
  NS_MUC_USER,
  adminSetOk,
  createRoom,
  enter,
  enterSeen,
  groupchat,
  isGroupchat,
  isPresence,
  stanzaError,
  statusCodes,
  userItem,
  waitForPresence,
  waitForPresenceError,
} from './support/muc.js';

const fx = useMucServer();
const NS_CONFERENCE = 'jabber:x:conference';

async function roomWithOwner(room: string, config?: Record<string, string | boolean>): Promise<TestClient> {
  const crone = await fx.connect('crone1', 'desktop');
  await createRoom(crone, `${room}/firstwitch`, config);
  return crone;
}

/** Creates a room with crone1 (firstwitch, owner), wiccarocks (secondwitch) and hag66 (thirdwitch) in it. */
async function coven(config?: Record<string, string | boolean>): Promise<{ room: string; crone: TestClient; wicca: TestClient; hag: TestClient }> {
  const room = fx.newRoom();
  const crone = await roomWithOwner(room, config);
  const wicca = await fx.connect('wiccarocks', 'laptop');
  await enterSeen(wicca, `${room}/secondwitch`, [crone]);
  const hag = await fx.connect('hag66', 'pda');
  await enterSeen(hag, `${room}/thirdwitch`, [crone, wicca]);
  return { room, crone, wicca, hag };
}

function isMessageWithBody(body: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.getChildText('body', NS.CLIENT) === body;
}

describe('7.4 sending a message to all occupants', () => {
  it('reflects the message to every occupant', async () => {
    const { room, crone, wicca, hag } = await coven();

    hag.send(groupchat(room, "Harpier cries: 'tis time, 'tis time.", 'hysf1v37'));

    for (const occupant of [crone, wicca, hag]) {
      const message = await occupant.next(isGroupchat(`${room}/thirdwitch`, "Harpier cries: 'tis time, 'tis time."));
      expect(message.attr('to')).toBe(occupant.jid.toString());
    }
  });

  it('keeps the id of the message (SHOULD)', async () => {
    const { room, crone, hag } = await coven();

    hag.send(groupchat(room, 'tracked', 'hysf1v37'));

    expect((await hag.next(isGroupchat(`${room}/thirdwitch`, 'tracked'))).attr('id')).toBe('hysf1v37');
    expect((await crone.next(isGroupchat(`${room}/thirdwitch`, 'tracked'))).attr('id')).toBe('hysf1v37');
  });

  it('passes extension elements through (SHOULD)', async () => {
    const { room, crone, hag } = await coven();
    const extension = x('active', NS.CHATSTATES);

    hag.send(groupchat(room, 'with a chat state').append(extension));
    const message = await crone.next(isGroupchat(`${room}/thirdwitch`, 'with a chat state'));

    expect(message.getChild('active', NS.CHATSTATES)).toBeDefined();
  });

  it('returns forbidden to a visitor', async () => {
    const { room, crone, hag } = await coven({ 'muc#roomconfig_moderatedroom': true });

    hag.send(groupchat(room, 'can anyone hear me?', 'visitor1'));
    const error = await hag.next((el) => el.name === 'message' && el.attr('type') === 'error');

    expect(error.attr('id')).toBe('visitor1');
    expect(stanzaError(error)?.condition).toBe('forbidden');
    await crone.nothing(isMessageWithBody('can anyone hear me?'), 200);
  });
});

describe('7.5 sending a private message', () => {
  it('delivers from the occupant JID', async () => {
    const { room, crone, wicca } = await coven();

    wicca.send(x('message', NS.CLIENT, { to: `${room}/firstwitch`, type: 'chat', id: 'hgn27af1' }, x('body', NS.CLIENT, {}, "I'll give thee a wind."), x('x', NS_MUC_USER)));
    const message = await crone.next(isMessageWithBody("I'll give thee a wind."));

    expect(message.attr('from')).toBe(`${room}/secondwitch`);
    expect(message.attr('to')).toBe(`${bare('crone1')}/desktop`);
    expect(message.attr('type')).toBe('chat');
  });

  it('adds the muc#user element (SHOULD)', async () => {
    const { room, crone, wicca } = await coven();

    wicca.send(x('message', NS.CLIENT, { to: `${room}/firstwitch`, type: 'chat' }, x('body', NS.CLIENT, {}, 'no x from me')));
    const message = await crone.next(isMessageWithBody('no x from me'));

    expect(message.getChild('x', NS_MUC_USER)).toBeDefined();
  });
});

describe('7.5 private message policy', () => {
  it('refuses private messages when nobody may send them', async () => {
    const { room, crone, wicca } = await coven({ 'muc#roomconfig_allowpm': 'none' });

    wicca.send(x('message', NS.CLIENT, { to: `${room}/firstwitch`, type: 'chat', id: 'pm-none' }, x('body', NS.CLIENT, {}, 'not allowed')));
    const error = await wicca.next((el) => el.name === 'message' && el.attr('id') === 'pm-none');

    expect(error.attr('type')).toBe('error');
    await crone.nothing(isMessageWithBody('not allowed'), 200);
  });
});

describe('7.2.8 one nickname on several resources', () => {
  it('routes room messages to every resource', async () => {
    const { room, crone } = await coven();
    const laptop = await fx.connect('hag66', 'laptop');
    const phone = await fx.connect('hag66', 'phone');
    await enter(laptop, `${room}/sharednick`);
    await enter(phone, `${room}/sharednick`);

    crone.send(groupchat(room, 'to both devices'));

    await laptop.next(isGroupchat(`${room}/firstwitch`, 'to both devices'));
    await phone.next(isGroupchat(`${room}/firstwitch`, 'to both devices'));
  });

  it('lets every resource send', async () => {
    const { room, crone } = await coven();
    const laptop = await fx.connect('hag66', 'laptop');
    const phone = await fx.connect('hag66', 'phone');
    await enter(laptop, `${room}/sharednick`);
    await enter(phone, `${room}/sharednick`);

    laptop.send(groupchat(room, 'from the laptop'));
    phone.send(groupchat(room, 'from the phone'));

    await crone.next(isGroupchat(`${room}/sharednick`, 'from the laptop'));
    await crone.next(isGroupchat(`${room}/sharednick`, 'from the phone'));
  });
});

describe('7.6 changing nickname', () => {
  it('sends unavailable with 303 and the new nick', async () => {
    const { room, crone, wicca, hag } = await coven();

    hag.send(x('presence', NS.CLIENT, { to: `${room}/oldhag`, id: 'ifd1c35' }));

    for (const occupant of [crone, wicca]) {
      const unavailable = await waitForPresence(occupant, `${room}/thirdwitch`, { type: 'unavailable', codes: ['303'] });
      expect(userItem(unavailable)?.attr('nick')).toBe('oldhag');
      expect(statusCodes(unavailable)).not.toContain('110');
    }
    const self = await waitForPresence(hag, `${room}/thirdwitch`, { type: 'unavailable', codes: ['303', '110'] });
    expect(userItem(self)?.attr('nick')).toBe('oldhag');
  });

  it('sends available presence for the new nick', async () => {
    const { room, crone, hag } = await coven();

    hag.send(x('presence', NS.CLIENT, { to: `${room}/oldhag` }));

    const other = await waitForPresence(crone, `${room}/oldhag`);
    expect(userItem(other)?.attrs).toMatchObject({ affiliation: 'none', role: 'participant' });
    const self = await waitForPresence(hag, `${room}/oldhag`, { codes: ['110'] });
    expect(userItem(self)?.attrs).toMatchObject({ affiliation: 'none', role: 'participant' });
  });

  it('sends unavailable before available', async () => {
    const { room, crone, hag } = await coven();
    const related = (el: Element) => el.name === 'presence' && [`${room}/thirdwitch`, `${room}/oldhag`].includes(el.attr('from') ?? '');

    hag.send(x('presence', NS.CLIENT, { to: `${room}/oldhag` }));

    for (const occupant of [crone, hag]) {
      const first = await occupant.next(related);
      const second = await occupant.next(related);
      expect([first.attr('from'), first.attr('type')]).toEqual([`${room}/thirdwitch`, 'unavailable']);
      expect([second.attr('from'), second.attr('type')]).toEqual([`${room}/oldhag`, undefined]);
    }
  });

  it('uses the new nick for messages', async () => {
    const { room, crone, hag } = await coven();
    hag.send(x('presence', NS.CLIENT, { to: `${room}/oldhag` }));
    await waitForPresence(hag, `${room}/oldhag`, { codes: ['110'] });

    hag.send(groupchat(room, 'renamed'));

    await crone.next(isGroupchat(`${room}/oldhag`, 'renamed'));
  });

  it('returns conflict for a nick reserved by a member', async () => {
    const { room, crone, hag } = await coven();
    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('hecate'), nick: 'hecate' });

    hag.send(x('presence', NS.CLIENT, { to: `${room}/hecate` }));
    const error = await waitForPresenceError(hag, `${room}/hecate`);

    expect(stanzaError(error)).toEqual({ type: 'cancel', condition: 'conflict' });
  });

  it('returns conflict for a nick in use', async () => {
    const { room, crone, hag } = await coven();

    hag.send(x('presence', NS.CLIENT, { to: `${room}/firstwitch`, id: 'ifd1c35' }));
    const error = await waitForPresenceError(hag, `${room}/firstwitch`);

    expect(stanzaError(error)).toEqual({ type: 'cancel', condition: 'conflict' });
    await crone.nothing(isPresence(`${room}/thirdwitch`, { type: 'unavailable' }), 200);
  });
});

describe('7.7 changing availability status', () => {
  it('passes show and status to all occupants', async () => {
    const { room, crone, wicca } = await coven();

    wicca.send(x('presence', NS.CLIENT, { to: `${room}/secondwitch` }, x('show', NS.CLIENT, {}, 'xa'), x('status', NS.CLIENT, {}, 'gone where the goblins go')));

    const presence = await crone.next((el) => isPresence(`${room}/secondwitch`)(el) && el.getChildText('show', NS.CLIENT) === 'xa');
    expect(presence.getChildText('status', NS.CLIENT)).toBe('gone where the goblins go');
    expect(userItem(presence)?.attrs).toMatchObject({ affiliation: 'none', role: 'participant' });
  });

  it('does not reflect a client-made muc#user item', async () => {
    const { room, crone, wicca } = await coven();

    wicca.send(x('presence', NS.CLIENT, { to: `${room}/secondwitch` }, x('show', NS.CLIENT, {}, 'dnd'), x('x', NS_MUC_USER, {}, x('item', NS_MUC_USER, { affiliation: 'owner', role: 'moderator' }))));

    const presence = await crone.next((el) => isPresence(`${room}/secondwitch`)(el) && el.getChildText('show', NS.CLIENT) === 'dnd');
    expect(presence.getChildren('x', NS_MUC_USER)).toHaveLength(1);
    expect(userItem(presence)?.attrs).toMatchObject({ affiliation: 'none', role: 'participant' });
  });
});

function mediatedInvite(room: string, invitee: string, reason: string): Element {
  return x('message', NS.CLIENT, { to: room, id: 'nzd143v8' }, x('x', NS_MUC_USER, {}, x('invite', NS_MUC_USER, { to: invitee }, x('reason', NS_MUC_USER, {}, reason))));
}

function isInvitation(room: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.attr('from') === room && el.getChild('x', NS_MUC_USER)?.getChild('invite', NS_MUC_USER) !== undefined;
}

describe('7.8.2 mediated invitation', () => {
  it('sends the invitation from the room', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const hecate = await fx.connect('hecate', 'broom');

    crone.send(mediatedInvite(room, bare('hecate'), 'Hey Hecate, this is the place for all good witches!'));
    const invitation = await hecate.next(isInvitation(room));

    const invite = invitation.getChild('x', NS_MUC_USER)!.getChild('invite', NS_MUC_USER)!;
    expect([bare('crone1'), `${bare('crone1')}/desktop`, `${room}/firstwitch`]).toContain(invite.attr('from'));
    expect(invite.getChildText('reason', NS_MUC_USER)).toBe('Hey Hecate, this is the place for all good witches!');
  });

  it('adds the room password (SHOULD)', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room, { 'muc#roomconfig_passwordprotectedroom': true, 'muc#roomconfig_roomsecret': 'cauldronburn' });
    const hecate = await fx.connect('hecate', 'broom');

    crone.send(mediatedInvite(room, bare('hecate'), 'come in'));
    const invitation = await hecate.next(isInvitation(room));

    expect(invitation.getChild('x', NS_MUC_USER)?.getChildText('password', NS_MUC_USER)).toBe('cauldronburn');
  });

  it('relays a decline to the inviter', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const hecate = await fx.connect('hecate', 'broom');
    crone.send(mediatedInvite(room, bare('hecate'), 'come in'));
    await hecate.next(isInvitation(room));

    const decline = x('decline', NS_MUC_USER, { to: bare('crone1') }, x('reason', NS_MUC_USER, {}, "Sorry, I'm too busy right now."));
    hecate.send(x('message', NS.CLIENT, { to: room, id: 'jk2vs61v' }, x('x', NS_MUC_USER, {}, decline)));
    const relayed = await crone.next((el) => el.name === 'message' && el.attr('from') === room && el.getChild('x', NS_MUC_USER)?.getChild('decline', NS_MUC_USER) !== undefined);

    const declined = relayed.getChild('x', NS_MUC_USER)!.getChild('decline', NS_MUC_USER)!;
    expect([bare('hecate'), `${bare('hecate')}/broom`]).toContain(declined.attr('from'));
    expect(declined.getChildText('reason', NS_MUC_USER)).toBe("Sorry, I'm too busy right now.");
  });

  it('returns item-not-found for an unknown invitee (SHOULD)', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);

    crone.send(mediatedInvite(room, 'nobody@example.test', 'come in'));
    const error = await crone.next((el) => el.name === 'message' && el.attr('type') === 'error' && el.attr('from') === room);

    expect(stanzaError(error)?.condition).toBe('item-not-found');
  });

  it('returns forbidden to a mere member', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room, { 'muc#roomconfig_membersonly': true, 'muc#roomconfig_allowinvites': false });
    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('hag66') });
    const hag = await fx.connect('hag66', 'pda');
    await enter(hag, `${room}/thirdwitch`);
    const hecate = await fx.connect('hecate', 'broom');

    hag.send(mediatedInvite(room, bare('hecate'), 'Hey Hecate, this is the place for all good witches!'));
    const error = await hag.next((el) => el.name === 'message' && el.attr('type') === 'error');

    expect(stanzaError(error)).toEqual({ type: 'auth', condition: 'forbidden' });
    await hecate.nothing(isInvitation(room), 200);
  });
});

describe('XEP-0249 direct invitation', () => {
  it('reaches the invitee unchanged', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const hecate = await fx.connect('hecate', 'broom');

    const invitation = x('x', NS_CONFERENCE, { jid: room, password: 'cauldronburn', reason: 'Hey Hecate, this is the place for all good witches!' });
    crone.send(x('message', NS.CLIENT, { to: bare('hecate'), id: 'direct1' }, invitation));
    const received = await hecate.next((el) => el.name === 'message' && el.attr('id') === 'direct1');

    expect(received.attr('from')).toBe(`${bare('crone1')}/desktop`);
    expect(received.getChild('x', NS_CONFERENCE)?.attrs).toEqual({ jid: room, password: 'cauldronburn', reason: 'Hey Hecate, this is the place for all good witches!' });
  });
});

function voiceRequest(room: string): Element {
  const form = buildForm({
    type: 'submit',
    fields: [
      { var: 'FORM_TYPE', values: [NS_MUC_REQUEST] },
      { var: 'muc#role', type: 'list-single', label: 'Requested role', values: ['participant'] },
    ],
  });
  return x('message', NS.CLIENT, { to: room, id: 'yd53c486' }, form);
}

function isApprovalForm(room: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.attr('from') === room && el.getChild('x', NS.DATA_FORMS) !== undefined;
}

describe('7.13 requesting voice', () => {
  it('sends moderators an approval form (SHOULD)', async () => {
    const { room, crone, hag } = await coven({ 'muc#roomconfig_moderatedroom': true });

    hag.send(voiceRequest(room));
    const message = await crone.next(isApprovalForm(room));

    const form = parseForm(message.getChild('x', NS.DATA_FORMS)!);
    const value = (name: string) => form.fields.find((field) => field.var === name)?.values[0];
    expect(form.type).toBe('form');
    expect(value('FORM_TYPE')).toBe(NS_MUC_REQUEST);
    expect(value('muc#role')).toBe('participant');
    expect(value('muc#jid')).toBe(`${bare('hag66')}/pda`);
    expect(value('muc#roomnick')).toBe('thirdwitch');
    expect(['0', 'false']).toContain(value('muc#request_allow'));
  });

  it('grants voice when a moderator approves', async () => {
    const { room, crone, hag } = await coven({ 'muc#roomconfig_moderatedroom': true });
    hag.send(voiceRequest(room));
    await crone.next(isApprovalForm(room));

    const approval = buildForm({
      type: 'submit',
      fields: [
        { var: 'FORM_TYPE', values: [NS_MUC_REQUEST] },
        { var: 'muc#role', values: ['participant'] },
        { var: 'muc#jid', values: [`${bare('hag66')}/pda`] },
        { var: 'muc#roomnick', values: ['thirdwitch'] },
        { var: 'muc#request_allow', values: ['true'] },
      ],
    });
    crone.send(x('message', NS.CLIENT, { to: room, id: 'approve' }, approval));

    const presence = await crone.next((el) => isPresence(`${room}/thirdwitch`)(el) && userItem(el)?.attr('role') === 'participant');
    expect(userItem(presence)?.attr('affiliation')).toBe('none');
  });
});

function selfPing(occupant: string): Element {
  return x('iq', NS.CLIENT, { type: 'get', to: occupant, id: 's2c1' }, x('ping', NS.PING));
}

/** Replies to the next ping that the room forwards to this client's occupant JID. */
function answerForwardedPing(client: TestClient, occupant: string): void {
  client
    .next((el) => el.name === 'iq' && el.attr('type') === 'get' && el.attr('from') === occupant && el.getChild('ping', NS.PING) !== undefined, 3000)
    .then((ping) => client.send(x('iq', NS.CLIENT, { type: 'result', to: occupant, id: ping.attr('id') })))
    .catch(() => undefined);
}

describe('XEP-0410 self-ping', () => {
  it('succeeds while joined', async () => {
    const { room, hag } = await coven();
    answerForwardedPing(hag, `${room}/thirdwitch`);

    const reply = await hag.iq(selfPing(`${room}/thirdwitch`));

    expect(reply.attr('type')).toBe('result');
  });

  it('returns not-acceptable when not joined', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66', 'pda');

    const reply = await hag.iq(selfPing(`${room}/thirdwitch`));

    expect(stanzaError(reply)?.condition).toBe('not-acceptable');
  });
});
