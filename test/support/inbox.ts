/** Helpers for inbox tests: queries, entry properties and pushes (docs/protocol.md, section Inbox). */
import { type Element, NS, x } from '@parley/xmpp';
import type { TestClient } from './client.js';

export const NS_INBOX = 'erlang-solutions.com:xmpp:inbox:0';
export const NS_INBOX_CONVERSATION = 'erlang-solutions.com:xmpp:inbox:0#conversation';
export const NS_PARLEY_INBOX = 'urn:parley:inbox:0';

const WAIT_MS = 5000;
let nextQueryId = 1;

/** One entry as a query result or push shows it. */
export interface InboxItem {
  jid: string;
  kind: string | undefined;
  unread: number;
  body: string | undefined;
  lastId: string | undefined;
  readId: string | undefined;
  pinned: boolean;
  archived: boolean;
  mute: string | undefined;
  read: string | undefined;
  /** The forwarded last message. */
  message: Element | undefined;
}

export interface InboxOutcome {
  items: InboxItem[];
  reply: Element;
  fin: Element | undefined;
}

/** Reads the `<result/>` of a query result or push. */
export function readItem(result: Element): InboxItem {
  const conversation = result.getChild('conversation', NS_PARLEY_INBOX);
  const message = result.getChild('forwarded', NS.FORWARD)?.getChild('message', NS.CLIENT);
  return {
    jid: conversation?.attr('jid') ?? '',
    kind: conversation?.attr('kind'),
    unread: Number(result.attr('unread')),
    body: message?.getChildText('body', NS.CLIENT),
    lastId: conversation?.attr('last-id'),
    readId: conversation?.attr('read-id'),
    pinned: conversation?.attr('pinned') === 'true',
    archived: result.getChildText('archive', NS_INBOX) === 'true',
    mute: result.getChildText('mute', NS_INBOX),
    read: result.getChildText('read', NS_INBOX),
    message,
  };
}

/** Builds a submitted query form from field values. */
export function inboxForm(fields: Record<string, string>): Element {
  const form = x(
    'x',
    NS.DATA_FORMS,
    { type: 'submit' },
    x('field', NS.DATA_FORMS, { var: 'FORM_TYPE', type: 'hidden' }, x('value', NS.DATA_FORMS, {}, NS_INBOX)),
  );
  for (const [name, value] of Object.entries(fields)) form.append(x('field', NS.DATA_FORMS, { var: name }, x('value', NS.DATA_FORMS, {}, value)));
  return form;
}

/** Queries the client's inbox and collects the results that come before the reply. */
export async function queryInbox(client: TestClient, options: { form?: Record<string, string>; rsm?: Element; to?: string } = {}): Promise<InboxOutcome> {
  const queryId = `q${nextQueryId++}`;
  const id = `inbox-${queryId}`;
  const inbox = x('inbox', NS_INBOX, { queryid: queryId }, options.form ? inboxForm(options.form) : undefined, options.rsm);
  client.send(x('iq', NS.CLIENT, { type: 'set', id, to: options.to }, inbox));

  const items: InboxItem[] = [];
  for (;;) {
    const el = await client.next(
      (candidate) =>
        (candidate.name === 'iq' && candidate.attr('id') === id) ||
        (candidate.name === 'message' && candidate.getChild('result', NS_INBOX)?.attr('queryid') === queryId),
      WAIT_MS,
    );
    if (el.name === 'iq') return { items, reply: el, fin: el.getChild('fin', NS_INBOX) };
    items.push(readItem(el.getChild('result', NS_INBOX)!));
  }
}

/** Returns the entry for `jid` from a query, or throws when it is missing. */
export async function entryOf(client: TestClient, jid: string): Promise<InboxItem> {
  const { items } = await queryInbox(client);
  const item = items.find((candidate) => candidate.jid === jid);
  if (!item) throw new Error(`no inbox entry for ${jid}; entries: ${items.map((candidate) => candidate.jid).join(', ')}`);
  return item;
}

/** True for a push (a result without a queryid) of the entry for `jid`. */
export function isPush(jid: string, predicate: (item: InboxItem) => boolean = () => true): (el: Element) => boolean {
  return (el) => {
    if (el.name !== 'message') return false;
    const result = el.getChild('result', NS_INBOX);
    if (!result || result.attr('queryid') !== undefined) return false;
    const item = readItem(result);
    return item.jid === jid && predicate(item);
  };
}

/** Waits for a push of the entry for `jid` that matches `predicate`. */
export async function nextPush(client: TestClient, jid: string, predicate?: (item: InboxItem) => boolean): Promise<InboxItem> {
  const el = await client.next(isPush(jid, predicate), WAIT_MS);
  return readItem(el.getChild('result', NS_INBOX)!);
}

/** Sends an entry property set or get (`#conversation`) with the given children. */
export function conversationIq(client: TestClient, type: 'get' | 'set', jid: string, ...children: Element[]): Promise<Element> {
  return client.iq(x('iq', NS.CLIENT, { type }, x('query', NS_INBOX_CONVERSATION, { jid }, ...children)));
}

/** Builds a property child such as `<archive>true</archive>`. */
export function property(name: string, value: string, ns: string = NS_INBOX_CONVERSATION): Element {
  return x(name, ns, {}, value);
}
