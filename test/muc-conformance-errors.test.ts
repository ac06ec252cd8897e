/**
 * XEP-0045 (Multi-User Chat, version 1.35.5) conformance: the error conditions of
 * entering a room and of the business rules. Each test sends what an example of the
 * specification sends and checks the error type and condition it names.
 */
import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import type { TestClient } from './support/client.js';
import { bare, useMucServer } from './support/muc-fixture.js';
import {
  NS_MUC_OWNER,
  adminSet,
  adminSetOk,
  configureRoom,
  createRoom,
  discoInfo,
  enter,
  enterPresence,
  enterRejected,
  formField,
  getConfigForm,
  groupchat,
  isGroupchat,
  roomJid,
  stanzaError,
  waitForPresenceError,
} from './support/muc.js';

const fx = useMucServer();

async function roomWithOwner(room: string, config?: Record<string, string | boolean>): Promise<TestClient> {
  const crone = await fx.connect('crone1');
  await createRoom(crone, `${room}/firstwitch`, config);
  return crone;
}

function isErrorFrom(from: string, name: string): (el: Element) => boolean {
  return (el) => el.name === name && el.attr('from') === from && el.attr('type') === 'error';
}

describe('7.2.1 entering without a nickname', () => {
  it('returns jid-malformed', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66');

    hag.send(enterPresence(room));
    const error = await waitForPresenceError(hag, room);

    expect(stanzaError(error)).toEqual({ type: 'modify', condition: 'jid-malformed' });
  });
});

describe('business rules for nicknames', () => {
  it('rejects a nickname of spaces only', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66');

    const error = await enterRejected(hag, `${room}/   `);

    expect(stanzaError(error)?.condition).toBeDefined();
  });
});

describe('7.2.5 password-protected rooms', () => {
  const config = { 'muc#roomconfig_passwordprotectedroom': true, 'muc#roomconfig_roomsecret': 'cauldronburn' };

  it('returns not-authorized without a password', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room, config);
    const hag = await fx.connect('hag66');

    const error = await enterRejected(hag, `${room}/thirdwitch`);

    expect(error.attr('from')).toBe(`${room}/thirdwitch`);
    expect(stanzaError(error)).toEqual({ type: 'auth', condition: 'not-authorized' });
  });

  it('returns not-authorized for a wrong password', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room, config);
    const hag = await fx.connect('hag66');

    const error = await enterRejected(hag, `${room}/thirdwitch`, { password: 'toad' });

    expect(stanzaError(error)).toEqual({ type: 'auth', condition: 'not-authorized' });
  });
});

describe('7.2.6 members-only rooms', () => {
  it('returns registration-required to a non-member', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room, { 'muc#roomconfig_membersonly': true });
    const hag = await fx.connect('hag66');

    const error = await enterRejected(hag, `${room}/thirdwitch`);

    expect(stanzaError(error)).toEqual({ type: 'auth', condition: 'registration-required' });
  });
});

describe('7.2.7 banned users', () => {
  it('returns forbidden to an outcast', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    await adminSetOk(crone, room, { affiliation: 'outcast', jid: bare('hag66') });
    const hag = await fx.connect('hag66');

    const error = await enterRejected(hag, `${room}/thirdwitch`);

    expect(stanzaError(error)).toEqual({ type: 'auth', condition: 'forbidden' });
  });
});

describe('7.2.8 nickname conflict', () => {
  it('returns conflict for a nickname in use', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66');

    const error = await enterRejected(hag, `${room}/firstwitch`);

    expect(stanzaError(error)).toEqual({ type: 'cancel', condition: 'conflict' });
  });

  it('returns conflict for a nickname reserved by a member', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    await adminSetOk(crone, room, { affiliation: 'member', jid: bare('wiccarocks'), nick: 'secondwitch' });
    const hag = await fx.connect('hag66');

    const error = await enterRejected(hag, `${room}/secondwitch`);

    expect(stanzaError(error)).toEqual({ type: 'cancel', condition: 'conflict' });
  });

  it('lets the same user share a nickname (SHOULD)', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const pda = await fx.connect('hag66', 'pda');
    const laptop = await fx.connect('hag66', 'laptop');
    await enter(pda, `${room}/thirdwitch`);

    const { self } = await enter(laptop, `${room}/thirdwitch`);

    expect(self.attr('from')).toBe(`${room}/thirdwitch`);
  });
});

