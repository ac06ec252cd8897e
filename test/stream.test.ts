import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, NS, x } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient, bindResource, login, openClientStream } from './support/client.js';
import { RawConnection, TEST_DOMAIN, delay, streamErrorCondition } from './support/raw.js';
import { MUC_SERVICE, createRoom, enter, enterSeen } from './support/muc.js';

const MAX_STANZA_BYTES = 10_000;
const PASSWORD = 'correct horse';

let server: TestServer;
let resourceCounter = 0;

beforeAll(async () => {
  server = await startTestServer({ sessions: { max_stanza_bytes: MAX_STANZA_BYTES } });
  for (const name of ['alice', 'bob', 'carol']) await server.createAccount(name, PASSWORD);
});

afterAll(async () => {
  await server?.stop();
});

function connect(username: string, options: { presence?: boolean; resource?: string } = {}): Promise<TestClient> {
  return TestClient.connect(server, { username, password: PASSWORD, resource: options.resource ?? `r${++resourceCounter}`, presence: options.presence });
}

/** Opens a plain TCP connection to the c2s port (allowed: the connection comes from loopback). */
function rawTcp(): Promise<RawConnection> {
  return RawConnection.tcp(server.c2sPort);
}

function isMessage(el: Element): boolean {
  return el.name === 'message';
}

function errorCondition(stanza: Element): string | undefined {
  return stanza.getChild('error')?.getChildByNs(NS.STANZAS)?.name;
}

/** Checks that a new client can still log in and get a result for a ping. */
async function expectServerStillServes(): Promise<void> {
  const client = await connect('carol');
  const pong = await client.ping();
  expect(pong.attr('type')).toBe('result');
  await client.close();
}

/** Sends `data` after the stream is open and returns the stream error condition. */
async function streamErrorAfterOpen(data: string): Promise<string> {
  const connection = await rawTcp();
  await connection.openStream();
  connection.write(data);
  const condition = await connection.streamError();
  await connection.waitForClose(3000);
  return condition;
}

describe('stream header', () => {
  it('rejects an unknown domain with host-unknown', async () => {
    const connection = await rawTcp();
    connection.writeStreamHeader({ to: 'elsewhere.test', version: '1.0' });
    expect(await connection.streamError()).toBe('host-unknown');
    await connection.waitForClose(3000);
    await expectServerStillServes();
  });

  it('rejects a missing version with unsupported-version', async () => {
    const connection = await rawTcp();
    connection.writeStreamHeader({ to: TEST_DOMAIN });
    expect(await connection.streamError()).toBe('unsupported-version');
    await expectServerStillServes();
  });

  it('rejects a wrong stream namespace with invalid-namespace', async () => {
    const connection = await rawTcp();
    connection.write(`<?xml version='1.0'?><stream:stream xmlns='${NS.CLIENT}' xmlns:stream='urn:example:not-streams' to='${TEST_DOMAIN}' version='1.0'>`);
    expect(await connection.streamError()).toBe('invalid-namespace');
    await expectServerStillServes();
  });

  it('answers with its own header and features', async () => {
    const connection = await rawTcp();
    const features = await connection.openStream();
    expect(connection.header?.attr('from')).toBe(TEST_DOMAIN);
    expect(connection.header?.attr('version')).toBe('1.0');
    expect(connection.header?.attr('id')).toMatch(/.{8,}/);
    expect(features.getChild('starttls', NS.TLS)).toBeDefined();
    connection.destroy();
  });
});

