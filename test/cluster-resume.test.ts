import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, JID, NS, x } from '../packages/xmpp/src/index.js';
import { TestClient, login, openClientStream } from './support/client.js';
import { startCluster, type TestCluster } from './support/cluster.js';
import { bodies as archiveBodies, queryArchive } from './support/mam.js';
import { type RawConnection, delay } from './support/raw.js';
import { NS_BIND2, NS_CARBONS, NS_SASL2, bind2, sasl2Scram, userAgent } from './support/sasl2.js';

const DOMAIN = 'example.test';
const NS_SID = 'urn:xmpp:sid:0';
const USERS = ['ann', 'ben', 'cal', 'dan', 'fay', 'gil', 'hal', 'ivo', 'joe', 'kai'];

let cluster: TestCluster;
let redis: Redis;
const connections: RawConnection[] = [];

beforeAll(async () => {
  cluster = await startCluster(3, USERS);
  redis = new Redis(cluster.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
}, 120_000);

afterAll(async () => {
  for (const connection of connections) connection.destroy();
  await redis?.quit();
  await cluster?.stop();
}, 30_000);

/** What a test reads from and writes to: a TestClient or an authenticated RawConnection. */
interface Peer {
  send(stanza: Element): void;
  next(predicate?: (el: Element) => boolean, timeoutMs?: number): Promise<Element>;
  nothing(predicate: (el: Element) => boolean, ms: number): Promise<void>;
}

async function connect(node: number, user: string, presence = true): Promise<TestClient> {
  const client = await TestClient.connect(cluster.nodes[node]!.target, { username: user, password: `${user}-pass`, transport: 'plain', presence });
  connections.push(client.connection);
  return client;
}

/** Opens a stream to node `node`, authenticates as `user` and restarts the stream, without binding. */
async function authenticate(node: number, user: string): Promise<RawConnection> {
  const { connection } = await openClientStream(cluster.nodes[node]!.target, 'plain');
  connections.push(connection);
  const outcome = await login(connection, 'SCRAM-SHA-256', user, `${user}-pass`);
  if (outcome.name !== 'success') throw new Error(`login of ${user} failed`);
  await connection.openStream();
  return connection;
}

/** Enables stream management with resumption and returns the token. */
async function enableResume(peer: Peer): Promise<string> {
  peer.send(x('enable', NS.SM, { resume: 'true' }));
  const enabled = await peer.next((el) => el.ns === NS.SM && (el.name === 'enabled' || el.name === 'failed'));
  expect(enabled.name).toBe('enabled');
  return enabled.attr('id')!;
}

async function resume(peer: Peer, previd: string, h: number): Promise<Element> {
  peer.send(x('resume', NS.SM, { previd, h }));
  return peer.next((el) => el.ns === NS.SM && (el.name === 'resumed' || el.name === 'failed'), 8000);
}

function chat(to: string, body: string): Element {
  return x('message', NS.CLIENT, { to, type: 'chat', id: body }, x('body', NS.CLIENT, {}, body), x('origin-id', NS_SID, { id: body }));
}

function isStanza(el: Element): boolean {
  return ['message', 'presence', 'iq'].includes(el.name) && el.ns === NS.CLIENT;
}

function bodyOf(el: Element): string | undefined {
  return el.name === 'message' ? el.getChildText('body', NS.CLIENT) : undefined;
}

function isPresence(from: string, type?: string): (el: Element) => boolean {
  return (el) => el.name === 'presence' && el.attr('from') === from && el.attr('type') === type;
}

/** Reads stanzas until `count` of them carried a body; returns every stanza read, in order. */
async function readUntilBodies(peer: Peer, count: number, timeoutMs = 5000): Promise<Element[]> {
  const deadline = Date.now() + timeoutMs;
  const read: Element[] = [];
  while (read.filter((el) => bodyOf(el) !== undefined).length < count) read.push(await peer.next(isStanza, Math.max(1, deadline - Date.now())));
  return read;
}

/** Returns the bodies of every message that arrives until none came for `quietMs`, at most `maxMs` in all. */
async function drainBodies(peer: Peer, quietMs: number, maxMs: number): Promise<string[]> {
  const found: string[] = [];
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const el = await peer.next((candidate) => bodyOf(candidate) !== undefined, quietMs).catch(() => undefined);
    if (!el) break;
    found.push(bodyOf(el)!);
  }
  return found;
}