describe('7.2.9 max users', () => {
  /** Creates a room with the smallest occupant limit the form offers and fills it. */
  async function fullRoom(room: string): Promise<TestClient> {
    const crone = await fx.connect('crone1');
    await enter(crone, `${room}/firstwitch`);
    const form = await getConfigForm(crone, room);
    const limit = smallestLimit(formField(form, 'muc#roomconfig_maxusers')?.options?.map((option) => option.value));
    const reply = await configureRoom(crone, room, { 'muc#roomconfig_maxusers': String(limit) });
    expect(reply.attr('type')).toBe('result');

    const users = ['wiccarocks', 'hag66', 'hecate', 'bard'] as const;
    for (let index = 1; index < limit; index++) {
      const user = users[(index - 1) % users.length]!;
      await enter(await fx.connect(user, `r${index}`), `${room}/witch${index}`);
    }
    return crone;
  }

  it('returns service-unavailable when the room is full (SHOULD)', async () => {
    const room = fx.newRoom();
    await fullRoom(room);
    const late = await fx.connect('pistol');

    const error = await enterRejected(late, `${room}/latecomer`);

    expect(stanzaError(error)).toEqual({ type: 'wait', condition: 'service-unavailable' });
  });

  it('admits an owner beyond the limit', async () => {
    const room = fx.newRoom();
    await fullRoom(room);
    const secondDevice = await fx.connect('crone1', 'phone');

    const { self } = await enter(secondDevice, `${room}/crone-phone`);

    expect(self.attr('from')).toBe(`${room}/crone-phone`);
  });
});

/** Returns the smallest numeric limit a maxusers field offers, or 2 for a free-text field. */
function smallestLimit(options: string[] | undefined): number {
  const numbers = (options ?? []).map(Number).filter((value) => Number.isInteger(value) && value > 0);
  return numbers.length === 0 ? 2 : Math.min(...numbers);
}

describe('7.2.10 locked room', () => {
  it('returns item-not-found before configuration', async () => {
    const room = fx.newRoom();
    const crone = await fx.connect('crone1');
    await enter(crone, `${room}/firstwitch`);
    const hag = await fx.connect('hag66');

    const error = await enterRejected(hag, `${room}/thirdwitch`);

    expect(stanzaError(error)).toEqual({ type: 'cancel', condition: 'item-not-found' });
  });
});

describe('6.6 querying a room occupant', () => {
  it('returns bad-request to a non-occupant', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66');

    const reply = await discoInfo(hag, `${room}/firstwitch`);

    expect(stanzaError(reply)?.condition).toBe('bad-request');
  });
});

describe('7.4 sending a message to all occupants', () => {
  it('returns not-acceptable to a non-occupant (SHOULD)', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const hag = await fx.connect('hag66');

    hag.send(groupchat(room, 'let me in', 'outside1'));
    const error = await hag.next(isErrorFrom(room, 'message'));

    expect(error.attr('id')).toBe('outside1');
    expect(stanzaError(error)?.condition).toBe('not-acceptable');
    await crone.nothing(isGroupchat(`${room}/thirdwitch`, 'let me in'), 200);
  });

  it('returns item-not-found for a missing room (SHOULD)', async () => {
    const hag = await fx.connect('hag66');
    const room = roomJid('nowhere');

    hag.send(groupchat(room, 'anyone here?'));
    const error = await hag.next(isErrorFrom(room, 'message'));

    expect(stanzaError(error)?.condition).toBe('item-not-found');
  });
});

