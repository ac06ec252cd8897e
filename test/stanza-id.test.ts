import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Element, JID, NS, x } from '@parley/xmpp';
import { type TestServer, startTestServer } from './support/server.js';
import { TestClient } from './support/client.js';
import { delay } from './support/raw.js';

const PASSWORD = 'secret-pw';

function chat(to: string, id: string, ...extra: Element[]): Element {
  return x('message', NS.CLIENT, { type: 'chat', to, id }, x('body', NS.CLIENT, {}, id), ...extra);
}

function stanzaIds(message: Element): { by?: string; id?: string }[] {
  return message.getChildren('stanza-id', NS.STANZA_ID).map((el) => ({ by: el.attr('by'), id: el.attr('id') }));
}

function withBody(body: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.getChildText('body', NS.CLIENT) === body;
}

let nextQuery = 1;

/** Queries the client's own archive and returns the archive ids and the forwarded messages. */
async function archive(client: TestClient): Promise<{ ids: string[]; messages: Element[] }> {
  const queryid = `q${nextQuery++}`;
  const iqId = `iq-${queryid}`;
  client.send(x('iq', NS.CLIENT, { type: 'set', id: iqId }, x('query', NS.MAM, { queryid })));
  const ids: string[] = [];
  const messages: Element[] = [];
  for (;;) {
    const el = await client.next((candidate) => candidate.getChild('result', NS.MAM)?.attr('queryid') === queryid || candidate.attr('id') === iqId, 5000);
    if (el.name === 'iq') return { ids, messages };
    const result = el.getChild('result', NS.MAM)!;
    ids.push(result.attr('id') ?? '');
    messages.push(result.getChild('forwarded', NS.FORWARD)!.getChild('message', NS.CLIENT)!);
  }
}