describe('stream errors', () => {
  it('rejects a stanza before authentication with not-authorized', async () => {
    expect(await streamErrorAfterOpen(`<message to='bob@${TEST_DOMAIN}'><body>early</body></message>`)).toBe('not-authorized');
    await expectServerStillServes();
  });

  it('closes without an error of its own on a client stream error', async () => {
    const connection = await rawTcp();
    await connection.openStream();
    connection.write(`<stream:error><connection-timeout xmlns='${NS.STREAMS}'/></stream:error>`);
    await connection.waitForStreamEnd(3000);
    await connection.waitForClose(3000);
    expect(connection.unread().filter((el) => el.name === 'error' && el.ns === NS.STREAM)).toEqual([]);
    await expectServerStillServes();
  });

  it('rejects malformed XML with not-well-formed', async () => {
    expect(await streamErrorAfterOpen('<message><body>x</message>')).toBe('not-well-formed');
    await expectServerStillServes();
  });

  it('rejects a DTD with entity expansion with restricted-xml', async () => {
    const connection = await rawTcp();
    const levels = ['<!ENTITY lol0 "lol">'];
    for (let i = 1; i <= 9; i++) levels.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`);
    connection.write(`<?xml version='1.0'?><!DOCTYPE stream:stream [${levels.join('')}]>`);
    connection.write(`<stream:stream xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAM}' to='${TEST_DOMAIN}' version='1.0'><message><body>&lol9;</body></message>`);
    expect(await connection.streamError()).toBe('restricted-xml');
    await connection.waitForClose(3000);
    await expectServerStillServes();
  });

  it('rejects a comment with restricted-xml', async () => {
    expect(await streamErrorAfterOpen('<!-- a comment -->')).toBe('restricted-xml');
    await expectServerStillServes();
  });

  it('rejects a processing instruction with restricted-xml', async () => {
    expect(await streamErrorAfterOpen("<?xml-stylesheet href='a.xsl'?>")).toBe('restricted-xml');
    await expectServerStillServes();
  });

  it('rejects an undeclared entity with restricted-xml', async () => {
    expect(await streamErrorAfterOpen(`<message to='bob@${TEST_DOMAIN}'><body>&nbsp;</body></message>`)).toBe('restricted-xml');
    await expectServerStillServes();
  });

  it('rejects an oversized stanza with policy-violation', async () => {
    const alice = await connect('alice');
    const body = 'x'.repeat(MAX_STANZA_BYTES + 100);
    alice.send(`<message to='bob@${TEST_DOMAIN}' type='chat'><body>${body}</body></message>`);
    expect(await alice.streamError()).toBe('policy-violation');
    await alice.connection.waitForClose(3000);
    await expectServerStillServes();
  });

  it('accepts a stanza just under the size limit', async () => {
    const alice = await connect('alice');
    const pong = alice.iq(x('iq', NS.CLIENT, { type: 'get', to: TEST_DOMAIN }, x('ping', NS.PING, { note: 'y'.repeat(MAX_STANZA_BYTES - 200) })));
    expect((await pong).attr('type')).toBe('result');
    await alice.close();
  });
});

describe('whitespace keepalive', () => {
  it('ignores whitespace between and before stanzas', async () => {
    const { connection } = await openClientStream(server, 'starttls');
    const outcome = await login(connection, 'SCRAM-SHA-256', 'alice', PASSWORD);
    expect(outcome.name).toBe('success');
    await connection.openStream();

    connection.write(' ');
    await bindResource(connection, 'keepalive');
    connection.write(' ');
    connection.send(x('iq', NS.CLIENT, { type: 'get', id: 'ka-1', to: TEST_DOMAIN }, x('ping', NS.PING)));
    connection.write(' ');
    connection.send(x('presence', NS.CLIENT));
    expect((await connection.next((el) => el.attr('id') === 'ka-1')).attr('type')).toBe('result');

    for (let i = 0; i < 20; i++) {
      connection.write(' ');
      await delay(100);
    }
    connection.send(x('iq', NS.CLIENT, { type: 'get', id: 'ka-2', to: TEST_DOMAIN }, x('ping', NS.PING)));
    expect((await connection.next((el) => el.attr('id') === 'ka-2')).attr('type')).toBe('result');
    expect(connection.unread().filter((el) => streamErrorCondition(el) !== undefined)).toEqual([]);
    expect(connection.isClosed).toBe(false);
    connection.destroy();
  });
});

