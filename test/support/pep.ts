/** Helpers for personal eventing tests: clients with entity capabilities, roster setup and pubsub requests. */
import { type Element, NS, readStanzaErrorCondition, x } from '@parley/xmpp';
import { capsHash } from '../../packages/server/src/modules/disco/caps.js';
import type { Subscription } from '../../packages/server/src/storage/index.js';
import { TestClient } from './client.js';
import type { TestServer } from './server.js';

export const PUBSUB = 'http://jabber.org/protocol/pubsub';
export const PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
export const PUBSUB_OWNER = 'http://jabber.org/protocol/pubsub#owner';
export const PUBSUB_ERRORS = 'http://jabber.org/protocol/pubsub#errors';
export const PASSWORD = 'pep secret';
const CAPS_NODE = 'https://test.parley.im';

let clientCounter = 0;

/** The `<c/>` each client of `online` announced, so that a test can send the same caps again. */
export const announcedCaps = new WeakMap<TestClient, Element>();

/** Builds the disco#info `<query/>` of a test client with `features`; `name` makes its 'ver' unique. */
export function clientInfo(name: string, features: string[], node?: string): Element {
  return x(
    'query',
    NS.DISCO_INFO,
    { node },
    x('identity', NS.DISCO_INFO, { category: 'client', type: 'pc', name }),
    ...[NS.DISCO_INFO, NS.CAPS, ...features].map((feature) => x('feature', NS.DISCO_INFO, { var: feature })),
  );
}

function isCapsQuery(el: Element): boolean {
  return el.name === 'iq' && el.attr('type') === 'get' && el.getChild('query', NS.DISCO_INFO)?.attr('node')?.startsWith(`${CAPS_NODE}#`) === true;
}

export interface OnlineOptions {
  resource?: string;
  /** Features announced through entity capabilities; undefined sends presence without `<c/>`. */
  features?: string[];
  /** Sends this 'ver' instead of the right hash, to test verification. */
  wrongVer?: boolean;
}

/**
 * Connects `username`, sends available presence with caps for `features` and replies to
 * the server's disco#info query about them. Every client gets a unique identity name, so
 * its 'ver' is new and the server always sends the query. Resolves once the server has
 * processed the reply and sent the last items it asked for.
 */
export async function online(server: TestServer, username: string, options: OnlineOptions = {}): Promise<TestClient> {
  const resource = options.resource ?? `r${++clientCounter}`;
  const client = await TestClient.connect(server, { username, password: PASSWORD, transport: 'plain', resource });
  const own = client.jid.toString();
  const echo = client.next((el) => el.name === 'presence' && el.attr('from') === own && el.attr('type') === undefined, 5000);

  if (options.features === undefined) {
    client.send(x('presence', NS.CLIENT));
    await echo;
    return client;
  }

  const info = clientInfo(`test client ${clientCounter}`, options.features);
  const ver = options.wrongVer ? 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' : capsHash(info);
  const query = client.next(isCapsQuery, 5000);
  const caps = x('c', NS.CAPS, { hash: 'sha-1', node: CAPS_NODE, ver });
  announcedCaps.set(client, caps);
  client.send(x('presence', NS.CLIENT, {}, caps));
  const request = await query;
  const served = lastItemsSent(server, own);
  const reply = clientInfo(`test client ${clientCounter}`, options.features, request.getChild('query', NS.DISCO_INFO)?.attr('node'));
  client.send(x('iq', NS.CLIENT, { type: 'result', id: request.attr('id'), to: request.attr('from') }, reply));
  await echo;
  await served;
  return client;
}

