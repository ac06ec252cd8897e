/**
 * Group chat follow-ups over real sockets: what an occupant may not claim for the room,
 * resent messages (XEP-0359 origin-id), message moderation (XEP-0425), the history cap,
 * rooms unloaded from memory when idle, voice request denial and invitation errors.
 */
import { describe, expect, it } from 'vitest';
import { type Element, NS, buildForm, readStanzaErrorCondition, x } from '@parley/xmpp';
import type { TestClient } from './support/client.js';
import { bodies, forwardedMessage, queryArchive } from './support/mam.js';
import { DOMAIN, bare, useMucServer } from './support/muc-fixture.js';
import {
  NS_MUC_REQUEST,
  NS_MUC_USER,
  adminGet,
  adminItems,
  adminSetOk,
  createRoom,
  discoFeatures,
  discoInfo,
  enter,
  enterSeen,
  groupchat,
  isFromRoom,
  isGroupchat,
  isPresence,
  isSubjectMessage,
  leave,
  say,
  subjectChange,
  userItem,
} from './support/muc.js';

const WAIT_MS = 5000;
const QUIET_MS = 600;
const MODERATE = 'urn:xmpp:message-moderate:1';
const MODERATE_0 = 'urn:xmpp:message-moderate:0';
const FASTEN_0 = 'urn:xmpp:fasten:0';
const RETRACT_0 = 'urn:xmpp:message-retract:0';

const fixture = useMucServer();

/** Creates a room owned by crone1 (nick crone) with `config`, and enters hag66 (nick hag). */
async function coven(config?: Record<string, string | boolean>): Promise<{ room: string; crone: TestClient; hag: TestClient }> {
  const room = fixture.newRoom();
  const crone = await fixture.connect('crone1');
  const hag = await fixture.connect('hag66');
  await createRoom(crone, `${room}/crone`, config);
  await enterSeen(hag, `${room}/hag`, [crone]);
  return { room, crone, hag };
}

function roomStanzaId(message: Element, room: string): string | undefined {
  return message.getChildren('stanza-id', NS.STANZA_ID).find((el) => el.attr('by') === room)?.attr('id');
}

