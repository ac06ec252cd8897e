/**
 * The search protocol of the directory (XEP-0055): the search form a client fetches, the
 * query it submits (as a data form, XEP-0004, or in the older fixed fields), and the
 * results, paged with RSM (XEP-0059).
 */
import { type DataForm, type Element, type FormField, NS, StanzaError, buildForm, buildRsmResult, fieldValue, getFormType, parseForm, parseRsm, x } from '@parley/xmpp';
import type { Config } from '../../config.js';
import type { DirectoryEntry, DirectoryPage, DirectoryQuery, DirectoryPageRequest } from '../../storage/index.js';
import { queryPrefixes } from './terms.js';

export const NS_SEARCH = 'jabber:iq:search';

/** Profile fields a result may show besides the JID (config `directory.fields`). */
export type ResultField = Config['directory']['fields'][number];

/** Prefixes per searched field; every prefix must match. */
const MAX_PREFIXES = 8;

const INSTRUCTIONS = 'Search the organisation directory by name, username or email, by department or by title. Chinese names also match by full pinyin (zhangsan) and by initials (zs).';

const SEARCH_FIELDS: FormField[] = [
  { var: 'FORM_TYPE', type: 'hidden', values: [NS_SEARCH] },
  { var: 'text', type: 'text-single', label: 'Name, username or email', values: [] },
  { var: 'department', type: 'text-single', label: 'Department', values: [] },
  { var: 'title', type: 'text-single', label: 'Title', values: [] },
];

const RESULT_LABELS: Record<ResultField, string> = { name: 'Name', department: 'Department', title: 'Title', email: 'Email' };

/** Builds the reply to a search get: instructions, the older fixed fields and the form (XEP-0055 sections 2 and 3). */
export function searchForm(): Element {
  const form: DataForm = { type: 'form', title: 'Directory search', instructions: [INSTRUCTIONS], fields: SEARCH_FIELDS };
  return x(
    'query',
    NS_SEARCH,
    {},
    x('instructions', NS_SEARCH, {}, INSTRUCTIONS),
    x('first', NS_SEARCH),
    x('last', NS_SEARCH),
    x('nick', NS_SEARCH),
    x('email', NS_SEARCH),
    buildForm(form),
  );
}

/** A parsed search set: what to match, how to page, and whether the client used the form. */
export interface SearchRequest {
  query: DirectoryQuery;
  page: DirectoryPageRequest;
  usesForm: boolean;
}

/** Reads a search set; throws bad-request for a malformed form or RSM set. */
export function parseSearch(payload: Element, maxResults: number): SearchRequest {
  const rsm = parseRsm(payload.getChild('set', NS.RSM), maxResults);
  const formElement = payload.getChild('x', NS.DATA_FORMS);
  const query = formElement ? queryFromForm(parseForm(formElement)) : queryFromFields(payload);
  return { query, page: rsm, usesForm: formElement !== undefined };
}

function queryFromForm(form: DataForm): DirectoryQuery {
  if (form.type !== 'submit') throw new StanzaError('bad-request', `The search form must have type "submit", not "${form.type}".`);
  const formType = getFormType(form);
  if (formType !== undefined && formType !== NS_SEARCH) throw new StanzaError('bad-request', `The search form has FORM_TYPE ${formType}, not ${NS_SEARCH}.`);
  return {
    text: prefixes('text', fieldValue(form, 'text')),
    department: prefixes('department', fieldValue(form, 'department')),
    title: prefixes('title', fieldValue(form, 'title')),
  };
}

/** Reads the fixed fields of XEP-0055 section 2: first, last and nick search names, email searches addresses. */
function queryFromFields(payload: Element): DirectoryQuery {
  const parts = ['first', 'last', 'nick', 'email'].map((name) => payload.getChildText(name, NS_SEARCH) ?? '');
  return { text: prefixes('text', parts.join(' ')) };
}

function prefixes(field: string, value: string | undefined): string[] {
  const result = queryPrefixes(value ?? '');
  if (result.length > MAX_PREFIXES) throw new StanzaError('not-acceptable', `The ${field} field has ${result.length} words; at most ${MAX_PREFIXES} are searched.`);
  return result;
}

/** Builds the result of a search in the shape the client asked in: a result form, or `<item/>` elements. */
export function searchResult(request: SearchRequest, page: DirectoryPage, fields: ResultField[]): Element {
  const items = request.usesForm ? [resultForm(page.entries, fields)] : page.entries.map((entry) => legacyItem(entry, fields));
  const first = page.entries[0];
  const last = page.entries.at(-1);
  const set = buildRsmResult({ first: first && jidOf(first), firstIndex: first && page.firstIndex, last: last && jidOf(last), count: page.count });
  return x('query', NS_SEARCH, {}, ...items, set);
}

function resultForm(entries: DirectoryEntry[], fields: ResultField[]): Element {
  const reported: FormField[] = [{ var: 'jid', type: 'jid-single', label: 'JID', values: [] }];
  for (const field of fields) reported.push({ var: field, type: 'text-single', label: RESULT_LABELS[field], values: [] });

  const items = entries.map((entry) => {
    const row: FormField[] = [{ var: 'jid', values: [jidOf(entry)] }];
    for (const field of fields) row.push({ var: field, values: [valueOf(entry, field)] });
    return row;
  });
  return buildForm({ type: 'result', fields: [{ var: 'FORM_TYPE', type: 'hidden', values: [NS_SEARCH] }], reported, items });
}

/** Builds an `<item/>` of XEP-0055 section 2 with the name as nick, and the email when it is visible. */
function legacyItem(entry: DirectoryEntry, fields: ResultField[]): Element {
  const item = x('item', NS_SEARCH, { jid: jidOf(entry) });
  if (fields.includes('name')) item.append(x('nick', NS_SEARCH, {}, entry.displayName ?? entry.username));
  if (fields.includes('email')) item.append(x('email', NS_SEARCH, {}, entry.email ?? ''));
  return item;
}

function valueOf(entry: DirectoryEntry, field: ResultField): string {
  switch (field) {
    case 'name':
      return entry.displayName ?? entry.username;
    case 'department':
      return entry.departmentName ?? '';
    case 'title':
      return entry.title ?? '';
    case 'email':
      return entry.email ?? '';
    default:
      return '';
  }
}

function jidOf(entry: DirectoryEntry): string {
  return `${entry.username}@${entry.host}`;
}