describe('stanza ids', () => {
  let server: TestServer;
  const clients: TestClient[] = [];
  let nextUser = 1;

  async function accounts(count: number): Promise<string[]> {
    const names = Array.from({ length: count }, () => `sid${nextUser++}`);
    for (const name of names) await server.createAccount(name, PASSWORD);
    return names;
  }

  async function connect(username: string, presence = false): Promise<TestClient> {
    const client = await TestClient.connect(server, { username, password: PASSWORD, presence });
    clients.push(client);
    return client;
  }

  function bare(username: string): string {
    return `${username}@${server.domain}`;
  }

  /** Waits until the account has `count` offline messages. */
  async function waitForOffline(username: string, count: number): Promise<void> {
    const deadline = Date.now() + 5000;
    while ((await server.server.storage.offline.count(server.domain, username)) < count) {
      if (Date.now() > deadline) throw new Error(`${username} has fewer than ${count} offline messages`);
      await delay(20);
    }
  }

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
  });

  afterAll(async () => {
    await server.stop();
  });

  it('are an account feature', async () => {
    const [a] = await accounts(1);
    const alice = await connect(a!);
    const reply = await alice.iq(x('iq', NS.CLIENT, { type: 'get', to: bare(a!) }, x('query', NS.DISCO_INFO)));
    const features = reply.getChild('query', NS.DISCO_INFO)?.getChildren('feature', NS.DISCO_INFO).map((el) => el.attr('var'));
    expect(features).toEqual(expect.arrayContaining([NS.STANZA_ID, NS.MAM, NS.MAM_EXTENDED, NS.FULLTEXT]));
  });

  it("stamp the recipient's archive id on a delivered message", async () => {
    const [a, b] = await accounts(2);
    const alice = await connect(a!);
    const bob = await connect(b!, true);
    alice.send(chat(bare(b!), 'hello'));
    const received = await bob.next(withBody('hello'));
    expect(stanzaIds(received)).toEqual([{ by: bare(b!), id: (await archive(bob)).ids[0] }]);
  });

  it('give each archive its own id', async () => {
    const [a, b] = await accounts(2);
    const alice = await connect(a!);
    const bob = await connect(b!, true);
    alice.send(chat(bare(b!), 'hello'));
    await bob.next(withBody('hello'));
    expect((await archive(alice)).ids[0]).not.toBe((await archive(bob)).ids[0]);
  });

  it('stamp a message to oneself', async () => {
    const [a] = await accounts(1);
    const alice = await connect(a!, true);
    alice.send(chat(bare(a!), 'note'));
    const received = await alice.next(withBody('note'));
    expect(stanzaIds(received)).toEqual([{ by: bare(a!), id: (await archive(alice)).ids[0] }]);
  });

  it('stamp a message delivered from offline storage', async () => {
    const [a, b] = await accounts(2);
    const alice = await connect(a!);
    alice.send(chat(bare(b!), 'later'));
    await waitForOffline(b!, 1);
    const bob = await connect(b!, true);
    const received = await bob.next(withBody('later'));
    expect(stanzaIds(received)).toEqual([{ by: bare(b!), id: (await archive(bob)).ids[0] }]);
  });

  it('replace a stanza id a client forged for the recipient', async () => {
    const [a, b] = await accounts(2);
    const alice = await connect(a!);
    const bob = await connect(b!, true);
    alice.send(chat(bare(b!), 'forged', x('stanza-id', NS.STANZA_ID, { by: bare(b!), id: 'forged-id' })));
    const received = await bob.next(withBody('forged'));
    expect(stanzaIds(received).map((sid) => sid.id)).not.toContain('forged-id');
  });

  it('remove a stanza id a client forged for the server', async () => {
    const [a, b] = await accounts(2);
    const alice = await connect(a!);
    const bob = await connect(b!, true);
    alice.send(chat(bare(b!), 'forged', x('stanza-id', NS.STANZA_ID, { by: server.domain, id: 'forged-id' })));
    const received = await bob.next(withBody('forged'));
    expect(stanzaIds(received).map((sid) => sid.by)).toEqual([bare(b!)]);
  });

  it('keep a stanza id by another entity', async () => {
    const [a, b] = await accounts(2);
    const alice = await connect(a!);
    const bob = await connect(b!, true);
    alice.send(chat(bare(b!), 'foreign', x('stanza-id', NS.STANZA_ID, { by: 'room@muc.elsewhere.test', id: 'r1' })));
    const received = await bob.next(withBody('foreign'));
    expect(stanzaIds(received).map((sid) => sid.by)).toContain('room@muc.elsewhere.test');
  });

  it('keep the origin-id in the archive', async () => {
    const [a, b] = await accounts(2);
    const alice = await connect(a!);
    alice.send(chat(bare(b!), 'kept', x('origin-id', NS.STANZA_ID, { id: 'origin-1' })));
    const [message] = (await archive(alice)).messages;
    expect(message?.getChild('origin-id', NS.STANZA_ID)?.attr('id')).toBe('origin-1');
  });

  describe('a message re-sent with the same origin-id', () => {
    let bobName: string;
    let bob: TestClient;
    let first: Element;

    beforeAll(async () => {
      const [a, b] = await accounts(2);
      bobName = b!;
      bob = await TestClient.connect(server, { username: b!, password: PASSWORD, presence: true });
      const alice = await TestClient.connect(server, { username: a!, password: PASSWORD });
      alice.send(chat(bare(b!), 'once', x('origin-id', NS.STANZA_ID, { id: 'resent-1' })));
      first = await bob.next(withBody('once'));
      alice.kill();
      const again = await TestClient.connect(server, { username: a!, password: PASSWORD });
      again.send(chat(bare(b!), 'once', x('origin-id', NS.STANZA_ID, { id: 'resent-1' })));
      again.send(chat(bare(b!), 'marker'));
      await bob.next(withBody('marker'));
      await again.close();
    });

    afterAll(async () => {
      await bob.close();
    });

    it('reaches the recipient once', async () => {
      await expect(bob.nothing(withBody('once'), 300)).resolves.toBeUndefined();
    });

    it('is archived once', async () => {
      const { messages } = await archive(bob);
      expect(messages.map((message) => message.getChildText('body', NS.CLIENT))).toEqual(['once', 'marker']);
    });

    it('was delivered the first time', () => {
      expect(stanzaIds(first).map((sid) => sid.by)).toEqual([bare(bobName)]);
    });
  });

  it('stamp a message the server routes', async () => {
    const [b] = await accounts(1);
    const bob = await connect(b!, true);
    const notice = x('message', NS.CLIENT, { type: 'normal', from: server.domain, to: bare(b!), id: 'notice' }, x('body', NS.CLIENT, {}, 'maintenance'));
    await server.server.router.route(notice, JID.parse(server.domain), JID.parse(bare(b!)));
    const received = await bob.next(withBody('maintenance'));
    expect(stanzaIds(received)).toEqual([{ by: bare(b!), id: (await archive(bob)).ids[0] }]);
  });

  it('sort after the ids issued before a restart', async () => {
    const [a, b] = await accounts(2);
    const before = await connect(a!);
    before.send(chat(bare(b!), 'before'));
    const [first] = (await archive(before)).ids;
    await before.close();
    await server.restart();
    const after = await connect(a!);
    after.send(chat(bare(b!), 'after'));
    const { ids } = await archive(after);
    expect(ids[0]).toBe(first);
    expect(ids[1]! > first!).toBe(true);
  });

  it('let the same origin-id through from another sender', async () => {
    const [a, b, c] = await accounts(3);
    const alice = await connect(a!);
    const carol = await connect(c!);
    const bob = await connect(b!, true);
    alice.send(chat(bare(b!), 'from alice', x('origin-id', NS.STANZA_ID, { id: 'shared' })));
    await bob.next(withBody('from alice'));
    carol.send(chat(bare(b!), 'from carol', x('origin-id', NS.STANZA_ID, { id: 'shared' })));
    expect((await bob.next(withBody('from carol'))).attr('id')).toBe('from carol');
  });
});