describe('UTF-8 on the wire', () => {
  const ID = '日本';
  const BODY = 'Grüße 日本語 🎉';
  const STANZA = Buffer.from(`<message to='bob@${TEST_DOMAIN}' id='${ID}' type='chat'><body>${BODY}</body></message>`, 'utf8');

  let alice: TestClient;
  let bob: TestClient;

  beforeAll(async () => {
    bob = await connect('bob', { presence: true, resource: 'utf8' });
    alice = await connect('alice', { resource: 'utf8' });
  });

  afterAll(async () => {
    await alice?.close();
    await bob?.close();
  });

  async function expectDelivered(): Promise<void> {
    const message = await bob.next((el) => isMessage(el) && el.attr('id') === ID, 3000);
    expect([...(message.attr('id') ?? '')]).toEqual([...ID]);
    expect([...(message.getChildText('body') ?? '')]).toEqual([...BODY]);
  }

  it('reassembles a stanza split at every byte offset', async () => {
    for (let offset = 1; offset < STANZA.length; offset++) {
      alice.write(STANZA.subarray(0, offset));
      await delay(3);
      alice.write(STANZA.subarray(offset));
      await expectDelivered();
      expect((await alice.ping()).attr('type')).toBe('result');
    }
  });

  it('reassembles a stanza written one byte at a time', async () => {
    for (const byte of STANZA) {
      alice.write(Buffer.from([byte]));
      await delay(2);
    }
    await expectDelivered();
  });

  for (const sequence of ['c33c', 'c0af', 'eda080']) {
    it(`ends the stream on invalid UTF-8 ${sequence}`, async () => {
      const sender = await connect('alice');
      const id = `bad-${sequence}`;
      sender.write(
        Buffer.concat([
          Buffer.from(`<message to='bob@${TEST_DOMAIN}' id='${id}' type='chat'><body>before `),
          Buffer.from(sequence, 'hex'),
          Buffer.from(' after</body></message>'),
        ]),
      );
      expect(['unsupported-encoding', 'not-well-formed']).toContain(await sender.streamError(2000));
      await bob.nothing((el) => el.attr('id') === id, 500);
    });
  }
});

describe('addressing', () => {
  let alice: TestClient;
  let carol: TestClient;

  beforeAll(async () => {
    carol = await connect('carol', { presence: true, resource: 'addressing' });
    alice = await connect('alice', { resource: 'addressing' });
  });

  afterAll(async () => {
    await alice?.close();
    await carol?.close();
  });

  it('replaces a spoofed from with the sender full JID', async () => {
    alice.send(x('message', NS.CLIENT, { from: `bob@${TEST_DOMAIN}/x`, to: `carol@${TEST_DOMAIN}`, type: 'chat', id: 'spoof' }, x('body', NS.CLIENT, {}, 'hi')));
    const message = await carol.next((el) => el.attr('id') === 'spoof');
    expect(message.attr('from')).toBe(alice.jid.toString());
  });

  it('bounces a message to an unknown account with service-unavailable', async () => {
    alice.send(x('message', NS.CLIENT, { to: `nobody@${TEST_DOMAIN}`, type: 'chat', id: 'unknown' }, x('body', NS.CLIENT, {}, 'hi')));
    const reply = await alice.next((el) => el.attr('id') === 'unknown');
    expect(reply.attr('type')).toBe('error');
    expect(errorCondition(reply)).toBe('service-unavailable');
  });

  it('bounces a message to another domain with remote-server-not-found', async () => {
    alice.send(x('message', NS.CLIENT, { to: 'someone@elsewhere.test', type: 'chat', id: 'remote' }, x('body', NS.CLIENT, {}, 'hi')));
    const reply = await alice.next((el) => el.attr('id') === 'remote');
    expect(reply.attr('type')).toBe('error');
    expect(errorCondition(reply)).toBe('remote-server-not-found');
  });

  it('rejects a malformed to with jid-malformed', async () => {
    alice.send(x('message', NS.CLIENT, { to: `user@@${TEST_DOMAIN}`, type: 'chat', id: 'malformed' }, x('body', NS.CLIENT, {}, 'hi')));
    const reply = await alice.next((el) => el.attr('id') === 'malformed');
    expect(reply.attr('type')).toBe('error');
    expect(errorCondition(reply)).toBe('jid-malformed');
  });
});