describe('7.5 sending a private message', () => {
  it('returns bad-request for type groupchat', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const wicca = await fx.connect('wiccarocks');
    await enter(wicca, `${room}/secondwitch`);

    wicca.send(x('message', NS.CLIENT, { to: `${room}/firstwitch`, type: 'groupchat', id: 'bx71f29k' }, x('body', NS.CLIENT, {}, "I'll give thee a wind.")));
    const error = await wicca.next(isErrorFrom(`${room}/firstwitch`, 'message'));

    expect(error.attr('id')).toBe('bx71f29k');
    expect(stanzaError(error)).toEqual({ type: 'modify', condition: 'bad-request' });
    await crone.nothing((el) => el.name === 'message' && el.getChildText('body', NS.CLIENT) === "I'll give thee a wind.", 200);
  });

  it('returns item-not-found for a missing occupant', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const wicca = await fx.connect('wiccarocks');
    await enter(wicca, `${room}/secondwitch`);

    wicca.send(x('message', NS.CLIENT, { to: `${room}/nobody`, type: 'chat' }, x('body', NS.CLIENT, {}, 'hello?')));
    const error = await wicca.next(isErrorFrom(`${room}/nobody`, 'message'));

    expect(stanzaError(error)?.condition).toBe('item-not-found');
  });

  it('returns not-acceptable to a non-occupant', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const hag = await fx.connect('hag66');

    hag.send(x('message', NS.CLIENT, { to: `${room}/firstwitch`, type: 'chat' }, x('body', NS.CLIENT, {}, 'psst')));
    const error = await hag.next(isErrorFrom(`${room}/firstwitch`, 'message'));

    expect(stanzaError(error)?.condition).toBe('not-acceptable');
    await crone.nothing((el) => el.name === 'message' && el.getChildText('body', NS.CLIENT) === 'psst', 200);
  });
});

describe('8 and 9 authorization of muc#admin requests', () => {
  it('returns forbidden when a participant kicks', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66');
    await enter(hag, `${room}/thirdwitch`);

    const reply = await adminSet(hag, room, { nick: 'firstwitch', role: 'none' });

    expect(stanzaError(reply)?.condition).toBe('forbidden');
  });

  it('returns forbidden when a participant bans', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66');
    await enter(hag, `${room}/thirdwitch`);

    const reply = await adminSet(hag, room, { affiliation: 'outcast', jid: bare('wiccarocks') });

    expect(stanzaError(reply)?.condition).toBe('forbidden');
  });

  it('returns forbidden to a non-occupant', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const hag = await fx.connect('hag66');

    const reply = await adminSet(hag, room, { affiliation: 'member', jid: bare('hag66') });

    expect(stanzaError(reply)?.condition).toBe('forbidden');
  });

  it('returns bad-request for a role and an affiliation together', async () => {
    const room = fx.newRoom();
    const crone = await roomWithOwner(room);
    const hag = await fx.connect('hag66');
    await enter(hag, `${room}/thirdwitch`);

    const reply = await adminSet(crone, room, { nick: 'thirdwitch', jid: bare('hag66'), role: 'moderator', affiliation: 'admin' });

    expect(stanzaError(reply)?.condition).toBe('bad-request');
  });
});

describe('10.2 configuration by a non-owner', () => {
  it('returns forbidden', async () => {
    const room = fx.newRoom();
    await roomWithOwner(room);
    const wicca = await fx.connect('wiccarocks', 'laptop');
    await enter(wicca, `${room}/secondwitch`);

    const reply = await wicca.iq(x('iq', NS.CLIENT, { type: 'get', to: room, id: 'configures' }, x('query', NS_MUC_OWNER)));

    expect(reply.attr('type')).toBe('error');
    expect(stanzaError(reply)).toEqual({ type: 'auth', condition: 'forbidden' });
  });
});
