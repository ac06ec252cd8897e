/**
 * The MUC service over real sockets: entering, leaving, nick changes with shared nicks
 * (case 17), nicks outside ASCII (case 22), and occupants whose session ends (case 10).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import {
  MUC_SERVICE,
  createRoom,
  discoItems,
  enter,
  enterRejected,
  enterSeen,
  groupchat,
  hasStatus,
  isGroupchat,
  isPresence,
  leave,
  stanzaError,
  statusCodes,
  userItem,
  waitForPresence,
} from './support/muc.js';

const PASSWORD = 'muc core secret';
const DOMAIN = 'example.test';
const QUIET_MS = 300;

let server: TestServer;
let clients: TestClient[] = [];
let roomCounter = 0;

beforeAll(async () => {
  server = await startTestServer();
  for (const name of ['alice', 'bob', 'carol', 'dave']) await server.createAccount(name, PASSWORD);
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
});

afterAll(async () => {
  await server.stop();
});

async function connect(username: string, resource: string): Promise<TestClient> {
  const client = await TestClient.connect(server, { username, password: PASSWORD, transport: 'plain', resource, presence: true });
  clients.push(client);
  return client;
}

function newRoom(): string {
  roomCounter += 1;
  return `core${roomCounter}@${MUC_SERVICE}`;
}

function presenceTo(to: string, type?: string): Element {
  return x('presence', NS.CLIENT, { to, type });
}

/** Waits for either the self-presence from `room/nick` with 110 or an error presence; returns it. */
function nickOutcome(client: TestClient, room: string): Promise<Element> {
  return client.next((el) => el.name === 'presence' && (el.attr('from') ?? '').startsWith(`${room}/`) && (el.attr('type') === 'error' || (el.attr('type') === undefined && hasStatus(el, '110'))));
}

