/**
 * XEP-0045 (Multi-User Chat, version 1.35.5) conformance: admin use cases (banning and
 * the ban list, granting and revoking membership and the member list, granting and
 * revoking moderator status and the moderator list).
 */
import { describe, expect, it } from 'vitest';
import type { Element } from '@parley/xmpp';
import type { TestClient } from './support/client.js';
import { bare, useMucServer } from './support/muc-fixture.js';
import {
  NS_MUC_ADMIN,
  NS_MUC_USER,
  adminGet,
  adminItems,
  adminSet,
  adminSetOk,
  createRoom,
  enter,
  enterSeen,
  enterRejected,
  isPresence,
  stanzaError,
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

function jids(items: Element[]): string[] {
  return items.map((item) => item.attr('jid') ?? '').sort();
}

function hasAffiliation(from: string, affiliation: string): (el: Element) => boolean {
  return (el) => isPresence(from)(el) && userItem(el)?.attr('affiliation') === affiliation;
}

function hasRole(from: string, role: string): (el: Element) => boolean {
  return (el) => isPresence(from)(el) && userItem(el)?.attr('role') === role;
}

describe('9.1 banning a user', () => {
  it('removes the banned occupant with 301', async () => {
    const { room, crone, hag } = await coven();

    const reply = await adminSet(crone, room, { affiliation: 'outcast', jid: bare('hag66'), reason: 'Treason' });
    const removed = await waitForPresence(hag, `${room}/thirdwitch`, { type: 'unavailable', codes: ['301'] });

    expect(reply.attr('type')).toBe('result');
    expect(userItem(removed)?.attrs).toMatchObject({ affiliation: 'outcast', role: 'none' });
  });

  it('tells the banned occupant the reason (MAY)', async () => {
    const { room, crone, hag } = await coven();

    await adminSetOk(crone, room, { affiliation: 'outcast', jid: bare('hag66'), reason: 'Treason' });
    const removed = await waitForPresence(hag, `${room}/thirdwitch`, { type: 'unavailable', codes: ['301'] });

    expect(userItem(removed)?.getChildText('reason', NS_MUC_USER)).toBe('Treason');
  });

  it('tells remaining occupants with 301', async () => {
    const { room, crone, wicca } = await coven();

    await adminSetOk(crone, room, { affiliation: 'outcast', jid: bare('hag66') });

    for (const occupant of [crone, wicca]) {
      const presence = await waitForPresence(occupant, `${room}/thirdwitch`, { type: 'unavailable', codes: ['301'] });
      expect(userItem(presence)?.attrs).toMatchObject({ affiliation: 'outcast', role: 'none' });
    }
  });

  it('keeps the banned user out', async () => {
    const { room, crone, hag } = await coven();
    await adminSetOk(crone, room, { affiliation: 'outcast', jid: bare('hag66') });
    await waitForPresence(hag, `${room}/thirdwitch`, { type: 'unavailable' });

    const error = await enterRejected(hag, `${room}/thirdwitch`);

    expect(stanzaError(error)).toEqual({ type: 'auth', condition: 'forbidden' });
  });

  it('bans a user who is not in the room', async () => {
    const { room, crone } = await coven();

    await adminSetOk(crone, room, { affiliation: 'outcast', jid: bare('hecate') });
    const hecate = await fx.connect('hecate');

    expect(stanzaError(await enterRejected(hecate, `${room}/hecate`))?.condition).toBe('forbidden');
  });

  it('frees the reserved nick of the outcast', async () => {
    const { room, crone } = await coven();
    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('hecate'), nick: 'hecate' });

    await adminSetOk(crone, room, { affiliation: 'outcast', jid: bare('hecate') });
    const bard = await fx.connect('bard');

    expect((await enter(bard, `${room}/hecate`)).self.attr('from')).toBe(`${room}/hecate`);
  });

  it('returns not-allowed when an admin bans an owner', async () => {
    const { room, crone, wicca } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    const reply = await adminSet(wicca, room, { affiliation: 'outcast', jid: bare('crone1') });

    expect(stanzaError(reply)).toEqual({ type: 'cancel', condition: 'not-allowed' });
  });

  it('returns conflict when banning oneself', async () => {
    const { room, crone, wicca } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    const reply = await adminSet(wicca, room, { affiliation: 'outcast', jid: bare('wiccarocks') });

    expect(stanzaError(reply)?.condition).toBe('conflict');
  });

  it('returns forbidden to a participant', async () => {
    const { room, hag } = await coven();

    const reply = await adminSet(hag, room, { affiliation: 'outcast', jid: bare('wiccarocks') });

    expect(stanzaError(reply)?.condition).toBe('forbidden');
  });
});

