import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Element, JID, NS, type DataForm, fieldValue, parseForm, serialize, x } from '@parley/xmpp';
import { startTestServer, type TestServer } from './support/server.js';
import { TestClient, login, openClientStream } from './support/client.js';
import { RawConnection, delay, streamErrorCondition } from './support/raw.js';
import { adminSetOk, createRoom, roomJid } from './support/muc.js';

const PUSH_SERVICE = 'push.example.test';
const SECRET = 'app server component secret';
const PASSWORD = 'push-test-password';
const NS_PUSH = 'urn:xmpp:push:0';
const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
const PUBLISH_OPTIONS = 'http://jabber.org/protocol/pubsub#publish-options';
/** How long a test waits to be sure that no notification comes. */
const QUIET_MS = 400;

/** The app server: an external component (XEP-0114) that receives the publishes. */
class AppServer {
  private constructor(readonly connection: RawConnection) {}

  static async connect(port: number): Promise<AppServer> {
    const connection = await RawConnection.tcp(port);
    connection.write(`<?xml version='1.0'?><stream:stream xmlns='${NS.COMPONENT}' xmlns:stream='${NS.STREAM}' to='${PUSH_SERVICE}'>`);
    for (let i = 0; i < 100 && connection.header === undefined && !connection.isClosed; i++) await delay(20);
    const id = connection.header?.attr('id');
    if (id === undefined) throw new Error('the component stream did not open');
    connection.write(`<handshake>${createHash('sha1').update(id + SECRET).digest('hex')}</handshake>`);
    const reply = await connection.next((el) => el.name === 'handshake' || streamErrorCondition(el) !== undefined, 3000);
    if (reply.name !== 'handshake') throw new Error(`component handshake failed: ${reply.toString()}`);
    return new AppServer(connection);
  }

  /** Waits for the next publish from `account` (a bare JID). */
  next(account: string, timeoutMs = 3000): Promise<Element> {
    return this.connection.next((el) => el.name === 'iq' && el.attr('type') === 'set' && el.attr('from') === account, timeoutMs);
  }

  /** Fails if a publish from `account` arrives within `ms`. */
  nothing(account: string, ms = QUIET_MS): Promise<void> {
    return this.connection.nothing((el) => el.name === 'iq' && el.attr('from') === account, ms);
  }

  /** Waits for the next publish from `account` and replies to it with a result. */
  async accept(account: string): Promise<Element> {
    const publish = await this.next(account);
    this.reply(publish);
    return publish;
  }

  reply(publish: Element, error?: { type: string; condition: string }): void {
    const attrs = { type: error ? 'error' : 'result', id: publish.attr('id'), from: PUSH_SERVICE, to: publish.attr('from') };
    const payload = error ? x('error', NS.COMPONENT, { type: error.type }, x(error.condition, NS.STANZAS)) : undefined;
    this.connection.write(serialize(x('iq', NS.COMPONENT, attrs, payload), NS.COMPONENT));
  }

  close(): void {
    this.connection.destroy();
  }
}

/** The parts of a publish that tests look at. */
interface Publish {
  node: string | undefined;
  summary: DataForm;
  options: DataForm | undefined;
}

function readPublish(iq: Element): Publish {
  const pubsub = iq.getChild('pubsub', NS_PUBSUB);
  const publish = pubsub?.getChild('publish', NS_PUBSUB);
  const form = publish?.getChild('item', NS_PUBSUB)?.getChild('notification', NS_PUSH)?.getChild('x', NS.DATA_FORMS);
  if (!form) throw new Error(`not a push notification: ${iq.toString()}`);
  const options = pubsub?.getChild('publish-options', NS_PUBSUB)?.getChild('x', NS.DATA_FORMS);
  return { node: publish?.attr('node'), summary: parseForm(form), options: options && parseForm(options) };
}