describe('entering and leaving', () => {
  it('creation: 201, locked until configured', async () => {
    const room = newRoom();
    const alice = await connect('alice', 'laptop');
    const bob = await connect('bob', 'b1');

    const { self } = await enter(alice, `${room}/ali`);
    expect(statusCodes(self)).toEqual(expect.arrayContaining(['110', '201']));
    expect(userItem(self)?.attrs).toMatchObject({ affiliation: 'owner', role: 'moderator' });
    expect(stanzaError(await enterRejected(bob, `${room}/bob`))?.condition).toBe('item-not-found');

    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'set', to: room }, x('query', 'http://jabber.org/protocol/muc#owner', {}, x('x', NS.DATA_FORMS, { type: 'submit' }))));
    expect(reply.attr('type')).toBe('result');
    const entered = await enter(bob, `${room}/bob`);
    expect(entered.others.map((el) => el.attr('from'))).toEqual([`${room}/ali`]);
  });

  it('sends the other occupants first, the self-presence after them, and the subject last', async () => {
    const room = newRoom();
    const alice = await connect('alice', 'laptop');
    await createRoom(alice, `${room}/ali`);
    const bob = await connect('bob', 'b1');
    await enterSeen(bob, `${room}/bob`, [alice]);
    const carol = await connect('carol', 'c1');

    carol.send(x('presence', NS.CLIENT, { to: `${room}/carol` }, x('x', 'http://jabber.org/protocol/muc')));
    const received: Element[] = [];
    for (;;) {
      const el = await carol.next((stanza) => (stanza.attr('from') ?? '').startsWith(room));
      received.push(el);
      if (el.name === 'message') break;
    }

    expect(received.map((el) => `${el.name}:${el.attr('from')}`)).toEqual([`presence:${room}/ali`, `presence:${room}/bob`, `presence:${room}/carol`, `message:${room}`]);
    expect(hasStatus(received[2]!, '110')).toBe(true);
    expect(received.slice(0, 2).some((el) => hasStatus(el, '110'))).toBe(false);
    expect(received[3]!.getChild('subject', NS.CLIENT)?.text()).toBe('');
  });

  it('sends 110 on the unavailable self-presence and tells the others', async () => {
    const room = newRoom();
    const alice = await connect('alice', 'laptop');
    await createRoom(alice, `${room}/ali`);
    const bob = await connect('bob', 'b1');
    await enterSeen(bob, `${room}/bob`, [alice]);

    const self = await leave(bob, `${room}/bob`);
    const seen = await waitForPresence(alice, `${room}/bob`, { type: 'unavailable' });

    expect(userItem(self)?.attr('role')).toBe('none');
    expect(hasStatus(seen, '110')).toBe(false);
    expect(userItem(seen)?.attr('role')).toBe('none');
  });

  it('answers errors for nick conflicts, passwords, bans, members-only rooms and full rooms', async () => {
    const room = newRoom();
    const alice = await connect('alice', 'laptop');
    await createRoom(alice, `${room}/ali`, { 'muc#roomconfig_passwordprotectedroom': true, 'muc#roomconfig_roomsecret': 'pass', 'muc#roomconfig_maxusers': '10' });
    const bob = await connect('bob', 'b1');

    expect(stanzaError(await enterRejected(bob, `${room}/bob`))?.condition).toBe('not-authorized');
    expect(stanzaError(await enterRejected(bob, `${room}/bob`, { password: 'wrong' }))?.condition).toBe('not-authorized');
    expect(stanzaError(await enterRejected(bob, `${room}/ali`, { password: 'pass' }))?.condition).toBe('conflict');

    const ban = await alice.iq(x('iq', NS.CLIENT, { type: 'set', to: room }, x('query', 'http://jabber.org/protocol/muc#admin', {}, x('item', 'http://jabber.org/protocol/muc#admin', { jid: `bob@${DOMAIN}`, affiliation: 'outcast' }))));
    expect(ban.attr('type')).toBe('result');
    expect(stanzaError(await enterRejected(bob, `${room}/bob`, { password: 'pass' }))?.condition).toBe('forbidden');

    const closed = newRoom();
    await createRoom(alice, `${closed}/ali`, { 'muc#roomconfig_membersonly': true });
    const carol = await connect('carol', 'c1');
    expect(stanzaError(await enterRejected(carol, `${closed}/carol`))?.condition).toBe('registration-required');
  });

  it('refuses a newcomer to a full room with service-unavailable', async () => {
    const full = await startTestServer({ muc: { max_occupants: 1 } });
    try {
      for (const name of ['alice', 'bob']) await full.createAccount(name, PASSWORD);
      const alice = await TestClient.connect(full, { username: 'alice', password: PASSWORD, transport: 'plain', resource: 'a', presence: true });
      const bob = await TestClient.connect(full, { username: 'bob', password: PASSWORD, transport: 'plain', resource: 'b', presence: true });
      clients.push(alice, bob);
      const room = `full@${MUC_SERVICE}`;
      await createRoom(alice, `${room}/ali`);

      expect(stanzaError(await enterRejected(bob, `${room}/bob`))?.condition).toBe('service-unavailable');
    } finally {
      await Promise.all(clients.map((client) => client.close()));
      clients = [];
      await full.stop();
    }
  });
});

