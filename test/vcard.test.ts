import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, readStanzaErrorCondition, x } from '@parley/xmpp';
import { type TestServer, startTestServer } from './support/server.js';
import { TestClient } from './support/client.js';

const PASSWORD = 'secret-pw';
// SHA-1 of the three bytes "abc" (RFC 3174), whose base64 is "YWJj".
const ABC_SHA1 = 'a9993e364706816aba3e25717850c26c9cd0d89d';

function errorCondition(reply: Element): string | undefined {
  const error = reply.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

function vcard(...children: Element[]): Element {
  return x('vCard', NS.VCARD, {}, ...children);
}

function field(name: string, text: string): Element {
  return x(name, NS.VCARD, {}, text);
}

function photo(binval: string): Element {
  return x('PHOTO', NS.VCARD, {}, field('TYPE', 'image/png'), field('BINVAL', binval));
}

describe('vcard-temp', () => {
  let server: TestServer;
  const clients: TestClient[] = [];

  async function connect(username: string, presence = false): Promise<TestClient> {
    const client = await TestClient.connect(server, { username, password: PASSWORD, presence });
    clients.push(client);
    return client;
  }

  function getVcard(client: TestClient, to?: string): Promise<Element> {
    return client.iq(x('iq', NS.CLIENT, { type: 'get', to }, vcard()));
  }

  function setVcard(client: TestClient, card: Element, to?: string): Promise<Element> {
    return client.iq(x('iq', NS.CLIENT, { type: 'set', to }, card));
  }

  beforeAll(async () => {
    server = await startTestServer();
    for (const name of ['alice', 'bob', 'carol', 'dave']) await server.createAccount(name, PASSWORD);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await server.stop();
  });

  it('own missing vCard is empty', async () => {
    const carol = await connect('carol');
    const reply = await getVcard(carol);
    expect(reply.attr('type')).toBe('result');
    expect(reply.getChild('vCard', NS.VCARD)?.elements()).toHaveLength(0);
  });

  it('set then get returns the vCard', async () => {
    const alice = await connect('alice');
    expect((await setVcard(alice, vcard(field('FN', 'Alice Liddell'), field('NICKNAME', 'alice')))).attr('type')).toBe('result');
    const card = (await getVcard(alice)).getChild('vCard', NS.VCARD);
    expect(card?.getChildText('FN', NS.VCARD)).toBe('Alice Liddell');
    expect(card?.getChildText('NICKNAME', NS.VCARD)).toBe('alice');
  });

  it('set replaces the whole vCard', async () => {
    const alice = await connect('alice');
    await setVcard(alice, vcard(field('FN', 'Alice Liddell'), field('NICKNAME', 'alice')));
    await setVcard(alice, vcard(field('FN', 'Alice L.')));
    const card = (await getVcard(alice)).getChild('vCard', NS.VCARD);
    expect(card?.getChildText('FN', NS.VCARD)).toBe('Alice L.');
    expect(card?.getChild('NICKNAME', NS.VCARD)).toBeUndefined();
  });

  it('get with own bare JID works', async () => {
    const alice = await connect('alice');
    await setVcard(alice, vcard(field('FN', 'Alice Liddell')));
    const card = (await getVcard(alice, `alice@${server.domain}`)).getChild('vCard', NS.VCARD);
    expect(card?.getChildText('FN', NS.VCARD)).toBe('Alice Liddell');
  });

  it('another user reads a vCard', async () => {
    const alice = await connect('alice');
    await setVcard(alice, vcard(field('FN', 'Alice Liddell')));
    const bob = await connect('bob');
    const reply = await getVcard(bob, `alice@${server.domain}`);
    expect(reply.attr('from')).toBe(`alice@${server.domain}`);
    expect(reply.getChild('vCard', NS.VCARD)?.getChildText('FN', NS.VCARD)).toBe('Alice Liddell');
  });

  it("another user's missing vCard is empty", async () => {
    const bob = await connect('bob');
    const reply = await getVcard(bob, `carol@${server.domain}`);
    expect(reply.attr('type')).toBe('result');
    expect(reply.getChild('vCard', NS.VCARD)?.elements()).toEqual([]);
  });

  it('missing account is service-unavailable', async () => {
    const bob = await connect('bob');
    expect(errorCondition(await getVcard(bob, `nobody@${server.domain}`))).toBe('service-unavailable');
  });

  it("set on another user's vCard is forbidden", async () => {
    const bob = await connect('bob');
    expect(errorCondition(await setVcard(bob, vcard(field('FN', 'Mallory')), `alice@${server.domain}`))).toBe('forbidden');
  });

  it('forbidden set leaves the vCard alone', async () => {
    const alice = await connect('alice');
    await setVcard(alice, vcard(field('FN', 'Alice Liddell')));
    const bob = await connect('bob');
    await setVcard(bob, vcard(field('FN', 'Mallory')), `alice@${server.domain}`);
    expect((await getVcard(alice)).getChild('vCard', NS.VCARD)?.getChildText('FN', NS.VCARD)).toBe('Alice Liddell');
  });

  it('oversized vCard is a policy-violation', async () => {
    const dave = await connect('dave');
    const reply = await setVcard(dave, vcard(field('DESC', 'x'.repeat(70 * 1024))));
    expect(errorCondition(reply)).toBe('policy-violation');
  });

  it('oversized vCard is not stored', async () => {
    const dave = await connect('dave');
    await setVcard(dave, vcard(field('FN', 'Dave')));
    await setVcard(dave, vcard(field('DESC', 'x'.repeat(70 * 1024))));
    expect((await getVcard(dave)).getChild('vCard', NS.VCARD)?.getChildText('FN', NS.VCARD)).toBe('Dave');
  });

  it('empty set deletes the vCard', async () => {
    const dave = await connect('dave');
    await setVcard(dave, vcard(field('FN', 'Dave')));
    await setVcard(dave, vcard());
    const bob = await connect('bob');
    expect((await getVcard(bob, `dave@${server.domain}`)).getChild('vCard', NS.VCARD)?.elements()).toEqual([]);
  });

  it('keeps non-ASCII text', async () => {
    const dave = await connect('dave');
    await setVcard(dave, vcard(field('FN', 'Dávid 大卫 🎈')));
    expect((await getVcard(dave)).getChild('vCard', NS.VCARD)?.getChildText('FN', NS.VCARD)).toBe('Dávid 大卫 🎈');
  });

  it('is a host feature', async () => {
    const alice = await connect('alice');
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: server.domain }, x('query', NS.DISCO_INFO)));
    const features = reply.getChild('query', NS.DISCO_INFO)?.getChildren('feature', NS.DISCO_INFO).map((el) => el.attr('var'));
    expect(features).toContain(NS.VCARD);
  });

  describe('avatar hash in presence', () => {
    function ownPresence(client: TestClient): Promise<Element> {
      const own = client.jid.toString();
      return client.next((el) => el.name === 'presence' && el.attr('from') === own && el.attr('type') === undefined, 3000);
    }

    function photoOf(presence: Element): Element | undefined {
      return presence.getChild('x', NS.VCARD_UPDATE)?.getChild('photo', NS.VCARD_UPDATE);
    }

    it('stamps the photo hash', async () => {
      const bob = await connect('bob', true);
      await setVcard(bob, vcard(field('FN', 'Bob'), photo('YWJj')));
      const echo = ownPresence(bob);
      bob.send(x('presence', NS.CLIENT, {}, x('status', NS.CLIENT, {}, 'with avatar')));
      expect(photoOf(await echo)?.text()).toBe(ABC_SHA1);
    });

    it('replaces a hash the client sent', async () => {
      const bob = await connect('bob', true);
      await setVcard(bob, vcard(field('FN', 'Bob'), photo('YWJj')));
      const echo = ownPresence(bob);
      bob.send(x('presence', NS.CLIENT, {}, x('x', NS.VCARD_UPDATE, {}, x('photo', NS.VCARD_UPDATE, {}, '0000000000000000000000000000000000000000'))));
      const stamped = (await echo).getChildren('x', NS.VCARD_UPDATE);
      expect(stamped).toHaveLength(1);
      expect(stamped[0]?.getChildText('photo', NS.VCARD_UPDATE)).toBe(ABC_SHA1);
    });

    it('stamps an empty photo without avatar', async () => {
      const carol = await connect('carol', true);
      const echo = ownPresence(carol);
      carol.send(x('presence', NS.CLIENT, {}, x('status', NS.CLIENT, {}, 'no avatar')));
      const element = photoOf(await echo);
      expect(element).toBeDefined();
      expect(element?.text()).toBe('');
    });

    it('reads the hash of a stored vCard at login', async () => {
      const first = await connect('bob');
      await setVcard(first, vcard(field('FN', 'Bob'), photo('YWJj')));
      await first.close();
      // A fresh session after the server forgot its cached hash, so the stored vCard is read.
      await server.restart();
      const bob = await TestClient.connect(server, { username: 'bob', password: PASSWORD });
      clients.push(bob);
      const echo = ownPresence(bob);
      bob.send(x('presence', NS.CLIENT));
      expect(photoOf(await echo)?.text()).toBe(ABC_SHA1);
    });
  });
});