/** Reads and drops every stanza until none came for `quietMs`, so that counting starts afresh. */
async function discardStanzas(peer: Peer, quietMs: number): Promise<void> {
  for (let index = 0; index < 100; index++) {
    if (!(await peer.next(isStanza, quietMs).catch(() => undefined))) return;
  }
}

/** Subscribes `a` and `b` to each other through the protocol. */
async function befriend(a: TestClient, b: TestClient): Promise<void> {
  const aBare = a.jid.bare().toString();
  const bBare = b.jid.bare().toString();
  for (const [from, to, toBare, fromBare] of [
    [a, b, bBare, aBare],
    [b, a, aBare, bBare],
  ] as const) {
    const request = to.next(isPresence(fromBare, 'subscribe'), 5000);
    from.send(x('presence', NS.CLIENT, { to: toBare, type: 'subscribe' }));
    await request;
    const approved = from.next(isPresence(toBare, 'subscribed'), 5000);
    to.send(x('presence', NS.CLIENT, { to: fromBare, type: 'subscribed' }));
    await approved;
  }
}

function digestOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

function label(index: number): string {
  return `m-${String(index).padStart(3, '0')}`;
}

describe('stream management resumption across nodes', () => {
  it('moves a session to the node where its client resumes', async () => {
    const ann = await connect(0, 'ann');
    const ben = await connect(2, 'ben');
    await befriend(ann, ben);
    expect((await ann.iq(x('iq', NS.CLIENT, { type: 'set' }, x('enable', NS_CARBONS)))).attr('type')).toBe('result');
    await discardStanzas(ann, 300);
    const previd = await enableResume(ann);
    await expect.poll(() => redis.hget('parley:cluster:resume:node-0', digestOf(previd)), { timeout: 3000 }).toBe('ann');

    for (let index = 1; index <= 5; index++) ben.send(chat(ann.jid.toString(), label(index)));
    const read = await readUntilBodies(ann, 5);
    ann.send(chat(ben.jid.toString(), 'from ann'));
    await ben.next((el) => bodyOf(el) === 'from ann', 5000);
    // The client acknowledges everything but the last three messages, then its connection drops.
    ann.send(x('a', NS.SM, { h: read.length - 3 }));
    await delay(100);
    ann.kill();
    await delay(200);
    ben.send(chat(`ann@${DOMAIN}`, label(6)));
    await ben.ping();

    const successor = await authenticate(1, 'ann');
    const resumed = await resume(successor, previd, read.length - 3);
    expect(resumed.name).toBe('resumed');
    expect(resumed.attr('h')).toBe('1');
    expect(resumed.attr('previd')).toBe(previd);
    expect(await drainBodies(successor, 800, 5000)).toEqual([label(3), label(4), label(5), label(6)]);

    successor.send(x('iq', NS.CLIENT, { type: 'get', id: 'roster-after-move' }, x('query', NS.ROSTER)));
    const roster = await successor.next((el) => el.name === 'iq' && el.attr('id') === 'roster-after-move', 5000);
    expect(roster.attr('type')).toBe('result');
    expect(roster.attr('to')).toBe(ann.jid.toString());
    await ben.nothing(isPresence(ann.jid.toString(), 'unavailable'), 300);

    expect(await redis.hexists('parley:cluster:sessions:node-1', ann.jid.toString())).toBe(1);
    expect(await redis.hexists('parley:cluster:sessions:node-0', ann.jid.toString())).toBe(0);
    expect(await redis.hget('parley:cluster:resume:node-1', digestOf(previd))).toBe('ann');
    expect(await redis.hexists('parley:cluster:resume:node-0', digestOf(previd))).toBe(0);

    ben.send(chat(ann.jid.toString(), 'to the full JID'));
    ben.send(chat(`ann@${DOMAIN}`, 'to the bare JID'));
    expect(await drainBodies(successor, 800, 5000)).toEqual(['to the full JID', 'to the bare JID']);

    // Carbons stayed enabled: a message from another resource comes back as a sent copy.
    const phone = await connect(2, 'ann', false);
    phone.send(chat(ben.jid.toString(), 'from the phone'));
    const carbon = await successor.next((el) => el.getChild('sent', NS_CARBONS) !== undefined, 5000);
    expect(carbon.getChild('sent', NS_CARBONS)?.toString()).toContain('from the phone');

    // The same token moves the session on again, back to the first node.
    successor.destroy();
    await delay(200);
    const third = await authenticate(0, 'ann');
    expect((await resume(third, previd, read.length - 3)).name).toBe('resumed');
    expect(await drainBodies(third, 800, 5000)).toEqual([label(3), label(4), label(5), label(6), 'to the full JID', 'to the bare JID']);
    expect(await redis.hget('parley:cluster:resume:node-0', digestOf(previd))).toBe('ann');
    expect(await redis.hexists('parley:cluster:resume:node-1', digestOf(previd))).toBe(0);
  }, 60_000);

  it('delivers what is sent during the move once and in order', async () => {
    const cal = await connect(0, 'cal');
    const dan = await connect(2, 'dan');
    await discardStanzas(cal, 200);
    const previd = await enableResume(cal);
    const total = 120;
    let sent = 0;
    const sending = (async () => {
      const started = Date.now();
      while (sent < total && Date.now() - started < 15_000) {
        sent++;
        // Alternating addresses: the bare JID reaches every node that lists the resource.
        dan.send(chat(sent % 2 === 0 ? `cal@${DOMAIN}` : cal.jid.toString(), label(sent)));
        await delay(8);
      }
    })();

    const read = await readUntilBodies(cal, 20);
    const acknowledged = read.map(bodyOf).filter((body) => body !== undefined);
    cal.send(x('a', NS.SM, { h: read.length }));
    await delay(20);
    cal.kill();
    const successor = await authenticate(1, 'cal');
    expect((await resume(successor, previd, read.length)).name).toBe('resumed');
    await sending;

    const after = await drainBodies(successor, 1500, 20_000);
    const all = [...acknowledged, ...after];
    expect(sent).toBe(total);
    expect(new Set(after).size).toBe(after.length);
    expect(after.filter((body) => acknowledged.includes(body))).toEqual([]);
    expect(all).toEqual(Array.from({ length: total }, (_, index) => label(index + 1)));
  }, 60_000);

  it('resumes inside SASL2 on another node', async () => {
    const { connection: first } = await openClientStream(cluster.nodes[0]!.target, 'plain');
    connections.push(first);
    const agent = userAgent();
    const success = await sasl2Scram(first, 'ivo', 'ivo-pass', [agent, bind2('Laptop', x('enable', NS.SM, { resume: 'true' }))]);
    const jid = JID.parse(success.getChildText('authorization-identifier', NS_SASL2)!);
    const previd = success.getChild('bound', NS_BIND2)!.getChild('enabled', NS.SM)!.attr('id')!;
    first.destroy();
    const joe = await connect(2, 'joe');
    joe.send(chat(jid.toString(), 'while moving'));
    await joe.ping();

    const { connection: second } = await openClientStream(cluster.nodes[1]!.target, 'plain');
    connections.push(second);
    const resumed = await sasl2Scram(second, 'ivo', 'ivo-pass', [agent, x('resume', NS.SM, { previd, h: 0 }), bind2('Ignored')]);
    expect(resumed.name).toBe('success');
    expect(resumed.getChild('resumed', NS.SM)?.attr('h')).toBe('0');
    expect(resumed.getChildText('authorization-identifier', NS_SASL2)).toBe(jid.toString());
    expect(resumed.getChild('bound', NS_BIND2)).toBeUndefined();
    const features = await second.next((el) => el.name === 'features' && el.ns === NS.STREAM);
    expect(features.getChild('bind', NS.BIND)).toBeUndefined();
    expect(await drainBodies(second, 800, 5000)).toEqual(['while moving']);
  }, 60_000);

  it('rejects the token of another account on another node', async () => {
    const hal = await connect(0, 'hal');
    const previd = await enableResume(hal);
    hal.kill();
    await delay(200);

    const intruder = await authenticate(1, 'kai');
    const failed = await resume(intruder, previd, 0);
    expect(failed.name).toBe('failed');
    expect(failed.getChild('item-not-found', NS.STANZAS)).toBeDefined();

    const owner = await authenticate(2, 'hal');
    const resumed = await resume(owner, previd, 0);
    expect(resumed.name).toBe('resumed');
  }, 60_000);

  it('fails fast after the holding node died and loses nothing acknowledged', async () => {
    const fay = await connect(0, 'fay');
    const gil = await connect(2, 'gil');
    await discardStanzas(fay, 200);
    const previd = await enableResume(fay);
    await expect.poll(() => redis.hget('parley:cluster:resume:node-0', digestOf(previd)), { timeout: 3000 }).toBe('fay');
    gil.send(x('enable', NS.SM, {}));
    await gil.next((el) => el.name === 'enabled' && el.ns === NS.SM);

    for (let index = 1; index <= 10; index++) gil.send(chat(`fay@${DOMAIN}`, label(index)));
    const read = await readUntilBodies(fay, 10);
    const fifth = read.findIndex((el) => bodyOf(el) === label(5));
    fay.send(x('a', NS.SM, { h: fifth + 1 }));
    await delay(100);
    await cluster.kill(0);
    // Until Redis notices the closed socket, a publish to the dead node still counts as received.
    await expect.poll(async () => (await redis.pubsub('NUMSUB', 'parley:cluster:node:node-0'))[1], { timeout: 3000 }).toBe(0);

    for (let index = 11; index <= 15; index++) gil.send(chat(`fay@${DOMAIN}`, label(index)));
    gil.send(x('r', NS.SM));
    const ack = await gil.next((el) => el.name === 'a' && el.ns === NS.SM && Number(el.attr('h')) >= 15, 10_000);
    expect(ack.attr('h')).toBe('15');

    const successor = await authenticate(1, 'fay');
    const started = Date.now();
    const failed = await resume(successor, previd, fifth + 1);
    expect(failed.name).toBe('failed');
    expect(failed.getChild('item-not-found', NS.STANZAS)).toBeDefined();
    expect(Date.now() - started).toBeLessThan(1000);

    // The other nodes serve on.
    const joe = await connect(2, 'joe');
    const kai = await connect(1, 'kai');
    joe.send(chat(kai.jid.toString(), 'still serving'));
    await kai.next((el) => bodyOf(el) === 'still serving', 5000);

    const back = await connect(1, 'fay');
    const offline = await drainBodies(back, 1500, 10_000);
    expect(offline).toEqual([11, 12, 13, 14, 15].map(label));
    const archived = new Set(archiveBodies(await queryArchive(back, { rsm: { max: 100 } })));
    for (let index = 1; index <= 15; index++) expect(archived.has(label(index))).toBe(true);
    await cluster.restart(0);
    // A node clears the records a crash left when it starts again.
    expect(await redis.hexists('parley:cluster:resume:node-0', digestOf(previd))).toBe(0);
  }, 60_000);
});