describe('9.2 modifying the ban list', () => {
  it('lists outcasts with affiliation and bare JID', async () => {
    const { room, crone } = await coven();
    await adminSetOk(crone, room, { affiliation: 'outcast', jid: bare('pistol'), reason: 'Treason' });

    const reply = await adminGet(crone, room, { affiliation: 'outcast' });

    expect(reply.attr('type')).toBe('result');
    const items = adminItems(reply);
    expect(items).toHaveLength(1);
    expect(items[0]?.attrs).toMatchObject({ affiliation: 'outcast', jid: bare('pistol') });
    expect(items[0]?.attr('role')).toBeUndefined();
  });

  it('applies a delta of several items', async () => {
    const { room, crone } = await coven();
    await adminSetOk(crone, room, { affiliation: 'outcast', jid: bare('pistol') });

    const reply = await adminSet(
      crone,
      room,
      { affiliation: 'outcast', jid: bare('bard'), reason: 'Treason' },
      { affiliation: 'outcast', jid: bare('hecate'), reason: 'Treason' },
      { affiliation: 'none', jid: bare('pistol') },
    );

    expect(reply.attr('type')).toBe('result');
    expect(jids(adminItems(await adminGet(crone, room, { affiliation: 'outcast' })))).toEqual([bare('bard'), bare('hecate')]);
  });

  it('lifts a ban with affiliation none', async () => {
    const { room, crone } = await coven();
    await adminSetOk(crone, room, { affiliation: 'outcast', jid: bare('hecate') });

    await adminSetOk(crone, room, { affiliation: 'none', jid: bare('hecate') });
    const hecate = await fx.connect('hecate');

    expect((await enter(hecate, `${room}/hecate`)).self.attr('from')).toBe(`${room}/hecate`);
  });

  it('rejects a delta that bans an owner', async () => {
    const { room, crone, wicca } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    const reply = await adminSet(wicca, room, { affiliation: 'outcast', jid: bare('pistol') }, { affiliation: 'outcast', jid: bare('crone1') });

    expect(['conflict', 'not-allowed']).toContain(stanzaError(reply)?.condition);
    expect(adminItems(await adminGet(crone, room, { affiliation: 'outcast' }))).toEqual([]);
  });

  it('returns forbidden to a participant', async () => {
    const { room, hag } = await coven();

    const reply = await adminGet(hag, room, { affiliation: 'outcast' });

    expect(stanzaError(reply)?.condition).toBe('forbidden');
  });
});

describe('9.3 granting membership', () => {
  it('tells occupants of the new member', async () => {
    const { room, crone, wicca, hag } = await coven();

    const reply = await adminSet(crone, room, { affiliation: 'member', jid: bare('hag66'), nick: 'thirdwitch', reason: 'A worthy witch indeed!' });

    expect(reply.attr('type')).toBe('result');
    for (const occupant of [crone, wicca, hag]) {
      const presence = await occupant.next(hasAffiliation(`${room}/thirdwitch`, 'member'));
      expect(userItem(presence)?.attr('role')).toBe('participant');
    }
  });

  it('adds the user to the member list', async () => {
    const { room, crone } = await coven();

    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('hecate') });

    expect(jids(adminItems(await adminGet(crone, room, { affiliation: 'member' })))).toEqual([bare('hecate')]);
  });

  it('uses the bare JID of a full JID (SHOULD)', async () => {
    const { room, crone } = await coven();

    await adminSetOk(crone, room, { affiliation: 'member', jid: `${bare('hecate')}/broom` });

    expect(jids(adminItems(await adminGet(crone, room, { affiliation: 'member' })))).toEqual([bare('hecate')]);
  });
});

