/**
 * Pipelined groupchat messages: a room stamps and queues the archive write of the next
 * message before the previous one commits, and sends each message once its write
 * committed, in archive order. Joins, subject changes and failed writes keep their order.
 */
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { queryArchive } from './support/mam.js';
import { MUC_SERVICE, createRoom, enter, enterSeen, groupchat, isFromRoom, isSubjectMessage, stanzaError, subjectChange } from './support/muc.js';

const PASSWORD = 'muc pipeline secret';
const WAIT_MS = 10_000;

let server: TestServer;
let clients: TestClient[] = [];
let roomCounter = 0;

beforeAll(async () => {
  server = await startTestServer({ muc: { messages_per_second: 10_000, message_burst: 10_000, history_max: 1000 } });
  for (const name of ['alice', 'bob', 'carol']) await server.createAccount(name, PASSWORD);
});

afterEach(async () => {
  await Promise.all(clients.map((client) => client.close()));
  clients = [];
});

afterAll(async () => {
  await server.stop();
});

async function connect(username: string): Promise<TestClient> {
  const client = await TestClient.connect(server, { username, password: PASSWORD, transport: 'plain', resource: 'r1', presence: true });
  clients.push(client);
  return client;
}

async function pair(): Promise<{ room: string; alice: TestClient; bob: TestClient }> {
  roomCounter += 1;
  const room = `pipeline${roomCounter}@${MUC_SERVICE}`;
  const alice = await connect('alice');
  await createRoom(alice, `${room}/ali`);
  const bob = await connect('bob');
  await enterSeen(bob, `${room}/bob`, [alice]);
  return { room, alice, bob };
}

