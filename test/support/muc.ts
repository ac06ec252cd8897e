/**
 * Helpers for multi-user chat tests (XEP-0045): entering rooms, reading the muc#user
 * payload of presence, room configuration forms and muc#admin requests.
 */
import { type DataForm, type Element, type FormField, NS, buildForm, parseForm, readStanzaErrorCondition, x } from '@parley/xmpp';
import type { TestClient } from './client.js';

export const NS_MUC = 'http://jabber.org/protocol/muc';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
export const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin';
export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner';
export const NS_MUC_ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig';
export const NS_MUC_REQUEST = 'http://jabber.org/protocol/muc#request';
/** The MUC service every test server runs by default. */
export const MUC_SERVICE = 'conference.example.test';

const WAIT_MS = 3000;

/** Field values of a room configuration form, keyed by var. Booleans become "1" or "0". */
export type ConfigValues = Record<string, string | string[] | boolean>;

export interface EnterOptions {
  password?: string;
  /** Attributes of `<history/>`: maxchars, maxstanzas, seconds, since. */
  history?: Record<string, string>;
  id?: string;
  timeoutMs?: number;
}

/** The presence stanzas a client received when it entered a room, in arrival order. */
export interface Entered {
  /** Presence of the occupants who were already in the room. */
  others: Element[];
  /** The self-presence, with status code 110. */
  self: Element;
}

/** Returns the bare room JID of an occupant JID. */
export function roomOf(occupant: string): string {
  const slash = occupant.indexOf('/');
  return slash === -1 ? occupant : occupant.slice(0, slash);
}

/** Returns the room JID `name@conference.example.test`. */
export function roomJid(name: string): string {
  return `${name}@${MUC_SERVICE}`;
}

/** Builds the presence that enters a room: `<x xmlns='http://jabber.org/protocol/muc'/>` with an optional password and history request. */
export function enterPresence(occupant: string, options: EnterOptions = {}): Element {
  const mucElement = x('x', NS_MUC);
  if (options.password !== undefined) mucElement.append(x('password', NS_MUC, {}, options.password));
  if (options.history) mucElement.append(x('history', NS_MUC, options.history));
  return x('presence', NS.CLIENT, { to: occupant, id: options.id }, mucElement);
}

/** Returns a predicate matching stanzas whose `from` is the room or one of its occupant JIDs. */
export function isFromRoom(room: string): (el: Element) => boolean {
  return (el) => {
    const from = el.attr('from') ?? '';
    return from === room || from.startsWith(`${room}/`);
  };
}

/** Returns the `<x xmlns='http://jabber.org/protocol/muc#user'/>` children of a stanza. */
export function userElements(stanza: Element): Element[] {
  return stanza.getChildren('x', NS_MUC_USER);
}

/** Returns the `<item/>` of the muc#user payload, if any. */
export function userItem(stanza: Element): Element | undefined {
  return userElements(stanza)[0]?.getChild('item', NS_MUC_USER);
}

/** Returns the status codes of the muc#user payload, in document order. */
export function statusCodes(stanza: Element): string[] {
  const payload = userElements(stanza)[0];
  if (!payload) return [];
  return payload.getChildren('status', NS_MUC_USER).map((status) => status.attr('code') ?? '');
}

export function hasStatus(stanza: Element, code: string): boolean {
  return statusCodes(stanza).includes(code);
}

/** Returns the condition and type of a stanza's `<error/>`, or undefined when it has none. */
export function stanzaError(stanza: Element): { condition: string | undefined; type: string | undefined } | undefined {
  const error = stanza.getChild('error');
  if (!error) return undefined;
  return { condition: readStanzaErrorCondition(error), type: error.attr('type') };
}

/** Returns a predicate matching presence from `from` with the given type (undefined for available) and all `codes`. */
export function isPresence(from: string, options: { type?: string; codes?: string[] } = {}): (el: Element) => boolean {
  return (el) =>
    el.name === 'presence' &&
    el.attr('from') === from &&
    el.attr('type') === options.type &&
    (options.codes ?? []).every((code) => hasStatus(el, code));
}

/** Waits for presence from an occupant JID, with the given type and status codes. */
export function waitForPresence(client: TestClient, from: string, options: { type?: string; codes?: string[]; timeoutMs?: number } = {}): Promise<Element> {
  return client.next(isPresence(from, options), options.timeoutMs ?? WAIT_MS);
}

/** Waits for an error presence from `from`. */
export function waitForPresenceError(client: TestClient, from: string, timeoutMs = WAIT_MS): Promise<Element> {
  return client.next((el) => el.name === 'presence' && el.attr('from') === from && el.attr('type') === 'error', timeoutMs);
}

