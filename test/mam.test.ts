import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, readStanzaErrorCondition, serialize, x } from '@parley/xmpp';
import { type TestServer, startTestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { delay } from './support/raw.js';
import { type QueryOutcome, bodies, finOf, forwardedMessage, ids, queryArchive, stamps } from './support/mam.js';

const PASSWORD = 'secret-pw';

function errorCondition(stanza: Element): string | undefined {
  const error = stanza.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

function chat(to: string, body: string, ...extra: Element[]): Element {
  return x('message', NS.CLIENT, { type: 'chat', to, id: body }, x('body', NS.CLIENT, {}, body), ...extra);
}

function numbered(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(3, '0')}`);
}

/** Writes the messages in one socket write, so the server handles them as one burst. */
function sendBurst(client: TestClient, to: string, texts: string[]): void {
  client.write(texts.map((text) => serialize(chat(to, text), NS.CLIENT)).join(''));
}

describe('message archive', () => {
  let server: TestServer;
  const clients: TestClient[] = [];
  let nextUser = 1;

  /** Creates fresh accounts, so that each test starts with empty archives. */
  async function accounts(count: number): Promise<string[]> {
    const names = Array.from({ length: count }, () => `user${nextUser++}`);
    for (const name of names) await server.createAccount(name, PASSWORD);
    return names;
  }

  async function connect(username: string, resource?: string): Promise<TestClient> {
    const client = await TestClient.connect(server, { username, password: PASSWORD, resource });
    clients.push(client);
    return client;
  }

  function bare(username: string): string {
    return `${username}@${server.domain}`;
  }

  /** Waits until the account's archive contains `count` messages. */
  async function waitForArchive(username: string, count: number, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const stored = await server.server.storage.archive.count(server.domain, username, {});
      if (stored >= count) return;
      if (Date.now() > deadline) throw new Error(`${username} has ${stored} archived messages, expected ${count}`);
      await delay(20);
    }
  }

  /** Sends the texts one by one with a pause, so that each gets its own millisecond. */
  /**
   * Sends the messages one by one with archive stamps a few milliseconds apart: a ping round
   * trip after each means the server has stamped it (in order) before the pause starts.
   */
  async function sendSpaced(client: TestClient, to: string, texts: string[]): Promise<void> {
    for (const text of texts) {
      client.send(chat(to, text));
      await client.iq(x('iq', NS.CLIENT, { type: 'get' }, x('ping', 'urn:xmpp:ping')));
      await delay(3);
    }
  }

  beforeAll(async () => {
    server = await startTestServer({ sessions: { stanzas_per_second: 100_000, stanza_burst: 100_000 } });
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await server.stop();
  });

  describe('empty archive', () => {
    let outcome: QueryOutcome;

    beforeAll(async () => {
      const [alice] = await accounts(1);
      const client = await TestClient.connect(server, { username: alice!, password: PASSWORD });
      outcome = await queryArchive(client);
      await client.close();
    });

    it('returns no results', () => {
      expect(outcome.results).toHaveLength(0);
    });

    it('is complete', () => {
      expect(finOf(outcome).complete).toBe('true');
    });

    it('counts zero', () => {
      expect(finOf(outcome).count).toBe('0');
    });
  });

  describe('paging forward through 120 messages', () => {
    const texts = numbered('fwd', 120);
    const pages: QueryOutcome[] = [];

    beforeAll(async () => {
      const [alice, bob] = await accounts(2);
      const client = await TestClient.connect(server, { username: alice!, password: PASSWORD });
      sendBurst(client, bare(bob!), texts);
      pages.push(await queryArchive(client, { rsm: { max: 50 } }));
      pages.push(await queryArchive(client, { rsm: { max: 50, after: finOf(pages[0]!).last! } }));
      pages.push(await queryArchive(client, { rsm: { max: 50, after: finOf(pages[1]!).last! } }));
      await client.close();
    });

    it('returns every message once, in order', () => {
      expect(pages.flatMap(bodies)).toEqual(texts);
    });

    it('fills pages of 50, 50 and 20', () => {
      expect(pages.map((page) => page.results.length)).toEqual([50, 50, 20]);
    });

    it('gives the index of each first', () => {
      expect(pages.map((page) => finOf(page).index)).toEqual(['0', '50', '100']);
    });

    it('names the first result', () => {
      expect(pages.map((page) => finOf(page).first)).toEqual(pages.map((page) => ids(page)[0]));
    });

    it('names the last result', () => {
      expect(pages.map((page) => finOf(page).last)).toEqual(pages.map((page) => ids(page).at(-1)));
    });

    it('counts all messages', () => {
      expect(pages.map((page) => finOf(page).count)).toEqual(['120', '120', '120']);
    });

    it('marks only the last page complete', () => {
      expect(pages.map((page) => finOf(page).complete)).toEqual([undefined, undefined, 'true']);
    });

    it('stamps each result with a delay', () => {
      expect(stamps(pages[0]!).every((stamp) => !Number.isNaN(Date.parse(stamp)))).toBe(true);
    });
  });

  describe('paging backwards from the end', () => {
    const texts = numbered('back', 120);
    const pages: QueryOutcome[] = [];

    beforeAll(async () => {
      const [alice, bob] = await accounts(2);
      const client = await TestClient.connect(server, { username: alice!, password: PASSWORD });
      sendBurst(client, bare(bob!), texts);
      pages.push(await queryArchive(client, { rsm: { max: 50, before: '' } }));
      pages.push(await queryArchive(client, { rsm: { max: 50, before: finOf(pages[0]!).first! } }));
      pages.push(await queryArchive(client, { rsm: { max: 50, before: finOf(pages[1]!).first! } }));
      await client.close();
    });

    it('returns the last page oldest first', () => {
      expect(bodies(pages[0]!)).toEqual(texts.slice(70));
    });

    it('returns the middle page oldest first', () => {
      expect(bodies(pages[1]!)).toEqual(texts.slice(20, 70));
    });

    it('returns the first page oldest first', () => {
      expect(bodies(pages[2]!)).toEqual(texts.slice(0, 20));
    });

    it('leaves out the index of each first', () => {
      expect(pages.map((page) => finOf(page).index)).toEqual([undefined, undefined, undefined]);
    });

    it('marks only the first page complete', () => {
      expect(pages.map((page) => finOf(page).complete)).toEqual([undefined, undefined, 'true']);
    });
  });

  describe('paging within one millisecond', () => {
    const texts = numbered('burst', 300);
    const pages: QueryOutcome[] = [];

    beforeAll(async () => {
      const [alice, bob] = await accounts(2);
      const client = await TestClient.connect(server, { username: alice!, password: PASSWORD });
      sendBurst(client, bare(bob!), texts);
      let after: string | undefined;
      for (let i = 0; i < 50; i++) {
        const page = await queryArchive(client, { rsm: { max: 7, after } });
        pages.push(page);
        if (finOf(page).complete === 'true') break;
        after = finOf(page).last;
      }
      await client.close();
    });

    it('shares timestamps between messages', () => {
      const all = pages.flatMap(stamps);
      expect(new Set(all).size).toBeLessThan(all.length);
    });

    it('loses and repeats no message', () => {
      expect(pages.flatMap(bodies)).toEqual(texts);
    });

    it('issues strictly increasing ids', () => {
      const all = pages.flatMap(ids);
      expect(all.every((id, i) => i === 0 || id > all[i - 1]!)).toBe(true);
    });
  });

  describe('filters', () => {
    let alice: TestClient;
    let bobBare: string;
    let carolBare: string;
    let all: QueryOutcome;

    beforeAll(async () => {
      const [a, b, c] = await accounts(3);
      bobBare = bare(b!);
      carolBare = bare(c!);
      alice = await TestClient.connect(server, { username: a!, password: PASSWORD });
      const bob = await TestClient.connect(server, { username: b!, password: PASSWORD, resource: 'phone', presence: true });
      await sendSpaced(alice, bobBare, ['b1', 'b2', 'b3']);
      await sendSpaced(alice, carolBare, ['c1', 'c2']);
      await bob.next((el) => el.getChildText('body', NS.CLIENT) === 'b3');
      await sendSpaced(bob, bare(a!), ['from-phone']);
      await sendSpaced(alice, `${bobBare}/laptop`, ['to-laptop']);
      await waitForArchive(a!, 7);
      all = await queryArchive(alice);
      await bob.close();
    });

    afterAll(async () => {
      await alice.close();
    });

    it('matches a bare JID on every resource', async () => {
      expect(bodies(await queryArchive(alice, { fields: { with: bobBare } }))).toEqual(['b1', 'b2', 'b3', 'from-phone', 'to-laptop']);
    });

    it('matches a full JID exactly', async () => {
      expect(bodies(await queryArchive(alice, { fields: { with: `${bobBare}/phone` } }))).toEqual(['from-phone']);
    });

    it('filters by start and end', async () => {
      const stamp = stamps(all);
      expect(bodies(await queryArchive(alice, { fields: { start: stamp[1]!, end: stamp[3]! } }))).toEqual(['b2', 'b3', 'c1']);
    });

    it('filters by after-id and before-id', async () => {
      const id = ids(all);
      expect(bodies(await queryArchive(alice, { fields: { 'after-id': id[0]!, 'before-id': id[4]! } }))).toEqual(['b2', 'b3', 'c1']);
    });

    it('fetches by ids in archive order', async () => {
      const id = ids(all);
      expect(bodies(await queryArchive(alice, { fields: { ids: [id[4]!, id[1]!] } }))).toEqual(['b2', 'c2']);
    });

    it('combines with and paging', async () => {
      const page = await queryArchive(alice, { fields: { with: carolBare }, rsm: { max: 1, before: '' } });
      expect([bodies(page), finOf(page).count]).toEqual([['c2'], '2']);
    });

    it('flips a page', async () => {
      const page = await queryArchive(alice, { rsm: { max: 3, before: '' }, flip: true });
      expect(bodies(page)).toEqual(['to-laptop', 'from-phone', 'c2']);
    });

    it('keeps first and last of a flipped page in archive order', async () => {
      const page = await queryArchive(alice, { rsm: { max: 3, before: '' }, flip: true });
      expect([finOf(page).first, finOf(page).last]).toEqual([ids(page)[2], ids(page)[0]]);
    });

    it('answers metadata with the first and last message', async () => {
      const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get' }, x('metadata', NS.MAM)));
      const metadata = reply.getChild('metadata', NS.MAM);
      expect([metadata?.getChild('start', NS.MAM)?.attr('id'), metadata?.getChild('end', NS.MAM)?.attr('id')]).toEqual([ids(all)[0], ids(all).at(-1)]);
    });
  });

  describe('errors', () => {
    let alice: TestClient;
    let bobName: string;

    beforeAll(async () => {
      const [a, b] = await accounts(2);
      bobName = b!;
      alice = await TestClient.connect(server, { username: a!, password: PASSWORD });
      alice.send(chat(bare(b!), 'one'));
    });

    afterAll(async () => {
      await alice.close();
    });

    it('forbids querying another account', async () => {
      const outcome = await queryArchive(alice, { to: bare(bobName) });
      expect(errorCondition(outcome.iq)).toBe('forbidden');
    });

    it('rejects a bad start', async () => {
      const outcome = await queryArchive(alice, { fields: { start: 'yesterday' } });
      expect(errorCondition(outcome.iq)).toBe('bad-request');
    });

    it('rejects a bad with', async () => {
      const outcome = await queryArchive(alice, { fields: { with: 'a@b@c' } });
      expect(errorCondition(outcome.iq)).toBe('bad-request');
    });

    it('rejects a bad max', async () => {
      const outcome = await queryArchive(alice, { rsm: { max: -1 } });
      expect(errorCondition(outcome.iq)).toBe('bad-request');
    });

    it('refuses an unknown field', async () => {
      const outcome = await queryArchive(alice, { fields: { 'include-groupchat': 'true' } });
      expect(errorCondition(outcome.iq)).toBe('feature-not-implemented');
    });

    it('answers an unknown after-id with item-not-found', async () => {
      const outcome = await queryArchive(alice, { fields: { 'after-id': 'no-such-id' } });
      expect(errorCondition(outcome.iq)).toBe('item-not-found');
    });

    it('answers an unknown RSM after with item-not-found', async () => {
      const outcome = await queryArchive(alice, { rsm: { after: 'no-such-id' } });
      expect(errorCondition(outcome.iq)).toBe('item-not-found');
    });

    it('answers an unknown id with item-not-found', async () => {
      const outcome = await queryArchive(alice, { fields: { ids: ['no-such-id'] } });
      expect(errorCondition(outcome.iq)).toBe('item-not-found');
    });

    it('returns the form fields', async () => {
      const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get' }, x('query', NS.MAM)));
      const fields = reply.getChild('query', NS.MAM)?.getChild('x', NS.DATA_FORMS)?.getChildren('field', NS.DATA_FORMS).map((el) => el.attr('var'));
      expect(fields).toEqual(['FORM_TYPE', 'with', 'start', 'end', 'before-id', 'after-id', 'ids', `{${NS.FULLTEXT}}fulltext`]);
    });

    it('answers metadata of an empty archive with no bounds', async () => {
      const [empty] = await accounts(1);
      const client = await connect(empty!);
      const reply = await client.iq(x('iq', NS.CLIENT, { type: 'get' }, x('metadata', NS.MAM)));
      expect(reply.getChild('metadata', NS.MAM)?.elements()).toEqual([]);
    });
  });

  describe('both sides', () => {
    let aliceArchive: QueryOutcome;
    let bobArchive: QueryOutcome;

    beforeAll(async () => {
      const [a, b] = await accounts(2);
      const alice = await TestClient.connect(server, { username: a!, password: PASSWORD });
      const bob = await TestClient.connect(server, { username: b!, password: PASSWORD, presence: true });
      alice.send(chat(bare(b!), 'hi bob'));
      await bob.next((el) => el.getChildText('body', NS.CLIENT) === 'hi bob');
      bob.send(chat(bare(a!), 'hi alice'));
      await waitForArchive(a!, 2);
      aliceArchive = await queryArchive(alice);
      bobArchive = await queryArchive(bob);
      await Promise.all([alice.close(), bob.close()]);
    });

    it("keep the conversation in alice's archive", () => {
      expect(bodies(aliceArchive)).toEqual(['hi bob', 'hi alice']);
    });

    it("keep the conversation in bob's archive", () => {
      expect(bodies(bobArchive)).toEqual(['hi bob', 'hi alice']);
    });

    it('use their own ids', () => {
      expect(ids(aliceArchive).some((id) => ids(bobArchive).includes(id))).toBe(false);
    });

    it('keep the sender address', () => {
      expect(forwardedMessage(bobArchive.results[0]!)?.attr('from')).toMatch(/\/[^/]+$/);
    });
  });

  describe('hints and chat states', () => {
    let archive: QueryOutcome;

    beforeAll(async () => {
      const [a, b] = await accounts(2);
      const alice = await TestClient.connect(server, { username: a!, password: PASSWORD });
      const to = bare(b!);
      alice.send(chat(to, 'kept'));
      alice.send(chat(to, 'secret', x('no-store', NS.HINTS)));
      alice.send(chat(to, 'fleeting', x('no-permanent-store', NS.HINTS)));
      alice.send(x('message', NS.CLIENT, { type: 'chat', to, id: 'typing' }, x('composing', NS.CHATSTATES)));
      alice.send(x('message', NS.CLIENT, { type: 'chat', to, id: 'receipt' }, x('received', 'urn:xmpp:receipts', { id: 'kept' }), x('store', NS.HINTS)));
      archive = await queryArchive(alice);
      await alice.close();
    });

    it('archives only what may be stored', () => {
      expect(archive.results.map((result) => forwardedMessage(result)?.attr('id'))).toEqual(['kept', 'receipt']);
    });
  });

  describe('preferences', () => {
    it('answers the defaults', async () => {
      const [a] = await accounts(1);
      const alice = await connect(a!);
      const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get' }, x('prefs', NS.MAM)));
      expect(reply.getChild('prefs', NS.MAM)?.attr('default')).toBe('always');
    });

    it('returns what was set', async () => {
      const [a] = await accounts(1);
      const alice = await connect(a!);
      const prefs = x('prefs', NS.MAM, { default: 'roster' }, x('always', NS.MAM, {}, x('jid', NS.MAM, {}, 'x@example.test')), x('never', NS.MAM));
      await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, prefs));
      const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get' }, x('prefs', NS.MAM)));
      expect(reply.getChild('prefs', NS.MAM)?.getChild('always', NS.MAM)?.getChildText('jid', NS.MAM)).toBe('x@example.test');
    });

    it('skips a contact on the never list', async () => {
      const [a, b, c] = await accounts(3);
      const alice = await connect(a!);
      const never = x('prefs', NS.MAM, { default: 'always' }, x('always', NS.MAM), x('never', NS.MAM, {}, x('jid', NS.MAM, {}, bare(b!))));
      await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, never));
      alice.send(chat(bare(b!), 'not kept'));
      alice.send(chat(bare(c!), 'kept'));
      expect(bodies(await queryArchive(alice))).toEqual(['kept']);
    });

    it("leaves the other side's archive alone", async () => {
      const [a, b] = await accounts(2);
      const alice = await connect(a!);
      const never = x('prefs', NS.MAM, { default: 'never' }, x('always', NS.MAM), x('never', NS.MAM));
      await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, never));
      alice.send(chat(bare(b!), 'for bob'));
      await waitForArchive(b!, 1);
      expect(bodies(await queryArchive(alice))).toEqual([]);
    });

    it('keeps a contact on the always list', async () => {
      const [a, b, c] = await accounts(3);
      const alice = await connect(a!);
      const always = x('prefs', NS.MAM, { default: 'never' }, x('always', NS.MAM, {}, x('jid', NS.MAM, {}, bare(b!))), x('never', NS.MAM));
      await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, always));
      alice.send(chat(bare(b!), 'kept'));
      alice.send(chat(bare(c!), 'not kept'));
      expect(bodies(await queryArchive(alice))).toEqual(['kept']);
    });

    it('rejects an unknown default', async () => {
      const [a] = await accounts(1);
      const alice = await connect(a!);
      const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'set' }, x('prefs', NS.MAM, { default: 'sometimes' })));
      expect(errorCondition(reply)).toBe('bad-request');
    });
  });

  describe('corrections and retractions', () => {
    async function conversation(): Promise<{ alice: TestClient; bob: TestClient; aliceName: string; bobName: string }> {
      const [a, b] = await accounts(2);
      return { alice: await connect(a!), bob: await connect(b!), aliceName: a!, bobName: b! };
    }

    it('shows the corrected text in place', async () => {
      const { alice, bobName } = await conversation();
      alice.send(chat(bare(bobName), 'helo'));
      alice.send(x('message', NS.CLIENT, { type: 'chat', to: bare(bobName), id: 'fix' }, x('body', NS.CLIENT, {}, 'hello'), x('replace', NS.CORRECT, { id: 'helo' })));
      expect(bodies(await queryArchive(alice))).toEqual(['hello', 'hello']);
    });

    it("corrects the recipient's archive too", async () => {
      const { alice, bob, bobName } = await conversation();
      alice.send(chat(bare(bobName), 'helo'));
      alice.send(x('message', NS.CLIENT, { type: 'chat', to: bare(bobName), id: 'fix' }, x('body', NS.CLIENT, {}, 'hello'), x('replace', NS.CORRECT, { id: 'helo' })));
      await waitForArchive(bobName, 2);
      expect(bodies(await queryArchive(bob))[0]).toBe('hello');
    });

    it('keeps the id of a corrected message', async () => {
      const { alice, bobName } = await conversation();
      alice.send(chat(bare(bobName), 'helo'));
      const before = ids(await queryArchive(alice))[0];
      alice.send(x('message', NS.CLIENT, { type: 'chat', to: bare(bobName), id: 'fix' }, x('body', NS.CLIENT, {}, 'hello'), x('replace', NS.CORRECT, { id: 'helo' })));
      expect(ids(await queryArchive(alice))[0]).toBe(before);
    });

    it('shows a tombstone for a retracted message', async () => {
      const { alice, bobName } = await conversation();
      alice.send(chat(bare(bobName), 'oops'));
      alice.send(x('message', NS.CLIENT, { type: 'chat', to: bare(bobName), id: 'undo' }, x('retract', NS.RETRACT, { id: 'oops' }), x('body', NS.CLIENT, {}, 'retracted'), x('store', NS.HINTS)));
      const first = forwardedMessage((await queryArchive(alice)).results[0]!);
      expect([first?.getChild('body', NS.CLIENT), first?.getChild('retracted', NS.RETRACT)?.attr('id')]).toEqual([undefined, 'undo']);
    });

    it('archives the retraction itself', async () => {
      const { alice, bobName } = await conversation();
      alice.send(chat(bare(bobName), 'oops'));
      alice.send(x('message', NS.CLIENT, { type: 'chat', to: bare(bobName), id: 'undo' }, x('retract', NS.RETRACT, { id: 'oops' }), x('store', NS.HINTS)));
      const second = forwardedMessage((await queryArchive(alice)).results[1]!);
      expect(second?.getChild('retract', NS.RETRACT)?.attr('id')).toBe('oops');
    });

    it("lets no one correct another sender's message", async () => {
      const { alice, bob, aliceName, bobName } = await conversation();
      alice.send(chat(bare(bobName), 'original'));
      await waitForArchive(bobName, 1);
      bob.send(x('message', NS.CLIENT, { type: 'chat', to: bare(aliceName), id: 'forged' }, x('body', NS.CLIENT, {}, 'forged'), x('replace', NS.CORRECT, { id: 'original' })));
      expect(bodies(await queryArchive(bob))).toEqual(['original', 'forged']);
    });

    it("lets no one retract another sender's message", async () => {
      const { alice, bob, aliceName, bobName } = await conversation();
      alice.send(chat(bare(bobName), 'original'));
      await waitForArchive(bobName, 1);
      bob.send(x('message', NS.CLIENT, { type: 'chat', to: bare(aliceName), id: 'forged' }, x('retract', NS.RETRACT, { id: 'original' }), x('store', NS.HINTS)));
      expect(bodies(await queryArchive(bob))[0]).toBe('original');
    });
  });
});
