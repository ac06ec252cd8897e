/**
 * Collects what a running Parley server advertises: disco#info of its domain, of an
 * account, of its services and of a room, and the stream features before and after
 * authentication.
 */
import { type Element, NS, x } from '@parley/xmpp';
import { bindResource, login, openClientStream } from '../../test/support/client.js';
import { RawConnection } from '../../test/support/raw.js';
import type { TestServer } from '../../test/support/server.js';
import type { Entity, ProbeName, Stage } from './requirements.js';
import { runProbes, type ProbeResult } from './probes.js';
import { readS2sFeatures } from './s2s-observe.js';

export interface DiscoInfo {
  jid: string;
  identities: { category: string; type: string }[];
  features: string[];
}

export interface StreamFeature {
  name: string;
  ns: string;
}

export interface Observations {
  disco: Partial<Record<Entity, DiscoInfo>>;
  streamFeatures: Record<Stage, StreamFeature[]>;
  probes: Record<ProbeName, ProbeResult>;
}

const USERNAME = 'compliance';
const PASSWORD = 'compliance-password';
const ROOM_NAME = 'compliance';
const IQ_TIMEOUT_MS = 5000;

/** Logs in on `server` and collects everything the requirement table checks. */
export async function observe(server: TestServer): Promise<Observations> {
  await server.createAccount(USERNAME, PASSWORD);

  const preTls = await readPreTlsFeatures(server);
  const { connection, preAuth, postAuth } = await logIn(server);
  try {
    const disco = await readDisco(connection, server.domain);
    return {
      disco,
      streamFeatures: {
        'pre-tls': preTls,
        'pre-auth': listFeatures(preAuth),
        'sasl2-inline': listSasl2Inline(preAuth),
        'post-auth': listFeatures(postAuth),
        ...(await readServerStreamFeatures(server)),
      },
      probes: await runProbes(server),
    };
  } finally {
    connection.destroy();
  }
}

/** Reads the features of a server-to-server stream; both lists are empty when the server does not listen for one. */
async function readServerStreamFeatures(server: TestServer): Promise<Record<'s2s-pre-tls' | 's2s-post-tls', StreamFeature[]>> {
  const port = server.server.addresses.s2s;
  if (port === undefined) return { 's2s-pre-tls': [], 's2s-post-tls': [] };
  const { preTls, postTls } = await readS2sFeatures(port, server.domain);
  return { 's2s-pre-tls': listFeatures(preTls), 's2s-post-tls': listFeatures(postTls) };
}

async function readPreTlsFeatures(server: TestServer): Promise<StreamFeature[]> {
  const connection = await RawConnection.tcp(server.c2sPort);
  try {
    return listFeatures(await connection.openStream());
  } finally {
    connection.destroy();
  }
}

/** Negotiates STARTTLS, SASL (RFC 6120) and resource binding, keeping the features of each step. */
async function logIn(server: TestServer): Promise<{ connection: RawConnection; preAuth: Element; postAuth: Element }> {
  const { connection, features: preAuth } = await openClientStream(server, 'starttls');
  try {
    const outcome = await login(connection, 'SCRAM-SHA-256', USERNAME, PASSWORD);
    if (outcome.name !== 'success') throw new Error(`login of ${USERNAME} failed: ${outcome.toString()}`);

    const postAuth = await connection.openStream();
    await bindResource(connection, 'compliance');
    return { connection, preAuth, postAuth };
  } catch (err) {
    connection.destroy();
    throw err;
  }
}

function listFeatures(features: Element): StreamFeature[] {
  return features.elements().map((el) => ({ name: el.name, ns: el.ns }));
}

/** Lists the inline features of XEP-0388 `<authentication/>` and those of Bind 2 inside it. */
function listSasl2Inline(features: Element): StreamFeature[] {
  const inline = features.getChild('authentication', 'urn:xmpp:sasl:2')?.getChild('inline', 'urn:xmpp:sasl:2');
  if (!inline) return [];

  const listed = listFeatures(inline);
  const bindInline = inline.getChild('bind', 'urn:xmpp:bind:0')?.getChild('inline', 'urn:xmpp:bind:0');
  const bindFeatures = bindInline?.getChildren('feature', 'urn:xmpp:bind:0').map((el) => ({ name: 'feature', ns: el.attr('var') ?? '' })) ?? [];
  return [...listed, ...bindFeatures];
}