function enableIq(node: string, options?: Record<string, string>, service = PUSH_SERVICE): Element {
  const enable = x('enable', NS_PUSH, { jid: service, node });
  if (options) {
    const form = x('x', NS.DATA_FORMS, { type: 'submit' }, x('field', NS.DATA_FORMS, { var: 'FORM_TYPE' }, x('value', NS.DATA_FORMS, {}, PUBLISH_OPTIONS)));
    for (const [name, value] of Object.entries(options)) form.append(x('field', NS.DATA_FORMS, { var: name }, x('value', NS.DATA_FORMS, {}, value)));
    enable.append(form);
  }
  return x('iq', NS.CLIENT, { type: 'set' }, enable);
}

function errorCondition(reply: Element): string | undefined {
  return reply.getChild('error')?.getChildByNs(NS.STANZAS)?.name;
}

function chat(to: string, body: string): Element {
  return x('message', NS.CLIENT, { to, type: 'chat' }, x('body', NS.CLIENT, {}, body));
}

interface Fixture {
  server: TestServer;
  app: AppServer;
  clients: TestClient[];
  count: number;
}

async function startFixture(push: Record<string, unknown>): Promise<Fixture> {
  const server = await startTestServer({ listen: { component_port: 0 }, components: [{ domain: PUSH_SERVICE, secret: SECRET }], push });
  const app = await AppServer.connect(server.server.addresses.component!);
  return { server, app, clients: [], count: 0 };
}

async function stopFixture(fixture: Fixture | undefined): Promise<void> {
  if (!fixture) return;
  for (const client of fixture.clients) client.kill();
  fixture.app.close();
  await fixture.server.stop();
}

/** Creates fresh accounts, so that no registration of an earlier test interferes. */
async function accounts(fixture: Fixture, ...names: string[]): Promise<string[]> {
  fixture.count++;
  const usernames = names.map((name) => `${name}${fixture.count}`);
  for (const username of usernames) await fixture.server.createAccount(username, PASSWORD);
  return usernames.map((username) => `${username}@${fixture.server.domain}`);
}

async function connect(fixture: Fixture, bare: string, resource = 'phone'): Promise<TestClient> {
  const client = await TestClient.connect(fixture.server, { username: JID.parse(bare).local, password: PASSWORD, resource, presence: true });
  fixture.clients.push(client);
  return client;
}

async function enablePush(client: TestClient, node: string, options?: Record<string, string>): Promise<void> {
  const reply = await client.iq(enableIq(node, options));
  expect(reply.attr('type')).toBe('result');
}

/** Closes the client's stream and waits until the server has no session of the account left. */
async function goOffline(fixture: Fixture, client: TestClient): Promise<void> {
  await client.close();
  const deadline = Date.now() + 3000;
  while (fixture.server.server.sessions.resources(client.jid).length > 0) {
    if (Date.now() > deadline) throw new Error(`${client.jid.toString()} is still online`);
    await delay(10);
  }
}

async function waitForHibernation(fixture: Fixture, jid: JID): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!fixture.server.server.sessions.get(jid)?.hibernating) {
    if (Date.now() > deadline) throw new Error(`${jid.toString()} did not hibernate`);
    await delay(10);
  }
}

/** Enables stream management resumption, drops the connection, waits until the session hibernates and returns the resumption id. */
async function hibernate(fixture: Fixture, client: TestClient): Promise<string> {
  client.send(x('enable', NS.SM, { resume: 'true' }));
  const enabled = await client.next((el) => el.ns === NS.SM && (el.name === 'enabled' || el.name === 'failed'));
  expect(enabled.name).toBe('enabled');
  client.kill();
  await waitForHibernation(fixture, client.jid);
  return enabled.attr('id')!;
}

/** Resumes the hibernating session `previd` of `jid` on a new connection, then drops that one too. */
async function resumeAndDrop(fixture: Fixture, jid: JID, previd: string): Promise<void> {
  const { connection } = await openClientStream(fixture.server, 'starttls');
  expect((await login(connection, 'SCRAM-SHA-256', jid.local, PASSWORD)).name).toBe('success');
  await connection.openStream();
  connection.send(x('resume', NS.SM, { previd, h: '0' }));
  const resumed = await connection.next((el) => el.ns === NS.SM && (el.name === 'resumed' || el.name === 'failed'), 3000);
  expect(resumed.name).toBe('resumed');
  connection.destroy();
  await waitForHibernation(fixture, jid);
}

