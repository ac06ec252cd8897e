import { x, type XElement, type XmppClientLike } from '../../xmpp/index.js';
import { parseFields, parseItems, submitForm, type FormField } from './data-form.js';
import { bare, domainPart } from './jid.js';
import { NS } from './ns.js';

/** One person found in the organisation directory (XEP-0055). */
export interface DirectoryEntry {
  jid: string;
  name: string;
  department?: string;
  title?: string;
  email?: string;
}

export interface DirectoryForm {
  service: string;
  formType?: string;
  /** The field the free text goes into. */
  textField: string;
  /** The form's department field: the free text is searched there too, in a second query. */
  departmentField?: string;
  fields: FormField[];
  /** The server has only the legacy form (XEP-0055 section 2), no data form. */
  legacy: boolean;
}

/** Result rows the client asks for; the server may cap it lower. */
const MAX_RESULTS = 50;
const TEXT_FIELD_NAMES = ['search', 'q', 'text', 'fulltext', 'name', 'fn', 'nick', 'first'];
const DEPARTMENT_FIELD_NAMES = ['department', 'orgunit', 'dept'];

/**
 * Finds the directory service: the first item of the domain's disco#items that announces
 * jabber:iq:search, else the domain itself when it does.
 */
export async function discoverDirectory(client: XmppClientLike): Promise<string | undefined> {
  const domain = domainPart(client.bareJid);
  const items = await client.iq(x('iq', NS.CLIENT, { type: 'get', to: domain }, x('query', NS.DISCO_ITEMS))).catch(() => undefined);
  const candidates = (items?.getChild('query', NS.DISCO_ITEMS)?.getChildren('item', NS.DISCO_ITEMS) ?? [])
    .map((item) => item.attr('jid') ?? '')
    .filter((jid) => jid !== '')
    .slice(0, 20);
  for (const service of [...candidates, domain]) {
    if (await offersSearch(client, service)) return service;
  }
  return undefined;
}

async function offersSearch(client: XmppClientLike, service: string): Promise<boolean> {
  try {
    const info = await client.iq(x('iq', NS.CLIENT, { type: 'get', to: service }, x('query', NS.DISCO_INFO)), 10_000);
    return (info.getChild('query', NS.DISCO_INFO)?.getChildren('feature', NS.DISCO_INFO) ?? []).some((feature) => feature.attr('var') === NS.SEARCH);
  } catch {
    return false;
  }
}

/** Fetches the search form of `service` (XEP-0055 section 3). */
export async function fetchSearchForm(client: XmppClientLike, service: string): Promise<DirectoryForm> {
  const result = await client.iq(x('iq', NS.CLIENT, { type: 'get', to: service }, x('query', NS.SEARCH)));
  const query = result.getChild('query', NS.SEARCH);
  const form = query?.getChild('x', NS.DATA);
  if (!form) {
    const legacyNames = query?.elements().map((child) => child.name) ?? [];
    return { service, textField: legacyNames.find((name) => TEXT_FIELD_NAMES.includes(name)) ?? 'nick', fields: [], legacy: true };
  }
  const fields = parseFields(form);
  const formType = fields.find((field) => field.var === 'FORM_TYPE')?.values[0];
  const visible = fields.filter((field) => field.type !== 'hidden' && field.type !== 'fixed' && field.type !== 'boolean');
  const textField = visible.find((field) => TEXT_FIELD_NAMES.includes(field.var.toLowerCase())) ?? visible[0];
  const departmentField = visible.find((field) => field !== textField && DEPARTMENT_FIELD_NAMES.includes(field.var.toLowerCase()));
  const searchForm: DirectoryForm = { service, formType, textField: textField?.var ?? 'search', fields, legacy: false };
  if (departmentField) searchForm.departmentField = departmentField.var;
  return searchForm;
}

/**
 * Searches the directory for `text` (a name, its pinyin or initials, a department). A server
 * requires every filled field to match, so the name and the department are two queries, whose
 * results are merged: name matches first, each person once.
 */
export async function searchDirectory(client: XmppClientLike, form: DirectoryForm, text: string): Promise<DirectoryEntry[]> {
  const fields = [form.textField, form.departmentField].filter((field) => field !== undefined);
  const pages = await Promise.all(fields.map((field) => searchField(client, form, field, text)));
  const seen = new Set<string>();
  return pages
    .flat()
    .filter((entry) => !seen.has(entry.jid) && seen.add(entry.jid))
    .slice(0, MAX_RESULTS);
}

async function searchField(client: XmppClientLike, form: DirectoryForm, field: string, text: string): Promise<DirectoryEntry[]> {
  const query = x('query', NS.SEARCH);
  if (form.legacy) query.append(x(field, NS.SEARCH, {}, text));
  else query.append(submitForm({ [field]: text }, form.formType));
  query.append(x('set', 'http://jabber.org/protocol/rsm', {}, x('max', 'http://jabber.org/protocol/rsm', {}, String(MAX_RESULTS))));

  const result = await client.iq(x('iq', NS.CLIENT, { type: 'set', to: form.service }, query));
  return parseResults(result.getChild('query', NS.SEARCH));
}

function parseResults(query: XElement | undefined): DirectoryEntry[] {
  const form = query?.getChild('x', NS.DATA);
  const rows = form ? parseItems(form) : (query?.getChildren('item', NS.SEARCH) ?? []).map(legacyRow);
  return rows.filter((row) => row.jid).slice(0, MAX_RESULTS).map(toEntry);
}

function legacyRow(item: XElement): Record<string, string> {
  const row: Record<string, string> = { jid: item.attr('jid') ?? '' };
  for (const child of item.elements()) row[child.name] = child.text();
  return row;
}

function pick(row: Record<string, string>, names: string[]): string | undefined {
  for (const name of names) {
    const value = row[name] ?? row[name.toUpperCase()];
    if (value) return value;
  }
  return undefined;
}

function toEntry(row: Record<string, string>): DirectoryEntry {
  const jid = bare(row.jid ?? '');
  const joined = [row.first, row.last].filter(Boolean).join(' ');
  return {
    jid,
    name: pick(row, ['name', 'fn', 'nick', 'nickname']) ?? (joined || jid),
    department: pick(row, ['department', 'orgunit', 'dept']),
    title: pick(row, ['title', 'job']),
    email: pick(row, ['email', 'mail']),
  };
}
