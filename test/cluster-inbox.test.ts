import { describe, expect, it } from 'vitest';
import { type Element, NS, x } from '../packages/xmpp/src/index.js';
import { useTestCluster } from './support/cluster.js';
import { NS_PARLEY_INBOX, entryOf, nextPush } from './support/inbox.js';
import { bodies, queryArchive } from './support/mam.js';
import { marker, markableChat, stanzaIdBy } from './support/markers.js';

const DOMAIN = 'example.test';
const WAIT_MS = 5000;
const COUNT = 12;

const env = useTestCluster(3, ['alice', 'bob']);
const connect = (node: number, user: string, resource: string) => env.connect(node, user, { resource });

describe('inbox, markers and archive across nodes', () => {
  it('stay exact on both sides', async () => {
    const alice = await connect(0, 'alice', 'desk');
    const bob = await connect(1, 'bob', 'desk');
    const bobPhone = await connect(2, 'bob', 'phone');
    await bobPhone.iq(x('iq', NS.CLIENT, { type: 'set' }, x('enable', NS_PARLEY_INBOX)));

    for (const client of [alice, bob]) {
      client.send(x('enable', NS.SM, {}));
      await client.next((el) => el.name === 'enabled' && el.ns === NS.SM, WAIT_MS);
    }

    // Both sides write at once, so the archives get rows from two nodes interleaved.
    const received: Element[] = [];
    for (let index = 0; index < COUNT; index++) {
      alice.send(markableChat(`bob@${DOMAIN}`, `a${index}`, `a${index}`));
      bob.send(markableChat(`alice@${DOMAIN}`, `b${index}`, `b${index}`));
    }
    for (let index = 0; index < COUNT; index++) received.push(await bob.next((el) => el.getChildText('body', NS.CLIENT) === `a${index}`, WAIT_MS));
    for (let index = 0; index < COUNT; index++) await alice.next((el) => el.getChildText('body', NS.CLIENT) === `b${index}`, WAIT_MS);
    // An acknowledgement means the archive writes committed.
    for (const client of [alice, bob]) {
      client.send(x('r', NS.SM));
      await client.next((el) => el.name === 'a' && el.ns === NS.SM && Number(el.attr('h')) >= COUNT, WAIT_MS);
    }

    const expectedBob = new Set([...Array.from({ length: COUNT }, (_, index) => `a${index}`), ...Array.from({ length: COUNT }, (_, index) => `b${index}`)]);
    const bobArchive = bodies(await queryArchive(bobPhone, { rsm: { max: 100 } }));
    const aliceArchive = bodies(await queryArchive(alice, { rsm: { max: 100 } }));
    expect(new Set(bobArchive)).toEqual(expectedBob);
    expect(bobArchive).toHaveLength(COUNT * 2);
    expect(new Set(aliceArchive)).toEqual(expectedBob);

    // A message of one's own reads the conversation up to it; then alice writes alone.
    bob.send(x('message', NS.CLIENT, { to: `alice@${DOMAIN}`, type: 'chat', id: 'ok' }, x('body', NS.CLIENT, {}, 'ok')));
    await alice.next((el) => el.getChildText('body', NS.CLIENT) === 'ok', WAIT_MS);
    const unanswered: Element[] = [];
    for (let index = 0; index < COUNT; index++) alice.send(markableChat(`bob@${DOMAIN}`, `c${index}`, `c${index}`));
    for (let index = 0; index < COUNT; index++) unanswered.push(await bob.next((el) => el.getChildText('body', NS.CLIENT) === `c${index}`, WAIT_MS));
    alice.send(x('r', NS.SM));
    await alice.next((el) => el.name === 'a' && el.ns === NS.SM && Number(el.attr('h')) >= COUNT * 2, WAIT_MS);
    expect((await entryOf(bobPhone, `alice@${DOMAIN}`)).unread).toBe(COUNT);
    expect((await entryOf(alice, `bob@${DOMAIN}`)).unread).toBe(0);

    const third = stanzaIdBy(unanswered[2]!, `bob@${DOMAIN}`)!;
    expect(third).toBeDefined();
    // Earlier pushes are still in the buffer, so the awaited push is matched by its read position.
    const push = nextPush(bobPhone, `alice@${DOMAIN}`, (item) => item.readId === third);
    bob.send(marker(`alice@${DOMAIN}`, 'displayed', 'c2'));
    expect((await push).unread).toBe(COUNT - 3);
    expect((await entryOf(bob, `alice@${DOMAIN}`)).unread).toBe(COUNT - 3);
    expect((await entryOf(bobPhone, `alice@${DOMAIN}`)).unread).toBe(COUNT - 3);
  }, 30_000);
});
