import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, readStanzaErrorCondition, x } from '@parley/xmpp';
import { capsHash } from '../packages/server/src/modules/disco/caps.js';
import type { RosterItem } from '../packages/server/src/storage/index.js';
import { type TestServer, startTestServer } from './support/server.js';
import { TestClient, bindResource, login, openClientStream } from './support/client.js';

const PASSWORD = 'secret-pw';

function errorCondition(reply: Element): string | undefined {
  const error = reply.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

function features(query: Element | undefined): string[] {
  return query?.getChildren('feature', NS.DISCO_INFO).map((el) => el.attr('var') ?? '') ?? [];
}

function rosterItem(contact: string, subscription: RosterItem['subscription']): RosterItem {
  return { contact, name: null, subscription, ask: false, pendingIn: false, pendingInStanza: null, approved: false, hidden: false, groups: [] };
}

describe('disco', () => {
  let server: TestServer;
  const clients: TestClient[] = [];

  async function connect(username: string): Promise<TestClient> {
    const client = await TestClient.connect(server, { username, password: PASSWORD });
    clients.push(client);
    return client;
  }

  function info(client: TestClient, to: string, node?: string): Promise<Element> {
    return client.iq(x('iq', NS.CLIENT, { type: 'get', to }, x('query', NS.DISCO_INFO, { node })));
  }

  function items(client: TestClient, to: string, node?: string): Promise<Element> {
    return client.iq(x('iq', NS.CLIENT, { type: 'get', to }, x('query', NS.DISCO_ITEMS, { node })));
  }

  beforeAll(async () => {
    server = await startTestServer();
    for (const name of ['alice', 'bob', 'carol', 'dave']) await server.createAccount(name, PASSWORD);

    // bob shares his presence with alice (both) and dave (from), but not with carol (to: he only receives hers).
    const { roster } = server.server.storage;
    await roster.put(server.domain, 'bob', rosterItem(`alice@${server.domain}`, 'both'));
    await roster.put(server.domain, 'bob', rosterItem(`dave@${server.domain}`, 'from'));
    await roster.put(server.domain, 'bob', rosterItem(`carol@${server.domain}`, 'to'));

    const { disco } = server.server;
    disco.hostItems.push({ jid: `rooms.${server.domain}`, name: 'Chatrooms' });
    disco.hostExtensions.push(() =>
      x(
        'x',
        NS.DATA_FORMS,
        { type: 'result' },
        x('field', NS.DATA_FORMS, { var: 'FORM_TYPE', type: 'hidden' }, x('value', NS.DATA_FORMS, {}, 'http://jabber.org/network/serverinfo')),
        x('field', NS.DATA_FORMS, { var: 'admin-addresses' }, x('value', NS.DATA_FORMS, {}, `xmpp:admin@${server.domain}`)),
      ),
    );
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await server.stop();
  });

  describe('host info', () => {
    it('has the identity server/im', async () => {
      const alice = await connect('alice');
      const identity = (await info(alice, server.domain)).getChild('query', NS.DISCO_INFO)?.getChild('identity', NS.DISCO_INFO);
      expect(identity?.attr('category')).toBe('server');
      expect(identity?.attr('type')).toBe('im');
    });

    it('lists every registered host feature', async () => {
      const alice = await connect('alice');
      const listed = features((await info(alice, server.domain)).getChild('query', NS.DISCO_INFO));
      expect([...listed].sort()).toEqual([...server.server.disco.hostFeatures].sort());
    });

    it('includes the standard features', async () => {
      const alice = await connect('alice');
      const listed = features((await info(alice, server.domain)).getChild('query', NS.DISCO_INFO));
      expect(listed).toEqual(expect.arrayContaining([NS.DISCO_INFO, NS.DISCO_ITEMS, NS.CAPS, 'msgoffline', NS.VCARD, NS.REGISTER]));
    });

    it('includes the extension form', async () => {
      const alice = await connect('alice');
      const form = (await info(alice, server.domain)).getChild('query', NS.DISCO_INFO)?.getChild('x', NS.DATA_FORMS);
      const field = form?.getChildren('field', NS.DATA_FORMS).find((el) => el.attr('var') === 'admin-addresses');
      expect(field?.getChildText('value', NS.DATA_FORMS)).toBe(`xmpp:admin@${server.domain}`);
    });

    it('rejects an unknown node', async () => {
      const alice = await connect('alice');
      expect(errorCondition(await info(alice, server.domain, 'urn:example:nothing'))).toBe('item-not-found');
    });
  });

  describe('host items', () => {
    it('lists the host items', async () => {
      const alice = await connect('alice');
      const listed = (await items(alice, server.domain)).getChild('query', NS.DISCO_ITEMS)?.getChildren('item', NS.DISCO_ITEMS) ?? [];
      const item = listed.find((candidate) => candidate.attr('jid') === `rooms.${server.domain}`);
      expect(item?.attr('jid')).toBe(`rooms.${server.domain}`);
      expect(item?.attr('name')).toBe('Chatrooms');
    });

    it('rejects an unknown node', async () => {
      const alice = await connect('alice');
      expect(errorCondition(await items(alice, server.domain, 'urn:example:nothing'))).toBe('item-not-found');
    });
  });

  describe('entity capabilities', () => {
    async function postAuthFeatures(): Promise<Element> {
      const { connection } = await openClientStream(server, 'starttls');
      try {
        const outcome = await login(connection, 'SCRAM-SHA-256', 'alice', PASSWORD);
        expect(outcome.name).toBe('success');
        const streamFeatures = await connection.openStream();
        await bindResource(connection);
        return streamFeatures;
      } finally {
        connection.destroy();
      }
    }

    it('advertises caps after authentication', async () => {
      const caps = (await postAuthFeatures()).getChild('c', NS.CAPS);
      expect(caps?.attr('hash')).toBe('sha-1');
      expect(caps?.attr('node')).toBe('https://parley.im');
    });

    it('ver matches the disco#info result', async () => {
      const ver = (await postAuthFeatures()).getChild('c', NS.CAPS)?.attr('ver');
      const alice = await connect('alice');
      const query = (await info(alice, server.domain)).getChild('query', NS.DISCO_INFO)!;
      expect(ver).toBe(capsHash(query));
    });

    it('answers the caps node', async () => {
      const ver = (await postAuthFeatures()).getChild('c', NS.CAPS)?.attr('ver');
      const alice = await connect('alice');
      const node = `https://parley.im#${ver}`;
      const query = (await info(alice, server.domain, node)).getChild('query', NS.DISCO_INFO);
      expect(query?.attr('node')).toBe(node);
      expect(capsHash(query!)).toBe(ver);
    });

    it('changes ver when a feature is added', async () => {
      const before = (await postAuthFeatures()).getChild('c', NS.CAPS)?.attr('ver');
      server.server.disco.addHostFeature('urn:example:caps-test');
      try {
        const after = (await postAuthFeatures()).getChild('c', NS.CAPS)?.attr('ver');
        expect(after).not.toBe(before);
        const alice = await connect('alice');
        expect(capsHash((await info(alice, server.domain)).getChild('query', NS.DISCO_INFO)!)).toBe(after);
      } finally {
        server.server.disco.hostFeatures.delete('urn:example:caps-test');
      }
      expect((await postAuthFeatures()).getChild('c', NS.CAPS)?.attr('ver')).toBe(before);
    });

    it('rejects a caps node with another ver', async () => {
      const alice = await connect('alice');
      expect(errorCondition(await info(alice, server.domain, 'https://parley.im#QgayPKawpkPSDYmwT/WM94uAlu0='))).toBe('item-not-found');
    });
  });

  describe('account info', () => {
    it('answers the owner', async () => {
      const bob = await connect('bob');
      const query = (await info(bob, `bob@${server.domain}`)).getChild('query', NS.DISCO_INFO);
      const identity = query?.getChild('identity', NS.DISCO_INFO);
      expect(identity?.attr('category')).toBe('account');
      expect(identity?.attr('type')).toBe('registered');
    });

    it('lists every account feature', async () => {
      const bob = await connect('bob');
      const listed = features((await info(bob, `bob@${server.domain}`)).getChild('query', NS.DISCO_INFO));
      expect([...listed].sort()).toEqual([...server.server.disco.accountFeatures].sort());
    });

    it('answers a contact with subscription both', async () => {
      const alice = await connect('alice');
      expect((await info(alice, `bob@${server.domain}`)).attr('type')).toBe('result');
    });

    it('answers a contact with subscription from', async () => {
      const dave = await connect('dave');
      expect((await info(dave, `bob@${server.domain}`)).attr('type')).toBe('result');
    });

    it('refuses a contact with subscription to', async () => {
      const carol = await connect('carol');
      expect(errorCondition(await info(carol, `bob@${server.domain}`))).toBe('service-unavailable');
    });

    it('refuses a stranger', async () => {
      const carol = await connect('carol');
      expect(errorCondition(await info(carol, `alice@${server.domain}`))).toBe('service-unavailable');
    });

    it('refuses a missing account the same way', async () => {
      const carol = await connect('carol');
      expect(errorCondition(await info(carol, `nobody@${server.domain}`))).toBe('service-unavailable');
    });

    it('rejects an unknown node', async () => {
      const bob = await connect('bob');
      expect(errorCondition(await info(bob, `bob@${server.domain}`, 'urn:example:nothing'))).toBe('item-not-found');
    });
  });

  describe('account items', () => {
    it('is empty for the owner', async () => {
      const bob = await connect('bob');
      const reply = await items(bob, `bob@${server.domain}`);
      expect(reply.attr('type')).toBe('result');
      expect(reply.getChild('query', NS.DISCO_ITEMS)?.elements()).toHaveLength(0);
    });

    it('is empty for a stranger', async () => {
      const carol = await connect('carol');
      const reply = await items(carol, `bob@${server.domain}`);
      expect(reply.attr('type')).toBe('result');
      expect(reply.getChild('query', NS.DISCO_ITEMS)?.elements()).toHaveLength(0);
    });

    it('rejects an unknown node', async () => {
      const bob = await connect('bob');
      expect(errorCondition(await items(bob, `bob@${server.domain}`, 'urn:example:nothing'))).toBe('item-not-found');
    });
  });
});