/** Raised when the room rejects an entry with an error presence. */
export class EnterError extends Error {
  constructor(readonly presence: Element) {
    super(`entering the room failed: ${presence.toString()}`);
  }
}

/**
 * Enters a room and collects the room's presence stanzas up to the self-presence
 * (status code 110). Throws EnterError when the room returns an error presence.
 */
export async function enter(client: TestClient, occupant: string, options: EnterOptions = {}): Promise<Entered> {
  const fromRoom = isFromRoom(roomOf(occupant));
  const others: Element[] = [];
  client.send(enterPresence(occupant, options));

  for (;;) {
    const presence = await client.next((el) => el.name === 'presence' && fromRoom(el), options.timeoutMs ?? WAIT_MS);
    if (presence.attr('type') === 'error') throw new EnterError(presence);
    if (presence.attr('type') === undefined && hasStatus(presence, '110')) return { others, self: presence };
    others.push(presence);
  }
}

/** Enters a room and waits until each client in `occupants` has received the new occupant's presence. */
export async function enterSeen(client: TestClient, occupant: string, occupants: TestClient[], options: EnterOptions = {}): Promise<Entered> {
  const entered = await enter(client, occupant, options);
  const from = entered.self.attr('from') ?? occupant;
  await Promise.all(occupants.map((other) => other.next(isPresence(from), options.timeoutMs ?? WAIT_MS)));
  return entered;
}

/** Tries to enter a room and returns the error presence. Throws when the room lets the client in. */
export async function enterRejected(client: TestClient, occupant: string, options: EnterOptions = {}): Promise<Element> {
  try {
    const entered = await enter(client, occupant, options);
    throw new Error(`the room let the client in: ${entered.self.toString()}`);
  } catch (err) {
    if (err instanceof EnterError) return err.presence;
    throw err;
  }
}

/** Leaves a room and waits for the unavailable self-presence. */
export async function leave(client: TestClient, occupant: string): Promise<Element> {
  const self = waitForPresence(client, occupant, { type: 'unavailable', codes: ['110'] });
  client.send(x('presence', NS.CLIENT, { to: occupant, type: 'unavailable' }));
  return self;
}

/**
 * Creates a room: enters it (expecting status code 201), then accepts the default
 * configuration (an instant room) or, with `config`, submits the configuration form.
 * Returns the self-presence.
 */
export async function createRoom(client: TestClient, occupant: string, config?: ConfigValues): Promise<Element> {
  const { self } = await enter(client, occupant);
  if (!hasStatus(self, '201')) throw new Error(`the room already existed: ${self.toString()}`);

  const room = roomOf(occupant);
  const reply = config === undefined ? await requestInstantRoom(client, room) : await configureRoom(client, room, config);
  if (reply.attr('type') !== 'result') throw new Error(`configuring ${room} failed: ${reply.toString()}`);
  return self;
}

/** Sends the empty submitted form that accepts the default configuration and returns the reply. */
export function requestInstantRoom(client: TestClient, room: string): Promise<Element> {
  const query = x('query', NS_MUC_OWNER, {}, x('x', NS.DATA_FORMS, { type: 'submit' }));
  return client.iq(x('iq', NS.CLIENT, { type: 'set', to: room }, query));
}

/** Requests the room configuration form and returns the reply. */
export function requestConfigForm(client: TestClient, room: string): Promise<Element> {
  return client.iq(x('iq', NS.CLIENT, { type: 'get', to: room }, x('query', NS_MUC_OWNER)));
}

/** Returns the configuration form of a room. Throws when the reply contains none. */
export async function getConfigForm(client: TestClient, room: string): Promise<DataForm> {
  const reply = await requestConfigForm(client, room);
  const formElement = reply.getChild('query', NS_MUC_OWNER)?.getChild('x', NS.DATA_FORMS);
  if (reply.attr('type') !== 'result' || !formElement) throw new Error(`no configuration form for ${room}: ${reply.toString()}`);
  return parseForm(formElement);
}

/**
 * Fetches the configuration form, sets `values` and submits every field, as a client
 * does. Returns the reply to the submission, and throws when the form lacks a field.
 */
export async function configureRoom(client: TestClient, room: string, values: ConfigValues): Promise<Element> {
  const form = await getConfigForm(client, room);
  const missing = Object.keys(values).filter((name) => !form.fields.some((field) => field.var === name));
  if (missing.length > 0) throw new Error(`the configuration form of ${room} has no field ${missing.join(', ')}`);

  const fields: FormField[] = [];
  for (const field of form.fields) {
    if (field.var === undefined || field.type === 'fixed') continue;
    const value = values[field.var];
    fields.push({ var: field.var, values: value === undefined ? field.values : formValues(value) });
  }
  const submit = buildForm({ type: 'submit', fields });
  return client.iq(x('iq', NS.CLIENT, { type: 'set', to: room }, x('query', NS_MUC_OWNER, {}, submit)));
}