describe('resource conflict', () => {
  async function withPolicy(policy: 'replace' | 'reject' | 'rename', run: (conflictServer: TestServer) => Promise<void>): Promise<void> {
    const conflictServer = await startTestServer({ sessions: { resource_conflict: policy } });
    try {
      await conflictServer.createAccount('alice', PASSWORD);
      await run(conflictServer);
    } finally {
      await conflictServer.stop();
    }
  }

  it('replace closes the old session with conflict', async () => {
    await withPolicy('replace', async (conflictServer) => {
      const first = await TestClient.connect(conflictServer, { username: 'alice', password: PASSWORD, resource: 'desk' });
      const second = await TestClient.connect(conflictServer, { username: 'alice', password: PASSWORD, resource: 'desk' });
      expect(await first.streamError()).toBe('conflict');
      expect(second.jid.resource).toBe('desk');
      expect((await second.ping()).attr('type')).toBe('result');
      await second.close();
    });
  });

  it('replace waits for old teardown', async () => {
    await withPolicy('replace', async (conflictServer) => {
      await conflictServer.createAccount('bob', PASSWORD);
      const room = `conflict@${MUC_SERVICE}`;
      const bob = await TestClient.connect(conflictServer, { username: 'bob', password: PASSWORD, resource: 'r', presence: true });
      await createRoom(bob, `${room}/bob`);
      const first = await TestClient.connect(conflictServer, { username: 'alice', password: PASSWORD, resource: 'desk', presence: true });
      await enterSeen(first, `${room}/alice`, [bob]);

      // A slow teardown, as with storage under load: the old session's unavailable presence comes late.
      const order: string[] = [];
      conflictServer.server.hooks.on('session/closed', async ({ session }) => {
        if (session.jid?.resource !== 'desk') return;
        await delay(300);
        order.push('old session ended');
      }, { priority: 1000 });
      conflictServer.server.hooks.on('session/bound', ({ session }) => {
        if (session.jid?.resource === 'desk') order.push('new session bound');
      });

      const second = await TestClient.connect(conflictServer, { username: 'alice', password: PASSWORD, resource: 'desk', presence: true });
      expect(await first.streamError()).toBe('conflict');
      await enter(second, `${room}/alice`);
      expect(order).toEqual(['old session ended', 'new session bound']);

      const fromAlice = (el: Element) => el.name === 'presence' && el.attr('from') === `${room}/alice`;
      expect((await bob.next(fromAlice, 5000)).attr('type')).toBe('unavailable');
      expect((await bob.next(fromAlice, 5000)).attr('type')).toBeUndefined();
      await second.close();
      await bob.close();
    });
  });

  it('reject refuses the new binding with conflict', async () => {
    await withPolicy('reject', async (conflictServer) => {
      const first = await TestClient.connect(conflictServer, { username: 'alice', password: PASSWORD, resource: 'desk' });
      const { connection } = await openClientStream(conflictServer, 'starttls');
      expect((await login(connection, 'SCRAM-SHA-256', 'alice', PASSWORD)).name).toBe('success');
      await connection.openStream();
      connection.send(x('iq', NS.CLIENT, { type: 'set', id: 'bind-2' }, x('bind', NS.BIND, {}, x('resource', NS.BIND, {}, 'desk'))));
      const reply = await connection.next((el) => el.attr('id') === 'bind-2');
      expect(reply.attr('type')).toBe('error');
      expect(errorCondition(reply)).toBe('conflict');
      expect((await first.ping()).attr('type')).toBe('result');
      connection.destroy();
      await first.close();
    });
  });

  it('rename gives the new session another resource', async () => {
    await withPolicy('rename', async (conflictServer) => {
      const first = await TestClient.connect(conflictServer, { username: 'alice', password: PASSWORD, resource: 'desk' });
      const second = await TestClient.connect(conflictServer, { username: 'alice', password: PASSWORD, resource: 'desk' });
      expect(second.jid.resource).not.toBe('desk');
      expect((await first.ping()).attr('type')).toBe('result');
      expect((await second.ping()).attr('type')).toBe('result');
      await first.close();
      await second.close();
    });
  });
});

describe('stream close', () => {
  it('answers the client close with its own', async () => {
    const alice = await connect('alice');
    alice.write('</stream:stream>');
    await alice.connection.waitForStreamEnd(2000);
    expect(alice.connection.streamEnded).toBe(true);
    await alice.connection.waitForClose(3000);
  });
});