describe('9.4 revoking membership', () => {
  it('tells occupants of the lost membership', async () => {
    const { room, crone, wicca } = await coven();
    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('hag66') });
    await wicca.next(hasAffiliation(`${room}/thirdwitch`, 'member'));

    const reply = await adminSet(crone, room, { affiliation: 'none', jid: bare('hag66'), reason: 'Not so worthy after all!' });

    expect(reply.attr('type')).toBe('result');
    const presence = await wicca.next(hasAffiliation(`${room}/thirdwitch`, 'none'));
    expect(userItem(presence)?.attr('role')).toBe('participant');
  });

  it('removes the user from a members-only room with 321', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await createRoom(crone, `${room}/firstwitch`, { 'muc#roomconfig_membersonly': true });
    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('hag66') });
    const hag = await fx.connect('hag66');
    await enter(hag, `${room}/thirdwitch`);

    await adminSetOk(crone, room, { affiliation: 'none', jid: bare('hag66') });

    for (const occupant of [hag, crone]) {
      const presence = await waitForPresence(occupant, `${room}/thirdwitch`, { type: 'unavailable', codes: ['321'] });
      expect(userItem(presence)?.attrs).toMatchObject({ affiliation: 'none', role: 'none' });
    }
    expect(stanzaError(await enterRejected(hag, `${room}/thirdwitch`))?.condition).toBe('registration-required');
  });
});

describe('9.5 modifying the member list', () => {
  it('lists members with affiliation and bare JID', async () => {
    const { room, crone } = await coven();
    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('hag66') });

    const reply = await adminGet(crone, room, { affiliation: 'member' });

    expect(reply.attr('type')).toBe('result');
    const items = adminItems(reply);
    expect(items).toHaveLength(1);
    expect(items[0]?.attrs).toMatchObject({ affiliation: 'member', jid: bare('hag66') });
    expect(items[0]?.attr('role')).toBeUndefined();
  });

  it('applies a delta of several items', async () => {
    const { room, crone } = await coven();
    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('hag66') });

    const reply = await adminSet(crone, room, { affiliation: 'none', jid: bare('hag66') }, { affiliation: 'member', jid: bare('hecate') });

    expect(reply.attr('type')).toBe('result');
    expect(jids(adminItems(await adminGet(crone, room, { affiliation: 'member' })))).toEqual([bare('hecate')]);
  });

  it('lets members read it (SHOULD)', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await createRoom(crone, `${room}/firstwitch`, { 'muc#roomconfig_membersonly': true, 'muc#roomconfig_whois': 'anyone' });
    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('hag66') }, { affiliation: 'member', jid: bare('hecate') });
    const hag = await fx.connect('hag66');
    await enter(hag, `${room}/thirdwitch`);

    const reply = await adminGet(hag, room, { affiliation: 'member' });

    expect(reply.attr('type')).toBe('result');
    expect(jids(adminItems(reply))).toEqual([bare('hag66'), bare('hecate')]);
  });

  it('returns forbidden when a participant edits it', async () => {
    const { room, hag } = await coven();

    const reply = await adminSet(hag, room, { affiliation: 'member', jid: bare('hecate') });

    expect(stanzaError(reply)?.condition).toBe('forbidden');
  });

  it('sends an invitation to a new member (SHOULD)', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await createRoom(crone, `${room}/firstwitch`, { 'muc#roomconfig_membersonly': true });
    const hecate = await fx.connect('hecate', 'broom');

    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('hecate') });

    const invitation = await hecate.next((el) => el.name === 'message' && el.attr('from') === room && el.getChild('x', NS_MUC_USER)?.getChild('invite', NS_MUC_USER) !== undefined);
    expect(invitation.getChild('x', NS_MUC_USER)?.getChild('invite', NS_MUC_USER)?.attr('from')).toBeDefined();
  });
});

