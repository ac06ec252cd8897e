import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '../packages/xmpp/src/index.js';
import { TestClient } from './support/client.js';
import { TEST_EXPIRY_MS, befriend, useTestCluster } from './support/cluster.js';
import { bodies, queryArchive } from './support/mam.js';

const DOMAIN = 'example.test';
const NS_SID = 'urn:xmpp:sid:0';
const MAX_MESSAGES = 400;
const SEND_PAUSE_MS = 10;
/** Messages sent before the receiving node dies. */
const BEFORE_KILL = 60;
/** How long sending goes on after the kill: past the expiry of the dead node's entries. */
const AFTER_KILL_MS = TEST_EXPIRY_MS + 1500;

const env = useTestCluster(3, ['ivy', 'henry', 'jack', 'kim']);
const connect = (node: number, user: string) => env.connect(node, user);

function chat(to: string, label: string): Element {
  return x('message', NS.CLIENT, { to, type: 'chat', id: label }, x('body', NS.CLIENT, {}, label), x('origin-id', NS_SID, { id: label }));
}

function label(index: number): string {
  return `m-${String(index).padStart(4, '0')}`;
}

function isChat(el: Element): boolean {
  return el.name === 'message' && el.getChildText('body', NS.CLIENT) !== undefined;
}

/** Reads every chat message that arrives until none came for `quietMs`, at most `maxMs` in all. */
async function drain(client: TestClient, quietMs: number, maxMs: number): Promise<string[]> {
  const found: string[] = [];
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const el = await client.next(isChat, quietMs).catch(() => undefined);
    if (!el) break;
    found.push(el.getChildText('body', NS.CLIENT)!);
  }
  return found;
}

/** Reads every body in `owner`'s archive, page by page (at most 20 pages). */
async function archivedBodies(owner: TestClient): Promise<string[]> {
  const found: string[] = [];
  let after: string | undefined;
  for (let page = 0; page < 20; page++) {
    const outcome = await queryArchive(owner, { rsm: { max: 100, after } });
    found.push(...bodies(outcome));
    const fin = outcome.iq.getChild('fin', NS.MAM);
    after = fin?.getChild('set', NS.RSM)?.getChildText('last', NS.RSM);
    if (fin?.attr('complete') === 'true' || after === undefined) return found;
  }
  throw new Error('the archive did not end within 20 pages');
}

describe('cluster node failures', () => {
  it('loses no acknowledged message and the other nodes keep serving', async () => {
    const ivy = await connect(0, 'ivy');
    const henry = await connect(2, 'henry');
    const jack = await connect(1, 'jack');
    const kim = await connect(0, 'kim');
    const received: string[] = [];
    const collecting = (async () => {
      for (;;) {
        const el = await henry.next(isChat, 60_000).catch(() => undefined);
        if (!el) return;
        received.push(el.getChildText('body', NS.CLIENT)!);
      }
    })();

    ivy.send(x('enable', NS.SM, {}));
    await ivy.next((el) => el.name === 'enabled' && el.ns === NS.SM);
    expect(await env.redis.hexists('parley:cluster:sessions:node-2', henry.jid.toString())).toBe(1);

    let sent = 0;
    let killedAt = 0;
    let killedAtMs = 0;
    let served = 0;
    const started = Date.now();
    while (sent < MAX_MESSAGES && (killedAtMs === 0 || Date.now() - killedAtMs < AFTER_KILL_MS) && Date.now() - started < 20_000) {
      sent++;
      ivy.send(chat(`henry@${DOMAIN}`, label(sent)));
      if (sent === BEFORE_KILL) {
        await env.cluster.kill(2);
        killedAt = sent;
        killedAtMs = Date.now();
      }
      if (killedAt > 0 && sent % 40 === 0) {
        // The nodes that live go on serving while the dead node's entries expire.
        const text = `still here ${sent}`;
        jack.send(chat(kim.jid.toString(), text));
        await kim.next((el) => el.getChildText('body', NS.CLIENT) === text, 5000);
        served++;
      }
      await new Promise((resolve) => setTimeout(resolve, SEND_PAUSE_MS));
    }
    expect(served).toBeGreaterThan(0);
    expect(received.length).toBeGreaterThan(0);

    ivy.send(x('r', NS.SM));
    const ack = await ivy.next((el) => el.name === 'a' && el.ns === NS.SM && Number(el.attr('h')) >= sent, 10_000);
    expect(Number(ack.attr('h'))).toBe(sent);
    await henry.connection.waitForClose(5000).catch(() => undefined);
    await collecting;

    // The dead node's registry entries expire without a heartbeat.
    expect(await env.redis.exists('parley:cluster:sessions:node-2')).toBe(0);

    const back = await connect(1, 'henry');
    const offline = await drain(back, 1500, 15_000);
    expect(new Set(offline).size).toBe(offline.length);
    expect(offline.filter((body) => received.includes(body))).toEqual([]);
    for (let index = killedAt + 1; index <= sent; index++) expect(offline).toContain(label(index));

    const archived = new Set(await archivedBodies(back));
    for (let index = 1; index <= sent; index++) expect(archived.has(label(index))).toBe(true);
  }, 60_000);

  it('tells contacts that the dead node\'s users went offline', async () => {
    await env.cluster.restart(2);
    const jack = await connect(2, 'jack');
    const kim = await connect(1, 'kim');
    await befriend(jack, kim);

    const offline = kim.next((el) => el.name === 'presence' && el.attr('from') === jack.jid.toString() && el.attr('type') === 'unavailable', TEST_EXPIRY_MS + 5000);
    await env.cluster.kill(2);
    await offline;
  }, 60_000);

  it('removes the entries a crash left when the node starts again', async () => {
    await env.cluster.restart(2);
    const visitor = await connect(2, 'jack');
    expect(await env.redis.hexists('parley:cluster:sessions:node-2', visitor.jid.toString())).toBe(1);
    await env.cluster.kill(2);
    expect(await env.redis.hexists('parley:cluster:sessions:node-2', visitor.jid.toString())).toBe(1);

    await env.cluster.restart(2);
    expect(await env.redis.hexists('parley:cluster:sessions:node-2', visitor.jid.toString())).toBe(0);
  }, 60_000);

  it('removes its entries at a clean stop', async () => {
    const jack = await connect(2, 'jack');
    expect(await env.redis.hexists('parley:cluster:sessions:node-2', jack.jid.toString())).toBe(1);

    await env.cluster.shutdown(2);
    expect(await jack.streamError(5000)).toBe('system-shutdown');
    expect(await env.redis.exists('parley:cluster:sessions:node-2')).toBe(0);
    await env.cluster.restart(2);
  }, 60_000);

  it('writes its sessions again when Redis lost them', async () => {
    const kim = await connect(1, 'kim');
    const ivy = await connect(0, 'ivy');
    await env.redis.del('parley:cluster:sessions:node-1');

    let found = 0;
    for (let attempt = 0; attempt < 50 && found === 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      found = await env.redis.hexists('parley:cluster:sessions:node-1', kim.jid.toString());
    }
    expect(found).toBe(1);

    ivy.send(chat(kim.jid.toString(), 'after the loss'));
    await kim.next((el) => el.getChildText('body', NS.CLIENT) === 'after the loss', 5000);
  }, 30_000);
});