describe('case 17: nick change to a nick shared by the same account', () => {
  async function setUp(): Promise<{ room: string; laptop: TestClient; phone: TestClient; tablet: TestClient; bob: TestClient }> {
    const room = newRoom();
    const bob = await connect('bob', 'b1');
    await createRoom(bob, `${room}/bob`);
    const laptop = await connect('alice', 'laptop');
    await enterSeen(laptop, `${room}/ali`, [bob]);
    const phone = await connect('alice', 'phone');
    const second = await enter(phone, `${room}/ali`);
    expect(hasStatus(second.self, '110')).toBe(true);
    const tablet = await connect('alice', 'tablet');
    await enterSeen(tablet, `${room}/ali2`, [bob]);
    return { room, laptop, phone, tablet, bob };
  }

  it('shared nick change gets 303 and 110', async () => {
    const { room, laptop, bob } = await setUp();

    const outcome = nickOutcome(laptop, room);
    laptop.send(presenceTo(`${room}/ali2`));
    const answer = await outcome;

    expect(answer.attr('type')).toBeUndefined();
    expect(answer.attr('from')).toBe(`${room}/ali2`);
    expect(hasStatus(answer, '110')).toBe(true);
    // Bob gets no phantom leave of ali, which the phone still uses.
    await bob.nothing(isPresence(`${room}/ali`, { type: 'unavailable' }), QUIET_MS);
  });

  it('taken nick conflict, free nick two steps', async () => {
    const { room, laptop, phone, bob } = await setUp();
    laptop.send(presenceTo(`${room}/ali2`));
    await waitForPresence(laptop, `${room}/ali2`, { codes: ['110'] });

    phone.send(presenceTo(`${room}/bob`));
    const conflict = await phone.next((el) => el.name === 'presence' && el.attr('type') === 'error');
    expect(conflict.attr('from')).toBe(`${room}/bob`);
    expect(stanzaError(conflict)?.condition).toBe('conflict');

    phone.send(presenceTo(`${room}/ally`));
    const gone = await waitForPresence(phone, `${room}/ali`, { type: 'unavailable', codes: ['303', '110'] });
    expect(userItem(gone)?.attr('nick')).toBe('ally');
    await waitForPresence(phone, `${room}/ally`, { codes: ['110'] });

    const bobGone = await waitForPresence(bob, `${room}/ali`, { type: 'unavailable', codes: ['303'] });
    expect(hasStatus(bobGone, '110')).toBe(false);
    expect(userItem(bobGone)?.attr('nick')).toBe('ally');
    await waitForPresence(bob, `${room}/ally`);
  });

  it('shared nick: all sessions, one occupant', async () => {
    const { room, laptop, phone, bob } = await setUp();
    await bob.nothing(isPresence(`${room}/ali`), QUIET_MS);

    bob.send(groupchat(room, 'to both sessions'));
    await laptop.next(isGroupchat(`${room}/bob`, 'to both sessions'));
    await phone.next(isGroupchat(`${room}/bob`, 'to both sessions'));

    // The phone leaving does not end the occupant; the laptop leaving does.
    await leave(phone, `${room}/ali`);
    await bob.nothing(isPresence(`${room}/ali`, { type: 'unavailable' }), QUIET_MS);
    await leave(laptop, `${room}/ali`);
    await waitForPresence(bob, `${room}/ali`, { type: 'unavailable' });
  });
});