describe('push notifications (XEP-0357)', () => {
  let fixture: Fixture;

  beforeAll(async () => {
    fixture = await startFixture({ min_interval_ms: 0 });
  });

  afterAll(async () => {
    await stopFixture(fixture);
  });

  it('announces urn:xmpp:push:0 on the account', async () => {
    const [bob] = await accounts(fixture, 'bob');
    const client = await connect(fixture, bob!);
    const reply = await client.iq(x('iq', NS.CLIENT, { type: 'get', to: bob }, x('query', NS.DISCO_INFO)));
    const features = reply.getChild('query', NS.DISCO_INFO)!.getChildren('feature').map((feature) => feature.attr('var'));
    expect(features).toContain(NS_PUSH);
  });

  it('rejects invalid enable requests', async () => {
    const [alice, bob] = await accounts(fixture, 'alice', 'bob');
    const client = await connect(fixture, bob!);

    const noNode = x('iq', NS.CLIENT, { type: 'set' }, x('enable', NS_PUSH, { jid: PUSH_SERVICE }));
    expect(errorCondition(await client.iq(noNode))).toBe('bad-request');
    const noJid = x('iq', NS.CLIENT, { type: 'set' }, x('enable', NS_PUSH, { node: 'n' }));
    expect(errorCondition(await client.iq(noJid))).toBe('bad-request');
    expect(errorCondition(await client.iq(enableIq('n', undefined, alice)))).toBe('not-acceptable');
    expect(errorCondition(await client.iq(enableIq('n', undefined, 'a@@b')))).toBe('jid-malformed');

    const wrongForm = enableIq('n');
    wrongForm.getChild('enable', NS_PUSH)!.append(x('x', NS.DATA_FORMS, { type: 'submit' }, x('field', NS.DATA_FORMS, { var: 'FORM_TYPE' }, x('value', NS.DATA_FORMS, {}, 'urn:example:other'))));
    expect(errorCondition(await client.iq(wrongForm))).toBe('bad-request');

    // Another account cannot enable push for bob.
    const other = await connect(fixture, alice!);
    const foreign = enableIq('n');
    foreign.setAttr('to', bob!);
    expect(errorCondition(await other.iq(foreign))).toBe('forbidden');
  });

  it('pushes to an offline account', async () => {
    const [alice, bob] = await accounts(fixture, 'alice', 'bob');
    const sender = await connect(fixture, alice!);
    const receiver = await connect(fixture, bob!);
    await enablePush(receiver, 'node-offline', { secret: 's3cret' });
    await goOffline(fixture, receiver);

    sender.send(chat(bob!, 'are you there?'));
    const publish = readPublish(await fixture.app.accept(bob!));
    expect(publish.node).toBe('node-offline');
    expect(fieldValue(publish.summary, 'FORM_TYPE')).toBe('urn:xmpp:push:summary');
    expect(fieldValue(publish.summary, 'message-count')).toBe('1');
    expect(fieldValue(publish.summary, 'last-message-sender')).toBe(sender.jid.toString());
    expect(fieldValue(publish.summary, 'last-message-body')).toBeUndefined();
    expect(publish.options).toBeDefined();
    expect(fieldValue(publish.options!, 'FORM_TYPE')).toBe(PUBLISH_OPTIONS);
    expect(fieldValue(publish.options!, 'secret')).toBe('s3cret');

    sender.send(chat(bob!, 'hello?'));
    const second = readPublish(await fixture.app.accept(bob!));
    expect(fieldValue(second.summary, 'message-count')).toBe('2');
  });

  it('pushes nothing for messages without a body', async () => {
    const [alice, bob] = await accounts(fixture, 'alice', 'bob');
    const sender = await connect(fixture, alice!);
    const receiver = await connect(fixture, bob!);
    await enablePush(receiver, 'node-quiet');
    await goOffline(fixture, receiver);

    sender.send(x('message', NS.CLIENT, { to: bob, type: 'chat' }, x('composing', NS.CHATSTATES)));
    sender.send(x('message', NS.CLIENT, { to: bob }, x('received', 'urn:xmpp:receipts', { id: 'm1' })));
    await fixture.app.nothing(bob!);
  });

  it('pushes nothing while the session is connected', async () => {
    const [alice, bob] = await accounts(fixture, 'alice', 'bob');
    const sender = await connect(fixture, alice!);
    const receiver = await connect(fixture, bob!);
    await enablePush(receiver, 'node-online');

    sender.send(chat(bob!, 'you are online'));
    await receiver.next((el) => el.name === 'message' && el.getChildText('body') === 'you are online');
    await fixture.app.nothing(bob!);
  });

  it('pushes to a hibernating session', async () => {
    const [alice, bob] = await accounts(fixture, 'alice', 'bob');
    const sender = await connect(fixture, alice!);
    const receiver = await connect(fixture, bob!);
    await enablePush(receiver, 'node-sm');
    const previd = await hibernate(fixture, receiver);

    sender.send(x('message', NS.CLIENT, { to: bob, type: 'chat' }, x('composing', NS.CHATSTATES)));
    await fixture.app.nothing(bob!);
    sender.send(chat(bob!, 'wake up'));
    const first = readPublish(await fixture.app.accept(bob!));
    expect(first.node).toBe('node-sm');
    expect(fieldValue(first.summary, 'message-count')).toBe('1');
    sender.send(chat(bob!, 'wake up now'));
    expect(fieldValue(readPublish(await fixture.app.accept(bob!)).summary, 'message-count')).toBe('2');

    await resumeAndDrop(fixture, receiver.jid, previd);
    sender.send(chat(bob!, 'back again?'));
    expect(fieldValue(readPublish(await fixture.app.accept(bob!)).summary, 'message-count')).toBe('1');
  });

  it('pushes unacknowledged messages when a session starts to hibernate', async () => {
    const [alice, bob] = await accounts(fixture, 'alice', 'bob');
    const sender = await connect(fixture, alice!);
    const receiver = await connect(fixture, bob!);
    await enablePush(receiver, 'node-silent');
    receiver.send(x('enable', NS.SM, { resume: 'true' }));
    expect((await receiver.next((el) => el.ns === NS.SM && (el.name === 'enabled' || el.name === 'failed'))).name).toBe('enabled');

    sender.send(chat(bob!, 'lost in a dead socket'));
    await receiver.next((el) => el.name === 'message' && el.getChildText('body') === 'lost in a dead socket');
    await fixture.app.nothing(bob!);

    receiver.kill();
    await waitForHibernation(fixture, receiver.jid);
    const publish = readPublish(await fixture.app.accept(bob!));
    expect(publish.node).toBe('node-silent');
    expect(fieldValue(publish.summary, 'message-count')).toBe('1');
    expect(fieldValue(publish.summary, 'last-message-sender')).toBe(sender.jid.toString());
  });

  it('stops pushing after disable', async () => {
    const [alice, bob] = await accounts(fixture, 'alice', 'bob');
    const sender = await connect(fixture, alice!);
    const receiver = await connect(fixture, bob!);
    await enablePush(receiver, 'node-a');
    await enablePush(receiver, 'node-b');
    const disable = await receiver.iq(x('iq', NS.CLIENT, { type: 'set' }, x('disable', NS_PUSH, { jid: PUSH_SERVICE, node: 'node-a' })));
    expect(disable.attr('type')).toBe('result');
    await goOffline(fixture, receiver);

    sender.send(chat(bob!, 'only node b'));
    expect(readPublish(await fixture.app.accept(bob!)).node).toBe('node-b');
    await fixture.app.nothing(bob!);

    const again = await connect(fixture, bob!, 'laptop');
    const all = await again.iq(x('iq', NS.CLIENT, { type: 'set' }, x('disable', NS_PUSH, { jid: PUSH_SERVICE })));
    expect(all.attr('type')).toBe('result');
    await goOffline(fixture, again);
    sender.send(chat(bob!, 'nobody listens'));
    await fixture.app.nothing(bob!);
  });

  it('removes registration after item-not-found', async () => {
    const [alice, bob] = await accounts(fixture, 'alice', 'bob');
    const sender = await connect(fixture, alice!);
    const receiver = await connect(fixture, bob!);
    await enablePush(receiver, 'node-gone');
    await goOffline(fixture, receiver);

    sender.send(chat(bob!, 'first'));
    fixture.app.reply(await fixture.app.next(bob!), { type: 'cancel', condition: 'item-not-found' });
    await delay(100);
    sender.send(chat(bob!, 'second'));
    await fixture.app.nothing(bob!);
  });

  it('keeps registration after transient error', async () => {
    const [alice, bob] = await accounts(fixture, 'alice', 'bob');
    const sender = await connect(fixture, alice!);
    const receiver = await connect(fixture, bob!);
    await enablePush(receiver, 'node-busy');
    await goOffline(fixture, receiver);

    sender.send(chat(bob!, 'first'));
    fixture.app.reply(await fixture.app.next(bob!), { type: 'wait', condition: 'resource-constraint' });
    await delay(100);
    sender.send(chat(bob!, 'second'));
    expect(fieldValue(readPublish(await fixture.app.accept(bob!)).summary, 'message-count')).toBe('2');
  });

  it('pushes a room message to an offline member', async () => {
    const [owner, member] = await accounts(fixture, 'owner', 'member');
    const o = await connect(fixture, owner!);
    const m = await connect(fixture, member!);
    await enablePush(m, 'node-room');
    const room = roomJid(`push${fixture.count}`);
    await createRoom(o, `${room}/boss`);
    await adminSetOk(o, room, { jid: member!, affiliation: 'member' });
    await goOffline(fixture, m);

    o.send(x('message', NS.CLIENT, { to: room, type: 'groupchat' }, x('body', NS.CLIENT, {}, 'meeting at noon')));
    const publish = readPublish(await fixture.app.accept(member!));
    expect(fieldValue(publish.summary, 'last-message-sender')).toBe(`${room}/boss`);
    await fixture.app.nothing(owner!);
  });
});