function errorOf(stanza: Element): string | undefined {
  const error = stanza.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

function withOriginId(message: Element, originId: string): Element {
  return message.append(x('origin-id', NS.STANZA_ID, { id: originId }));
}

describe('claims only the room may make', () => {
  function forged(message: Element, room: string): Element {
    return message.append(
      x('x', NS_MUC_USER, {}, x('item', NS_MUC_USER, { jid: `${bare('hecate')}/broom`, affiliation: 'owner', role: 'moderator' })),
      x('stanza-id', NS.STANZA_ID, { by: room, id: 'forged-id' }),
      x('delay', NS.DELAY, { from: room, stamp: '2001-01-01T00:00:00Z' }),
      x('retract', NS.RETRACT, { id: 'someone-elses' }, x('moderated', MODERATE, { by: `${room}/crone` })),
    );
  }

  it('groupchat strips forged room claims', async () => {
    const { room, crone, hag } = await coven();

    const received = crone.next(isGroupchat(`${room}/hag`, 'trust me'), WAIT_MS);
    const reflected = hag.next(isGroupchat(`${room}/hag`, 'trust me'), WAIT_MS);
    hag.send(forged(groupchat(room, 'trust me'), room));

    for (const message of [await received, await reflected]) {
      expect(message.getChild('x', NS_MUC_USER)).toBeUndefined();
      expect(message.getChildren('stanza-id', NS.STANZA_ID).map((el) => el.attr('id'))).not.toContain('forged-id');
      expect(roomStanzaId(message, room)).toBeDefined();
      expect(message.getChild('delay', NS.DELAY)).toBeUndefined();
      expect(message.getChild('retract', NS.RETRACT)).toBeUndefined();
    }
  });

  it('keeps the stripped claims out of the archive', async () => {
    const { room, crone, hag } = await coven();
    const reflected = hag.next(isGroupchat(`${room}/hag`, 'archived claim'), WAIT_MS);
    hag.send(forged(groupchat(room, 'archived claim'), room));
    await reflected;

    const outcome = await queryArchive(crone, { to: room });
    const stored = forwardedMessage(outcome.results.at(-1)!)!;
    expect(stored.getChildText('body', NS.CLIENT)).toBe('archived claim');
    expect(stored.getChildren('stanza-id', NS.STANZA_ID).map((el) => el.attr('id'))).not.toContain('forged-id');
    expect(stored.getChild('delay', NS.DELAY)).toBeUndefined();
    expect(stored.getChild('retract', NS.RETRACT)).toBeUndefined();
  });

  it('strips them from private messages too', async () => {
    const { room, crone, hag } = await coven();

    const received = crone.next((el) => el.name === 'message' && el.attr('from') === `${room}/hag` && el.getChildText('body', NS.CLIENT) === 'psst', WAIT_MS);
    hag.send(forged(x('message', NS.CLIENT, { type: 'chat', to: `${room}/crone` }, x('body', NS.CLIENT, {}, 'psst')), room));
    const message = await received;

    expect(message.getChildren('x', NS_MUC_USER)).toHaveLength(1);
    expect(message.getChild('x', NS_MUC_USER)?.elements()).toEqual([]);
    expect(message.getChildren('stanza-id', NS.STANZA_ID).map((el) => el.attr('id'))).not.toContain('forged-id');
    expect(message.getChild('delay', NS.DELAY)).toBeUndefined();
    expect(message.getChild('retract', NS.RETRACT)).toBeUndefined();
  });

  it('keeps a delay the sender stamped itself', async () => {
    const { room, crone, hag } = await coven();
    const received = crone.next(isGroupchat(`${room}/hag`, 'written offline'), WAIT_MS);
    hag.send(groupchat(room, 'written offline').append(x('delay', NS.DELAY, { from: `${bare('hag66')}/desktop`, stamp: '2020-01-01T00:00:00Z' })));
    expect((await received).getChild('delay', NS.DELAY)?.attr('from')).toBe(`${bare('hag66')}/desktop`);
  });
});

describe('resent messages (origin-id)', () => {
  it('resend reflects once, archives once', async () => {
    const { room, crone, hag } = await coven();
    const first = crone.next(isGroupchat(`${room}/hag`, 'only once'), WAIT_MS);
    const firstReflection = hag.next(isGroupchat(`${room}/hag`, 'only once'), WAIT_MS);
    hag.send(withOriginId(groupchat(room, 'only once', 'm1'), 'origin-1'));
    const firstId = roomStanzaId(await first, room);
    expect(firstId).toBeDefined();
    expect(roomStanzaId(await firstReflection, room)).toBe(firstId);

    hag.kill();
    await crone.next(isPresence(`${room}/hag`, { type: 'unavailable' }), WAIT_MS);
    const again = await fixture.connect('hag66', 'laptop');
    await enterSeen(again, `${room}/hag`, [crone]);

    const reflection = again.next(isGroupchat(`${room}/hag`, 'only once'), WAIT_MS);
    again.send(withOriginId(groupchat(room, 'only once', 'm1'), 'origin-1'));
    expect(roomStanzaId(await reflection, room)).toBe(firstId);
    await crone.nothing(isGroupchat(`${room}/hag`, 'only once'), QUIET_MS);

    expect(bodies(await queryArchive(crone, { to: room }))).toEqual(['only once']);
  });

  it('drops a resend that arrives right after the first copy', async () => {
    const { room, crone, hag } = await coven();
    const message = withOriginId(groupchat(room, 'twice quickly', 'q1'), 'origin-2');
    const copy = message.clone();
    hag.send(message);
    hag.send(copy);

    const firstAtCrone = await crone.next(isGroupchat(`${room}/hag`, 'twice quickly'), WAIT_MS);
    await crone.nothing(isGroupchat(`${room}/hag`, 'twice quickly'), QUIET_MS);
    const reflections = [await hag.next(isGroupchat(`${room}/hag`, 'twice quickly'), WAIT_MS), await hag.next(isGroupchat(`${room}/hag`, 'twice quickly'), WAIT_MS)];
    expect(reflections.map((el) => roomStanzaId(el, room))).toEqual([roomStanzaId(firstAtCrone, room), roomStanzaId(firstAtCrone, room)]);
    expect(bodies(await queryArchive(crone, { to: room }))).toEqual(['twice quickly']);
  });

  it('treats the same origin-id from another account as a new message', async () => {
    const { room, crone, hag } = await coven();
    hag.send(withOriginId(groupchat(room, 'from hag'), 'shared-origin'));
    await crone.next(isGroupchat(`${room}/hag`, 'from hag'), WAIT_MS);
    const fromCrone = hag.next(isGroupchat(`${room}/crone`, 'from crone'), WAIT_MS);
    crone.send(withOriginId(groupchat(room, 'from crone'), 'shared-origin'));
    await fromCrone;
    expect(bodies(await queryArchive(crone, { to: room }))).toEqual(['from hag', 'from crone']);
  });
});

describe('message moderation (XEP-0425)', () => {
  function moderateIq(room: string, stanzaId: string, reason?: string): Element {
    return x('iq', NS.CLIENT, { type: 'set', to: room }, x('moderate', MODERATE, { id: stanzaId }, x('retract', NS.RETRACT), reason === undefined ? undefined : x('reason', MODERATE, {}, reason)));
  }

  function moderateIqV0(room: string, stanzaId: string, reason: string): Element {
    const moderate = x('moderate', MODERATE_0, {}, x('retract', RETRACT_0), x('reason', MODERATE_0, {}, reason));
    return x('iq', NS.CLIENT, { type: 'set', to: room }, x('apply-to', FASTEN_0, { id: stanzaId }, moderate));
  }

  function isNotice(room: string): (el: Element) => boolean {
    return (el) => el.name === 'message' && el.attr('from') === room && (el.getChild('retract', NS.RETRACT) !== undefined || el.getChild('apply-to', FASTEN_0) !== undefined);
  }

  async function spoken(room: string, crone: TestClient, hag: TestClient, body: string): Promise<string> {
    const seen = crone.next(isGroupchat(`${room}/hag`, body), WAIT_MS);
    await say(hag, room, 'hag', body);
    return roomStanzaId(await seen, room)!;
  }

  it('advertises both versions', async () => {
    const { room, crone } = await coven();
    expect(discoFeatures(await discoInfo(crone, room))).toEqual(expect.arrayContaining([MODERATE, MODERATE_0]));
  });

  it('retracts a message for every occupant and leaves a tombstone in the archive', async () => {
    const { room, crone, hag } = await coven();
    const stanzaId = await spoken(room, crone, hag, 'rude words');

    const toHag = hag.next(isNotice(room), WAIT_MS);
    const toCrone = crone.next(isNotice(room), WAIT_MS);
    const reply = await crone.iq(moderateIq(room, stanzaId, 'Be nice'));
    expect(reply.attr('type')).toBe('result');

    for (const notice of [await toHag, await toCrone]) {
      const retract = notice.getChild('retract', NS.RETRACT);
      expect(retract?.attr('id')).toBe(stanzaId);
      expect(retract?.getChild('moderated', MODERATE)?.attr('by')).toBe(`${room}/crone`);
      expect(retract?.getChildText('reason', NS.RETRACT)).toBe('Be nice');
      const legacy = notice.getChild('apply-to', FASTEN_0);
      expect(legacy?.attr('id')).toBe(stanzaId);
      expect(legacy?.getChild('moderated', MODERATE_0)?.getChild('retract', RETRACT_0)).toBeDefined();
      expect(roomStanzaId(notice, room)).toBeDefined();
    }

    const outcome = await queryArchive(crone, { to: room });
    const stored = outcome.results.map((result) => forwardedMessage(result)!);
    const tombstone = stored.find((message) => roomStanzaId(message, room) === stanzaId);
    expect(tombstone?.getChild('body', NS.CLIENT)).toBeUndefined();
    const retracted = tombstone?.getChild('retracted', NS.RETRACT);
    expect(retracted?.getChild('moderated', MODERATE)?.attr('by')).toBe(`${room}/crone`);
    expect(retracted?.getChildText('reason', NS.RETRACT)).toBe('Be nice');
    expect(tombstone?.getChild('moderated', MODERATE_0)?.getChild('retracted', RETRACT_0)).toBeDefined();
    expect(JSON.stringify(stored.map((message) => message.toString()))).not.toContain('rude words');
  });

  it('serves the tombstone as join history', async () => {
    const { room, crone, hag } = await coven();
    const stanzaId = await spoken(room, crone, hag, 'gone soon');
    expect((await crone.iq(moderateIq(room, stanzaId))).attr('type')).toBe('result');

    const hecate = await fixture.connect('hecate');
    await enter(hecate, `${room}/hecate`);
    const history: Element[] = [];
    const isSubject = isSubjectMessage(room);
    for (;;) {
      const message = await hecate.next((el) => el.name === 'message' && isFromRoom(room)(el), WAIT_MS);
      if (isSubject(message)) break;
      history.push(message);
    }
    const tombstone = history.find((message) => roomStanzaId(message, room) === stanzaId);
    expect(tombstone?.getChild('retracted', NS.RETRACT)).toBeDefined();
    expect(history.map((message) => message.getChildText('body', NS.CLIENT))).not.toContain('gone soon');
  });

  it('accepts version 0 requests (slixmpp 1.8)', async () => {
    const { room, crone, hag } = await coven();
    const stanzaId = await spoken(room, crone, hag, 'old client target');
    const toHag = hag.next(isNotice(room), WAIT_MS);
    expect((await crone.iq(moderateIqV0(room, stanzaId, 'legacy'))).attr('type')).toBe('result');
    const moderated = (await toHag).getChild('apply-to', FASTEN_0)?.getChild('moderated', MODERATE_0);
    expect(moderated?.getChildText('reason', MODERATE_0)).toBe('legacy');
  });

  it('refuses non-moderators with forbidden and leaves the message alone', async () => {
    const { room, crone, hag } = await coven();
    const stanzaId = await spoken(room, crone, hag, 'my own words');
    const reply = await hag.iq(moderateIq(room, stanzaId));
    expect(errorOf(reply)).toBe('forbidden');
    expect(bodies(await queryArchive(crone, { to: room }))).toEqual(['my own words']);
  });

  it('answers item-not-found for an unknown stanza id', async () => {
    const { room, crone } = await coven();
    expect(errorOf(await crone.iq(moderateIq(room, 'no-such-id')))).toBe('item-not-found');
  });

  it('sends no second notice for a message retracted already', async () => {
    const { room, crone, hag } = await coven();
    const stanzaId = await spoken(room, crone, hag, 'twice moderated');
    const notice = hag.next(isNotice(room), WAIT_MS);
    await crone.iq(moderateIq(room, stanzaId));
    await notice;
    expect((await crone.iq(moderateIq(room, stanzaId))).attr('type')).toBe('result');
    await hag.nothing(isNotice(room), QUIET_MS);
  });
});

describe('[muc] history_max', () => {
  const small = useMucServer({ muc: { history_max: 3 } });

  it('caps the history a join asks for', async () => {
    const room = small.newRoom();
    const crone = await small.connect('crone1');
    await createRoom(crone, `${room}/crone`);
    for (let i = 1; i <= 5; i++) await say(crone, room, 'crone', `line ${i}`);

    for (const history of [{ maxstanzas: '10' }, { seconds: '600' }]) {
      const hag = await small.connect('hag66', `h${Object.keys(history)[0]}`);
      const presence = x('presence', NS.CLIENT, { to: `${room}/hag` }, x('x', 'http://jabber.org/protocol/muc', {}, x('history', 'http://jabber.org/protocol/muc', history)));
      hag.send(presence);
      const texts: string[] = [];
      for (;;) {
        const message = await hag.next((el) => el.name === 'message' && isFromRoom(room)(el), WAIT_MS);
        if (isSubjectMessage(room)(message)) break;
        texts.push(message.getChildText('body', NS.CLIENT) ?? '');
      }
      expect(texts).toEqual(['line 3', 'line 4', 'line 5']);
      await leave(hag, `${room}/hag`);
    }
  });
});

describe('idle persistent rooms', () => {
  it('unloads an empty room and loads its stored state on the next join', async () => {
    const room = fixture.newRoom();
    const name = room.split('@')[0]!;
    const crone = await fixture.connect('crone1');
    await createRoom(crone, `${room}/crone`, { 'muc#roomconfig_persistentroom': true, 'muc#roomconfig_roomname': 'Coven' });
    await adminSetOk(crone, room, { jid: bare('hag66'), affiliation: 'member' });
    const subjectSet = crone.next(isSubjectMessage(room), WAIT_MS);
    crone.send(subjectChange(room, 'Spells'));
    await subjectSet;
    await leave(crone, `${room}/crone`);

    // Only a room read again from storage can see this change.
    const store = fixture.server.server.storage.mucRooms;
    await expect.poll(() => store.get(`conference.${DOMAIN}`, name).then((row) => row?.subject)).toBe('Spells');
    const stored = (await store.get(`conference.${DOMAIN}`, name))!;
    await store.save({ ...stored, subject: 'Potions', subjectNick: null });

    const again = await fixture.connect('crone1', 'laptop');
    const subject = again.next(isSubjectMessage(room), WAIT_MS);
    const { self } = await enter(again, `${room}/crone`);
    expect(userItem(self)?.attr('affiliation')).toBe('owner');
    expect((await subject).getChildText('subject', NS.CLIENT)).toBe('Potions');

    const members = adminItems(await adminGet(again, room, { affiliation: 'member' }));
    expect(members.map((item) => item.attr('jid'))).toEqual([bare('hag66')]);
    const info = await discoInfo(again, room);
    expect(info.getChild('query', NS.DISCO_INFO)?.getChild('identity', NS.DISCO_INFO)?.attr('name')).toBe('Coven');
    expect(discoFeatures(info)).toContain('muc_persistent');
  });

  it('answers a disco query for an unloaded room', async () => {
    const room = fixture.newRoom();
    const crone = await fixture.connect('crone1');
    await createRoom(crone, `${room}/crone`, { 'muc#roomconfig_persistentroom': true, 'muc#roomconfig_roomname': 'Quiet' });
    await leave(crone, `${room}/crone`);
    for (let i = 0; i < 3; i++) {
      const info = await discoInfo(crone, room);
      expect(info.attr('type')).toBe('result');
      expect(info.getChild('query', NS.DISCO_INFO)?.getChild('identity', NS.DISCO_INFO)?.attr('name')).toBe('Quiet');
    }
  });
});

describe('voice request denial (XEP-0045 8.6)', () => {
  function decision(room: string, allow: boolean): Element {
    const form = buildForm({
      type: 'submit',
      fields: [
        { var: 'FORM_TYPE', values: [NS_MUC_REQUEST] },
        { var: 'muc#role', values: ['participant'] },
        { var: 'muc#jid', values: [`${bare('hag66')}/desktop`] },
        { var: 'muc#roomnick', values: ['hag'] },
        { var: 'muc#request_allow', values: [allow ? 'true' : 'false'] },
      ],
    });
    return x('message', NS.CLIENT, { to: room }, form);
  }

  it('changes nothing and sends nothing when a moderator denies', async () => {
    const { room, crone, hag } = await coven({ 'muc#roomconfig_moderatedroom': true });
    const request = buildForm({ type: 'submit', fields: [{ var: 'FORM_TYPE', values: [NS_MUC_REQUEST] }, { var: 'muc#role', values: ['participant'] }] });
    hag.send(x('message', NS.CLIENT, { to: room }, request));
    await crone.next((el) => el.name === 'message' && el.attr('from') === room && el.getChild('x', NS.DATA_FORMS) !== undefined, WAIT_MS);

    crone.send(decision(room, false));
    const anything = (el: Element): boolean => isFromRoom(room)(el) && !isSubjectMessage(room)(el) && el.name !== 'presence';
    const roleChange = (el: Element): boolean => isPresence(`${room}/hag`)(el) && userItem(el)?.attr('role') !== 'visitor';
    await Promise.all([hag.nothing(roleChange, QUIET_MS), crone.nothing(roleChange, QUIET_MS)]);
    await Promise.all([hag.nothing(anything, QUIET_MS), crone.nothing(anything, QUIET_MS)]);
    const voices = adminItems(await adminGet(crone, room, { role: 'participant' }));
    expect(voices.map((item) => item.attr('nick'))).not.toContain('hag');

    crone.send(decision(room, true));
    await hag.next((el) => isPresence(`${room}/hag`)(el) && userItem(el)?.attr('role') === 'participant', WAIT_MS);
  });
});

describe('invitation errors (XEP-0045 7.8.2)', () => {
  function invitation(room: string, to: string): Element {
    return x('message', NS.CLIENT, { to: room, id: 'inv' }, x('x', NS_MUC_USER, {}, x('invite', NS_MUC_USER, { to })));
  }

  it.each([
    ['a malformed address', 'bad@@example.test', 'jid-malformed'],
    ['an unknown local account', `nobody@${DOMAIN}`, 'item-not-found'],
    ['an account on another server', 'witch@elsewhere.test', 'item-not-found'],
  ])('refuses an invitation to %s', async (_label, to, condition) => {
    const { room, hag } = await coven();
    const error = hag.next((el) => el.name === 'message' && el.attr('type') === 'error' && el.attr('from') === room, WAIT_MS);
    hag.send(invitation(room, to));
    expect(errorOf(await error)).toBe(condition);
  });
});