function formValues(value: string | string[] | boolean): string[] {
  if (typeof value === 'boolean') return [value ? '1' : '0'];
  return typeof value === 'string' ? [value] : value;
}

/** The attributes and reason of one muc#admin `<item/>`. */
export interface AdminItem {
  nick?: string;
  jid?: string;
  role?: string;
  affiliation?: string;
  reason?: string;
}

/** Builds a muc#admin IQ to a room. */
export function adminIq(room: string, type: 'get' | 'set', items: AdminItem[]): Element {
  const query = x('query', NS_MUC_ADMIN);
  for (const { reason, ...attrs } of items) {
    query.append(x('item', NS_MUC_ADMIN, { ...attrs }, reason === undefined ? undefined : x('reason', NS_MUC_ADMIN, {}, reason)));
  }
  return x('iq', NS.CLIENT, { type, to: room }, query);
}

/** Sends a muc#admin set with `items` and returns the reply. */
export function adminSet(client: TestClient, room: string, ...items: AdminItem[]): Promise<Element> {
  return client.iq(adminIq(room, 'set', items));
}

/** Sends a muc#admin set and throws unless the room returns a result. */
export async function adminSetOk(client: TestClient, room: string, ...items: AdminItem[]): Promise<void> {
  const reply = await adminSet(client, room, ...items);
  if (reply.attr('type') !== 'result') throw new Error(`muc#admin set on ${room} failed: ${reply.toString()}`);
}

/** Requests a role or affiliation list (`{ role: 'participant' }`, `{ affiliation: 'outcast' }`) and returns the reply. */
export function adminGet(client: TestClient, room: string, filter: AdminItem): Promise<Element> {
  return client.iq(adminIq(room, 'get', [filter]));
}

/** Returns the `<item/>` children of a muc#admin result. */
export function adminItems(reply: Element): Element[] {
  return reply.getChild('query', NS_MUC_ADMIN)?.getChildren('item', NS_MUC_ADMIN) ?? [];
}

/** Builds a groupchat message to a room. */
export function groupchat(room: string, body: string, id?: string): Element {
  return x('message', NS.CLIENT, { type: 'groupchat', to: room, id }, x('body', NS.CLIENT, {}, body));
}

/** Builds a subject change: a groupchat message with `<subject/>` and no body. */
export function subjectChange(room: string, subject: string, id?: string): Element {
  return x('message', NS.CLIENT, { type: 'groupchat', to: room, id }, x('subject', NS.CLIENT, {}, subject));
}

/** Returns a predicate matching a groupchat message from `from` with this body. */
export function isGroupchat(from: string, body: string): (el: Element) => boolean {
  return (el) => el.name === 'message' && el.attr('from') === from && el.attr('type') === 'groupchat' && el.getChildText('body', NS.CLIENT) === body;
}

/** Returns a predicate matching a subject change: `<subject/>` and no `<body/>`, from the room or one of its occupants. */
export function isSubjectMessage(room: string): (el: Element) => boolean {
  const fromRoom = isFromRoom(room);
  return (el) => el.name === 'message' && fromRoom(el) && el.getChild('subject', NS.CLIENT) !== undefined && el.getChild('body', NS.CLIENT) === undefined;
}

/** Sends a groupchat message and waits for the room to reflect it back to the sender. */
export async function say(client: TestClient, room: string, nick: string, body: string): Promise<Element> {
  const reflection = client.next(isGroupchat(`${room}/${nick}`, body), WAIT_MS);
  client.send(groupchat(room, body));
  return reflection;
}

/** Returns the field with this var, or undefined. */
export function formField(form: DataForm, name: string): FormField | undefined {
  return form.fields.find((field) => field.var === name);
}

/** Sends a disco#info request, optionally to a node, and returns the reply. */
export function discoInfo(client: TestClient, to: string, node?: string): Promise<Element> {
  return client.iq(x('iq', NS.CLIENT, { type: 'get', to }, x('query', NS.DISCO_INFO, { node })));
}

/** Sends a disco#items request and returns the reply. */
export function discoItems(client: TestClient, to: string): Promise<Element> {
  return client.iq(x('iq', NS.CLIENT, { type: 'get', to }, x('query', NS.DISCO_ITEMS)));
}

/** Returns the feature vars of a disco#info result. */
export function discoFeatures(reply: Element): string[] {
  return reply.getChild('query', NS.DISCO_INFO)?.getChildren('feature', NS.DISCO_INFO).map((el) => el.attr('var') ?? '') ?? [];
}