function bodies(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix} ${index}`);
}

function isGroupchatWithBody(room: string): (el: Element) => boolean {
  const fromRoom = isFromRoom(room);
  return (el) => el.name === 'message' && el.attr('type') === 'groupchat' && fromRoom(el) && el.getChild('body', NS.CLIENT) !== undefined;
}

/** Reads the next `count` groupchat messages with a body from the room. */
async function collect(client: TestClient, room: string, count: number): Promise<Element[]> {
  const messages: Element[] = [];
  while (messages.length < count) messages.push(await client.next(isGroupchatWithBody(room), WAIT_MS));
  return messages;
}

function bodyOf(message: Element): string {
  return message.getChildText('body', NS.CLIENT) ?? '';
}

function stanzaIdOf(message: Element, room: string): string | undefined {
  return message.getChildren('stanza-id', NS.STANZA_ID).find((el) => el.attr('by') === room)?.attr('id');
}

/** Reads the whole room archive over MAM, page by page: bodies and ids in archive order. */
async function archiveOf(client: TestClient, room: string): Promise<{ bodies: string[]; ids: string[] }> {
  const all = { bodies: [] as string[], ids: [] as string[] };
  let after: string | undefined;
  for (let page = 0; page < 20; page++) {
    const outcome = await queryArchive(client, { to: room, rsm: { max: 250, after } });
    for (const result of outcome.results) {
      const message = result.getChild('forwarded', NS.FORWARD)?.getChild('message', NS.CLIENT);
      if (message?.getChild('body', NS.CLIENT) === undefined) continue;
      all.bodies.push(bodyOf(message));
      all.ids.push(result.attr('id') ?? '');
    }
    const fin = outcome.iq.getChild('fin', NS.MAM);
    if (fin?.attr('complete') === 'true' || outcome.results.length === 0) return all;
    after = outcome.results.at(-1)?.attr('id');
  }
  throw new Error('the room archive did not end within 20 pages');
}

describe('pipelined groupchat messages', () => {
  it('delivers a burst in archive order', async () => {
    const { room, alice, bob } = await pair();
    const sent = bodies('burst', 200);

    for (const body of sent) alice.send(groupchat(room, body));
    const reflected = await collect(alice, room, sent.length);
    const received = await collect(bob, room, sent.length);

    expect(reflected.map(bodyOf)).toEqual(sent);
    expect(received.map(bodyOf)).toEqual(sent);
    const receivedIds = received.map((message) => stanzaIdOf(message, room) ?? '');
    expect(reflected.map((message) => stanzaIdOf(message, room))).toEqual(receivedIds);
    expect([...receivedIds].sort()).toEqual(receivedIds);
    expect(new Set(receivedIds).size).toBe(sent.length);

    const archived = await archiveOf(bob, room);
    expect(archived.bodies).toEqual(sent);
    expect(archived.ids).toEqual(receivedIds);
  });

  it('gives a joiner each message once', async () => {
    const { room, alice, bob } = await pair();
    const sent = bodies('join', 200);
    const carol = await connect('carol');

    for (const body of sent.slice(0, 150)) alice.send(groupchat(room, body));
    await bob.next(isGroupchatWithBody(room), WAIT_MS);
    const entered = enter(carol, `${room}/carol`, { history: { maxstanzas: '1000' }, timeoutMs: WAIT_MS });
    for (const body of sent.slice(150)) alice.send(groupchat(room, body));
    await entered;

    const seen = await collect(carol, room, sent.length);
    const history = seen.filter((message) => message.getChild('delay', NS.DELAY) !== undefined);
    expect(history.length).toBeGreaterThan(0);
    expect(seen.map(bodyOf)).toEqual(sent);
    // The history is a prefix: nothing live came before a delayed copy.
    expect(seen.slice(0, history.length)).toEqual(history);
    await expect(carol.nothing(isGroupchatWithBody(room), 300)).resolves.toBeUndefined();
  });

  it('keeps a subject change in order', async () => {
    const { room, alice, bob } = await pair();
    const before = bodies('before', 50);
    const after = bodies('after', 50);

    for (const body of before) alice.send(groupchat(room, body));
    alice.send(subjectChange(room, 'mid-burst subject'));
    for (const body of after) alice.send(groupchat(room, body));

    const isSubject = (el: Element): boolean => isSubjectMessage(room)(el) && el.attr('from') === `${room}/ali`;
    const isEither = (el: Element): boolean => isSubject(el) || isGroupchatWithBody(room)(el);
    for (const client of [alice, bob]) {
      const order: string[] = [];
      while (order.length < before.length + 1 + after.length) {
        const message = await client.next(isEither, WAIT_MS);
        order.push(isSubject(message) ? `subject: ${message.getChildText('subject', NS.CLIENT)}` : bodyOf(message));
      }
      expect(order).toEqual([...before, 'subject: mid-burst subject', ...after]);
    }
  });

  it('catches a resend during the write', async () => {
    const { room, alice, bob } = await pair();
    const first = groupchat(room, 'resent while pending', 'm1');
    first.append(x('origin-id', NS.STANZA_ID, { id: 'origin-pending' }));
    const again = first.clone();
    again.setAttr('id', 'm2');

    // Back to back, the resend usually reaches the room while the first write is pending.
    alice.send(first);
    alice.send(again);
    alice.send(groupchat(room, 'after the resend'));

    const reflections = await collect(alice, room, 3);
    expect(reflections.map((message) => message.attr('id'))).toEqual(['m1', 'm2', undefined]);
    expect(stanzaIdOf(reflections[1]!, room)).toBe(stanzaIdOf(reflections[0]!, room));
    const received = await collect(bob, room, 2);
    expect(received.map(bodyOf)).toEqual(['resent while pending', 'after the resend']);
  });

  it('refuses only the failed write', async () => {
    const { room, alice, bob } = await pair();
    const { db, dialect } = server.server.storage;
    if (dialect === 'postgres') {
      await sql`CREATE FUNCTION reject_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.stanza LIKE '%poison%' THEN RAISE EXCEPTION 'poisoned message'; END IF; RETURN NEW; END $$`.execute(db);
      await sql`CREATE TRIGGER reject_poison BEFORE INSERT ON muc_archive_messages FOR EACH ROW EXECUTE FUNCTION reject_poison()`.execute(db);
    } else {
      await sql`CREATE TRIGGER reject_poison BEFORE INSERT ON muc_archive_messages WHEN NEW.stanza LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned message'); END`.execute(db);
    }
    try {
      const failure = alice.next((el) => el.name === 'message' && el.attr('id') === 'poisoned' && el.attr('type') === 'error', WAIT_MS);
      alice.send(groupchat(room, 'before'));
      alice.send(groupchat(room, 'poison', 'poisoned'));
      alice.send(groupchat(room, 'after'));

      expect(stanzaError(await failure)).toEqual({ condition: 'internal-server-error', type: 'wait' });
      expect((await collect(bob, room, 2)).map(bodyOf)).toEqual(['before', 'after']);
      expect((await collect(alice, room, 2)).map(bodyOf)).toEqual(['before', 'after']);
      expect((await archiveOf(bob, room)).bodies).toEqual(['before', 'after']);
    } finally {
      await (dialect === 'postgres' ? sql`DROP TRIGGER reject_poison ON muc_archive_messages` : sql`DROP TRIGGER reject_poison`).execute(db);
    }
  });
});