describe('case 22: nicks outside ASCII', () => {
  const accepted: [string, string][] = [
    ['🐎', '🐎'],
    ['日本語', '日本語'],
    ['U\u0308ni\u0308co\u0308de\u0301', 'Ünïcödé'],
    ['ǅ', 'ǅ'],
    ['a/b', 'a/b'],
    ['name חיבה', 'name חיבה'],
    ['n'.repeat(1023), 'n'.repeat(1023)],
  ];
  const refused = ['👨\u200d👩\u200d👧', 'x\u009fy', 'n'.repeat(1024)];

  it('OpaqueString nicks in NFC, invalid ones refused', async () => {
    const room = newRoom();
    const bob = await connect('bob', 'b1');
    await createRoom(bob, `${room}/bob`);
    const alice = await connect('alice', 'web');
    await enterSeen(alice, `${room}/alice`, [bob]);

    for (const [nick, prepared] of accepted) {
      const outcome = nickOutcome(alice, room);
      alice.send(presenceTo(`${room}/${nick}`));
      const answer = await outcome;
      expect(answer.attr('type'), nick).toBeUndefined();
      expect(answer.attr('from')).toBe(`${room}/${prepared}`);
      expect((await alice.ping()).attr('type')).toBe('result');
    }
    for (const nick of refused) {
      alice.send(presenceTo(`${room}/${nick}`));
      const answer = await alice.next((el) => el.name === 'presence' && el.attr('type') === 'error');
      expect(stanzaError(answer)?.condition).toBe('jid-malformed');
      expect(answer.getChild('error')?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas')).toBeTruthy();
      expect((await alice.ping()).attr('type')).toBe('result');
    }
  });

  it('passes bodies through unchanged to occupants and in private messages', async () => {
    const room = newRoom();
    const bob = await connect('bob', 'b1');
    await createRoom(bob, `${room}/bob`);
    const alice = await connect('alice', 'web');
    await enterSeen(alice, `${room}/alice`, [bob]);
    const bodies = [...accepted.map(([nick]) => nick), ...refused];

    for (const body of bodies) {
      alice.send(groupchat(room, body));
      const got = await bob.next((el) => el.name === 'message' && el.attr('type') === 'groupchat' && el.attr('from') === `${room}/alice`);
      expect([...(got.getChildText('body', NS.CLIENT) ?? '')]).toEqual([...body]);

      alice.send(x('message', NS.CLIENT, { type: 'chat', to: `${room}/bob` }, x('body', NS.CLIENT, {}, body)));
      const pm = await bob.next((el) => el.name === 'message' && el.attr('type') === 'chat');
      expect(pm.getChildText('body', NS.CLIENT)).toBe(body);
    }
  });

  it('binds ALICE@Example.Test to the account alice@example.test', async () => {
    const upper = await TestClient.connect(server, { username: 'ALICE', password: PASSWORD, transport: 'plain', resource: 'Upper', presence: true });
    clients.push(upper);
    expect(upper.jid.bare().toString()).toBe(`alice@${DOMAIN}`);
    expect(upper.jid.resource).toBe('Upper');
  });
});

describe('case 10: occupants whose session ends', () => {
  async function setUp(): Promise<{ room1: string; room2: string; alice: TestClient; bob: TestClient; carol: TestClient }> {
    const room1 = newRoom();
    const room2 = newRoom();
    const bob = await connect('bob', 'b1');
    await createRoom(bob, `${room1}/bob`);
    await createRoom(bob, `${room2}/bob`);
    const carol = await connect('carol', 'desk');
    const alice = await connect('alice', 'a1');
    await enterSeen(alice, `${room1}/Alice`, [bob]);
    await enterSeen(alice, `${room2}/Alice`, [bob]);
    const directed = carol.next((el) => el.name === 'presence' && el.attr('from') === `alice@${DOMAIN}/a1` && el.attr('type') === undefined);
    alice.send(presenceTo(`carol@${DOMAIN}/desk`));
    await directed;
    return { room1, room2, alice, bob, carol };
  }

  async function expectGone(bob: TestClient, carol: TestClient, room1: string, room2: string, carolUnavailable: number): Promise<void> {
    await waitForPresence(bob, `${room1}/Alice`, { type: 'unavailable', timeoutMs: 2000 });
    await waitForPresence(bob, `${room2}/Alice`, { type: 'unavailable', timeoutMs: 2000 });
    const fromAlice = (el: Element) => el.name === 'presence' && el.attr('from') === `alice@${DOMAIN}/a1` && el.attr('type') === 'unavailable';
    if (carolUnavailable > 0) await carol.next(fromAlice, 2000);
    await carol.nothing(fromAlice, QUIET_MS);
    for (const room of [room1, room2]) {
      const items = (await discoItems(bob, room)).getChild('query', NS.DISCO_ITEMS)?.getChildren('item', NS.DISCO_ITEMS) ?? [];
      expect(items.map((item) => item.attr('jid'))).toEqual([`${room}/bob`]);
    }
  }

  it('(a) the connection drops', async () => {
    const { room1, room2, alice, bob, carol } = await setUp();
    alice.kill();
    await expectGone(bob, carol, room1, room2, 1);
  });

  it('(b) the stream closes without unavailable presence', async () => {
    const { room1, room2, alice, bob, carol } = await setUp();
    alice.write('</stream:stream>');
    await expectGone(bob, carol, room1, room2, 1);
  });

  it('(c) broadcast unavailable presence', async () => {
    const { room1, room2, alice, bob, carol } = await setUp();
    alice.send(x('presence', NS.CLIENT, { type: 'unavailable' }));
    await expectGone(bob, carol, room1, room2, 1);
  });

  it('control: a directed unavailable to carol first means no second one', async () => {
    const { room1, room2, alice, bob, carol } = await setUp();
    alice.send(presenceTo(`carol@${DOMAIN}/desk`, 'unavailable'));
    await carol.next((el) => el.name === 'presence' && el.attr('type') === 'unavailable');
    alice.write('</stream:stream>');
    await expectGone(bob, carol, room1, room2, 0);
  });
});