describe('push notifications with bodies and a rate limit', () => {
  let fixture: Fixture;

  beforeAll(async () => {
    fixture = await startFixture({ include_body: true, min_interval_ms: 500 });
  });

  afterAll(async () => {
    await stopFixture(fixture);
  });

  it('includes the body when configured', async () => {
    const [alice, bob] = await accounts(fixture, 'alice', 'bob');
    const sender = await connect(fixture, alice!);
    const receiver = await connect(fixture, bob!);
    await enablePush(receiver, 'node-body');
    await goOffline(fixture, receiver);

    sender.send(chat(bob!, 'lunch?'));
    const publish = readPublish(await fixture.app.accept(bob!));
    expect(fieldValue(publish.summary, 'last-message-body')).toBe('lunch?');
    expect(publish.options).toBeUndefined();
  });

  it('sums up messages within interval', async () => {
    const [alice, bob] = await accounts(fixture, 'alice', 'bob');
    const sender = await connect(fixture, alice!);
    const receiver = await connect(fixture, bob!);
    await enablePush(receiver, 'node-rate');
    await goOffline(fixture, receiver);

    sender.send(chat(bob!, 'one'));
    const first = readPublish(await fixture.app.accept(bob!));
    expect(fieldValue(first.summary, 'message-count')).toBe('1');
    sender.send(chat(bob!, 'two'));
    sender.send(chat(bob!, 'three'));
    await fixture.app.nothing(bob!, 200);

    const second = readPublish(await fixture.app.accept(bob!));
    expect(fieldValue(second.summary, 'message-count')).toBe('3');
    expect(fieldValue(second.summary, 'last-message-body')).toBe('three');
    await fixture.app.nothing(bob!, 700);
  });
});
