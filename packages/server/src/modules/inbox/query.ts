/**
 * The inbox query (XEP-0430 in MongooseIM's dialect): a data form of filters, result set
 * management (XEP-0059), one message per entry, then `<fin/>` with the totals.
 */
import { randomBytes } from 'node:crypto';
import {
  type DataForm,
  type Element,
  NS,
  StanzaError,
  buildForm,
  buildRsmResult,
  fieldBoolean,
  fieldValue,
  getFormType,
  parseForm,
  parseRsm,
  x,
} from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';
import { type InboxFilter, type InboxPage, InvalidInboxCursorError } from '../../storage/index.js';
import { parseTimestamp } from '../mam/query.js';
import { NS_INBOX } from './ns.js';
import type { InboxPushes } from './pushes.js';
import { entryMessage, entryResult } from './render.js';

/** Entries per page without a `<max/>`, and the most one page gets. */
export const MAX_PAGE_SIZE = 100;

const BOXES: ReadonlySet<string> = new Set(['inbox', 'archive', 'all']);
const ORDERS: ReadonlySet<string> = new Set(['asc', 'desc']);

/** Returns the form a client fills in to query the inbox. */
export function queryFormElement(): Element {
  const form: DataForm = {
    type: 'form',
    fields: [
      { var: 'FORM_TYPE', type: 'hidden', values: [NS_INBOX] },
      { var: 'start', type: 'text-single', values: [] },
      { var: 'end', type: 'text-single', values: [] },
      { var: 'order', type: 'list-single', values: ['desc'], options: [{ value: 'asc' }, { value: 'desc' }] },
      { var: 'hidden_read', type: 'boolean', values: ['false'] },
      { var: 'box', type: 'list-single', values: ['all'], options: [{ value: 'all' }, { value: 'inbox' }, { value: 'archive' }] },
      { var: 'archive', type: 'boolean', values: [] },
    ],
  };
  return x('inbox', NS_INBOX, {}, buildForm(form));
}

/** Reads the filters of a query; no form lists every entry, newest activity first. */
export function parseInboxFilter(inbox: Element): InboxFilter {
  const filter: InboxFilter = { box: 'all', hiddenRead: false, order: 'desc' };
  const formElement = inbox.getChild('x', NS.DATA_FORMS);
  if (!formElement) return filter;
  const form = parseForm(formElement);
  if (form.type !== 'submit') throw new StanzaError('bad-request', 'The inbox query form must be of type submit.');
  const formType = getFormType(form);
  if (formType !== undefined && formType !== NS_INBOX) throw new StanzaError('bad-request', `Unknown FORM_TYPE "${formType}".`);

  const start = fieldValue(form, 'start');
  if (start) filter.start = parseTimestamp(start, 'start');
  const end = fieldValue(form, 'end');
  if (end) filter.end = parseTimestamp(end, 'end');
  filter.hiddenRead = fieldBoolean(form, 'hidden_read') ?? false;
  filter.order = readChoice(form, 'order', ORDERS, 'desc') as InboxFilter['order'];
  filter.box = readChoice(form, 'box', BOXES, 'all') as InboxFilter['box'];
  // The 'archive' boolean of XEP-0430 and older MongooseIM versions picks one box when 'box' is absent.
  const archive = fieldBoolean(form, 'archive');
  if (archive !== undefined && fieldValue(form, 'box') === undefined) filter.box = archive ? 'archive' : 'inbox';
  return filter;
}

function readChoice(form: DataForm, name: string, allowed: ReadonlySet<string>, fallback: string): string {
  const value = fieldValue(form, name)?.trim();
  if (value === undefined || value === '') return fallback;
  if (!allowed.has(value)) throw new StanzaError('bad-request', `Invalid value "${value}" for ${name}; expected one of ${[...allowed].join(', ')}.`);
  return value;
}

/**
 * Handles a query set: sends one message per entry of the page to the requesting session,
 * subscribes that session to pushes, and returns `<fin/>`.
 */
export async function runInboxQuery(server: ServerContext, pushes: InboxPushes, request: IqRequest): Promise<Element> {
  if (!request.self) throw new StanzaError('forbidden', 'Only the owner may query an inbox.');
  const filter = parseInboxFilter(request.payload);
  const rsm = parseRsm(request.payload.getChild('set', NS.RSM), MAX_PAGE_SIZE);
  const owner = request.from.bare();

  // Messages routed before the query are recorded, though their batch may not have committed yet.
  await server.storage.batch.drained();
  let page: InboxPage;
  try {
    page = await server.storage.inbox.page({ host: owner.domain, username: owner.local }, filter, rsm);
  } catch (err) {
    if (err instanceof InvalidInboxCursorError) throw new StanzaError('item-not-found', `No inbox entry with the uid "${err.uid}".`);
    throw err;
  }

  const session = request.session ?? server.sessions.get(request.from);
  if (session) {
    pushes.subscribe(session);
    const queryId = request.payload.attr('queryid');
    const now = Date.now();
    for (const entry of page.entries) session.send(entryMessage(owner, request.from, randomBytes(9).toString('base64url'), entryResult(entry, now, queryId)));
  }
  return finElement(page);
}

/** Builds `<fin/>`: the totals over every matching entry, then the page description. */
function finElement(page: InboxPage): Element {
  const set = buildRsmResult({ first: page.uids[0], firstIndex: page.firstIndex, last: page.uids.at(-1), count: page.count });
  return x(
    'fin',
    NS_INBOX,
    {},
    x('active-conversations', NS_INBOX, {}, String(page.activeCount)),
    x('count', NS_INBOX, {}, String(page.count)),
    x('unread-messages', NS_INBOX, {}, String(page.unreadCount)),
    set,
  );
}