async function readDisco(connection: RawConnection, domain: string): Promise<Partial<Record<Entity, DiscoInfo>>> {
  const disco: Partial<Record<Entity, DiscoInfo>> = {
    host: await discoInfo(connection, domain),
    account: await discoInfo(connection, `${USERNAME}@${domain}`),
  };

  for (const jid of await discoItems(connection, domain)) {
    // An item whose disco#info fails or times out, such as an external component that is not connected, is skipped.
    const info = await discoInfo(connection, jid).catch(() => undefined);
    const entity = info && serviceEntity(info);
    if (entity !== undefined && disco[entity] === undefined) disco[entity] = info;
  }

  const muc = disco.muc;
  if (muc) disco.room = await createRoomInfo(connection, `${ROOM_NAME}@${muc.jid}`);
  return disco;
}

/** Names a disco#items entry by its identity: the MUC service, the user directory or an upload service. */
function serviceEntity(info: DiscoInfo): Entity | undefined {
  const has = (category: string, type: string) => info.identities.some((id) => id.category === category && id.type === type);
  if (has('conference', 'text')) return 'muc';
  if (has('directory', 'user')) return 'directory';
  if (has('store', 'file')) return 'upload';
  return undefined;
}

/** Creates an instant room (XEP-0045 section 10.1.2) and returns its disco#info as its owner sees it. */
async function createRoomInfo(connection: RawConnection, room: string): Promise<DiscoInfo> {
  const selfPresence = connection.next((el) => el.name === 'presence' && el.attr('from') === `${room}/owner`, IQ_TIMEOUT_MS);
  connection.send(x('presence', NS.CLIENT, { to: `${room}/owner` }, x('x', 'http://jabber.org/protocol/muc')));
  const presence = await selfPresence;
  if (presence.attr('type') === 'error') throw new Error(`entering ${room} failed: ${presence.toString()}`);

  const form = x('x', NS.DATA_FORMS, { type: 'submit' });
  await iq(connection, x('iq', NS.CLIENT, { type: 'set', to: room }, x('query', 'http://jabber.org/protocol/muc#owner', {}, form)));
  return discoInfo(connection, room);
}

async function discoInfo(connection: RawConnection, jid: string): Promise<DiscoInfo> {
  const reply = await iq(connection, x('iq', NS.CLIENT, { type: 'get', to: jid }, x('query', NS.DISCO_INFO)));
  const query = reply.getChild('query', NS.DISCO_INFO);
  const identities = query?.getChildren('identity', NS.DISCO_INFO).map((el) => ({ category: el.attr('category') ?? '', type: el.attr('type') ?? '' })) ?? [];
  const features = query?.getChildren('feature', NS.DISCO_INFO).map((el) => el.attr('var') ?? '') ?? [];
  return { jid, identities, features };
}

async function discoItems(connection: RawConnection, jid: string): Promise<string[]> {
  const reply = await iq(connection, x('iq', NS.CLIENT, { type: 'get', to: jid }, x('query', NS.DISCO_ITEMS)));
  const items = reply.getChild('query', NS.DISCO_ITEMS)?.getChildren('item', NS.DISCO_ITEMS) ?? [];
  return items.map((el) => el.attr('jid') ?? '').filter((itemJid) => itemJid !== '');
}

let nextIqId = 1;

/** Sends an IQ and returns its result; an error reply throws with the stanza in the message. */
async function iq(connection: RawConnection, stanza: Element): Promise<Element> {
  const id = `compliance-${nextIqId++}`;
  stanza.setAttr('id', id);
  const reply = connection.next((el) => el.name === 'iq' && el.attr('id') === id, IQ_TIMEOUT_MS);
  connection.send(stanza);

  const answer = await reply;
  if (answer.attr('type') !== 'result') throw new Error(`IQ to ${stanza.attr('to') ?? 'the server'} failed: ${answer.toString()}`);
  return answer;
}