/** Resolves once the server sent the last PEP items that the available presence of `fullJid` asked for. */
function lastItemsSent(server: TestServer, fullJid: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`The server did not send the last PEP items to ${fullJid} within 5 s.`));
    }, 5000);
    const off = server.server.hooks.on('pep/last-items-sent', ({ session }) => {
      if (session.jid?.toString() !== fullJid) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Stores roster items so that `contact` receives the presence of `owner`: 'from' for the owner, 'to' for the contact. */
export async function sharePresence(server: TestServer, owner: string, contact: string, groups: string[] = []): Promise<void> {
  await putItem(server, owner, contact, 'from', groups);
  await putItem(server, contact, owner, 'to', []);
}

export async function putItem(server: TestServer, user: string, contact: string, subscription: Subscription, groups: string[]): Promise<void> {
  await server.server.storage.roster.put(server.domain, user, {
    contact: `${contact}@${server.domain}`,
    name: null,
    subscription,
    ask: false,
    pendingIn: false,
    pendingInStanza: null,
    approved: false,
    hidden: false,
    groups,
  });
}

/** Builds a publish-options or configuration form with FORM_TYPE `formType`. */
export function form(formType: string, type: string, fields: Record<string, string | string[]>): Element {
  const form = x('x', NS.DATA_FORMS, { type }, x('field', NS.DATA_FORMS, { var: 'FORM_TYPE', type: 'hidden' }, x('value', NS.DATA_FORMS, {}, formType)));
  for (const [name, value] of Object.entries(fields)) {
    const values = Array.isArray(value) ? value : [value];
    form.append(x('field', NS.DATA_FORMS, { var: name }, ...values.map((text) => x('value', NS.DATA_FORMS, {}, text))));
  }
  return form;
}

/** Sends a publish of `payload` as item `id` to `node`, with publish options when given. */
export function publish(client: TestClient, node: string, id: string | undefined, payload: Element, options?: Record<string, string>, to?: string): Promise<Element> {
  const pubsub = x('pubsub', PUBSUB, {}, x('publish', PUBSUB, { node }, x('item', PUBSUB, { id }, payload)));
  if (options) pubsub.append(x('publish-options', PUBSUB, {}, form(`${PUBSUB}#publish-options`, 'submit', options)));
  return client.iq(x('iq', NS.CLIENT, { type: 'set', to }, pubsub));
}

/** Requests the items of `node` at `to` (the own account when undefined). */
export function getItems(client: TestClient, node: string, to?: string, attrs: Record<string, string> = {}, ids: string[] = []): Promise<Element> {
  const items = x('items', PUBSUB, { node, ...attrs }, ...ids.map((id) => x('item', PUBSUB, { id })));
  return client.iq(x('iq', NS.CLIENT, { type: 'get', to }, x('pubsub', PUBSUB, {}, items)));
}

/** Sends an IQ set with `<pubsub xmlns=pubsub#owner/>` around `action`. */
export function ownerSet(client: TestClient, action: Element, to?: string): Promise<Element> {
  return client.iq(x('iq', NS.CLIENT, { type: 'set', to }, x('pubsub', PUBSUB_OWNER, {}, action)));
}

/** Returns the ids of the `<item/>` elements of an items result. */
export function itemIds(reply: Element): string[] {
  const items = reply.getChild('pubsub', PUBSUB)?.getChild('items', PUBSUB);
  return (items?.getChildren('item', PUBSUB) ?? []).map((item) => item.attr('id') ?? '');
}

export function errorCondition(reply: Element): string | undefined {
  const error = reply.getChild('error');
  return error ? readStanzaErrorCondition(error) : undefined;
}

/** Returns the pubsub#errors condition of an error reply. */
export function pubsubCondition(reply: Element): string | undefined {
  return reply.getChild('error')?.getChildByNs(PUBSUB_ERRORS)?.name;
}

/** Matches a notification about `node` from `owner`. */
export function isEvent(owner: string, node: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.attr('from') === owner && el.getChild('event', PUBSUB_EVENT)?.elements()[0]?.attr('node') === node;
}

/** Returns the first `<item/>` or `<retract/>` of a notification's `<items/>`. */
export function eventEntry(message: Element): Element | undefined {
  return message.getChild('event', PUBSUB_EVENT)?.getChild('items', PUBSUB_EVENT)?.elements()[0];
}