describe('9.6 granting moderator status', () => {
  it('tells occupants of the new moderator', async () => {
    const { room, crone, wicca, hag } = await coven();

    const reply = await adminSet(crone, room, { nick: 'thirdwitch', role: 'moderator', reason: 'A worthy witch indeed!' });

    expect(reply.attr('type')).toBe('result');
    for (const occupant of [crone, wicca, hag]) {
      const presence = await occupant.next(hasRole(`${room}/thirdwitch`, 'moderator'));
      expect(userItem(presence)?.attr('affiliation')).toBe('none');
    }
  });

  it('lets an admin grant it', async () => {
    const { room, crone, wicca } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    await adminSetOk(wicca, room, { nick: 'thirdwitch', role: 'moderator' });

    await crone.next(hasRole(`${room}/thirdwitch`, 'moderator'));
  });
});

describe('9.7 revoking moderator status', () => {
  it('makes the moderator a participant', async () => {
    const { room, crone, wicca } = await coven();
    await adminSetOk(crone, room, { nick: 'thirdwitch', role: 'moderator' });
    await wicca.next(hasRole(`${room}/thirdwitch`, 'moderator'));

    const reply = await adminSet(crone, room, { nick: 'thirdwitch', role: 'participant', reason: 'Not so worthy after all!' });

    expect(reply.attr('type')).toBe('result');
    await wicca.next(hasRole(`${room}/thirdwitch`, 'participant'));
  });

  it('returns not-allowed for an owner', async () => {
    const { room, crone, wicca } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    const reply = await adminSet(wicca, room, { nick: 'firstwitch', role: 'participant' });

    expect(stanzaError(reply)).toEqual({ type: 'cancel', condition: 'not-allowed' });
  });

  it('returns not-allowed for an admin', async () => {
    const { room, crone } = await coven();
    await adminSetOk(crone, room, { affiliation: 'admin', jid: bare('wiccarocks') });

    const reply = await adminSet(crone, room, { nick: 'secondwitch', role: 'participant' });

    expect(stanzaError(reply)).toEqual({ type: 'cancel', condition: 'not-allowed' });
  });
});

describe('9.8 modifying the moderator list', () => {
  it('lists moderators with nick and role', async () => {
    const { room, crone } = await coven();
    await adminSetOk(crone, room, { nick: 'thirdwitch', role: 'moderator' });

    const reply = await adminGet(crone, room, { role: 'moderator' });

    expect(reply.attr('type')).toBe('result');
    const items = adminItems(reply);
    expect(items.map((item) => item.attr('nick')).sort()).toEqual(['firstwitch', 'thirdwitch']);
    expect(items.every((item) => item.attr('role') === 'moderator')).toBe(true);
    expect(reply.getChild('query', NS_MUC_ADMIN)).toBeDefined();
  });

  it('applies a delta of several items', async () => {
    const { room, crone, wicca } = await coven();
    await adminSetOk(crone, room, { nick: 'thirdwitch', role: 'moderator' });

    const reply = await adminSet(crone, room, { nick: 'thirdwitch', role: 'participant' }, { nick: 'secondwitch', role: 'moderator' });

    expect(reply.attr('type')).toBe('result');
    await wicca.next(hasRole(`${room}/secondwitch`, 'moderator'));
    const items = adminItems(await adminGet(crone, room, { role: 'moderator' }));
    expect(items.map((item) => item.attr('nick')).sort()).toEqual(['firstwitch', 'secondwitch']);
  });

  it('returns forbidden to a participant', async () => {
    const { room, hag } = await coven();

    const reply = await adminSet(hag, room, { nick: 'secondwitch', role: 'moderator' });

    expect(stanzaError(reply)?.condition).toBe('forbidden');
  });
});

describe('business rules for muc#admin results', () => {
  it('gives full JIDs in role lists', async () => {
    const { room, crone } = await coven();

    const items = adminItems(await adminGet(crone, room, { role: 'participant' }));

    const hag = items.find((item) => item.attr('nick') === 'thirdwitch');
    expect(hag?.attrs).toMatchObject({ role: 'participant', affiliation: 'none', jid: `${bare('hag66')}/pda` });
  });
});
