/** The query form and result set request of archive queries (XEP-0313 section 4, XEP-0059). */
import { type Element, JID, NS, StanzaError, buildForm, fieldValue, fieldValues, getFormType, parseForm, parseRsm, x } from '@parley/xmpp';
import type { IqRequest } from '../../core/iq.js';
import { FULLTEXT_FIELD, queryTokens } from './search.js';

/** Page size without a `<max/>`, and the most a query gets. */
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 250;

const KNOWN_FIELDS: ReadonlySet<string> = new Set(['FORM_TYPE', 'with', 'start', 'end', 'before-id', 'after-id', 'ids', FULLTEXT_FIELD]);
/** XEP-0082 DateTime: the seconds fraction is optional, the zone is Z or an offset. */
const DATE_TIME = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

/** The filter fields of a query form, before ids are looked up. */
export interface QueryForm {
  with?: JID;
  start?: number;
  end?: number;
  afterId?: string;
  beforeId?: string;
  ids?: string[];
  /** Search tokens; [] matches nothing. */
  tokens?: string[];
}

/** The RSM part of a query, before ids are looked up. */
export interface PageSpec {
  max: number;
  after?: string;
  /** '' requests the last page. */
  before?: string;
  index?: number;
}

/** Reads an XEP-0082 DateTime into milliseconds; throws bad-request when it is not one. */
export function parseTimestamp(value: string, field: string): number {
  const match = DATE_TIME.exec(value.trim());
  const ms = match ? Date.parse(`${match[1]!}${(match[2] ?? '').slice(0, 4)}${match[3]!}`) : Number.NaN;
  if (Number.isNaN(ms)) throw new StanzaError('bad-request', `The ${field} field is not an XEP-0082 timestamp: "${value}".`);
  return ms;
}

/**
 * Types 'ids' as list-multi where a submitted form leaves the type out, as the examples of
 * XEP-0313 do: without a type the form parser reads text-single, which allows one value.
 */
function withFieldTypes(formElement: Element): Element {
  const copy = formElement.clone();
  for (const field of copy.getChildren('field', NS.DATA_FORMS)) {
    if (field.attr('var') === 'ids' && field.attr('type') === undefined) field.setAttr('type', 'list-multi');
  }
  return copy;
}

/** Reads the data form of a `<query/>`; no form means no filter. */
export function parseQueryForm(query: Element): QueryForm {
  const formElement = query.getChild('x', NS.DATA_FORMS);
  if (!formElement) return {};
  const form = parseForm(withFieldTypes(formElement));
  if (form.type !== 'submit') throw new StanzaError('bad-request', 'The query form must be of type submit.');
  if (getFormType(form) !== NS.MAM) throw new StanzaError('bad-request', `The query form's FORM_TYPE must be ${NS.MAM}.`);
  for (const field of form.fields) {
    // XEP-0313 section 4.1.5: a field the server does not know is feature-not-implemented.
    if (field.var !== undefined && !KNOWN_FIELDS.has(field.var)) throw new StanzaError('feature-not-implemented', `Unknown query field "${field.var}".`);
  }

  const result: QueryForm = {};
  const withValue = fieldValue(form, 'with');
  if (withValue !== undefined) {
    const jid = JID.parseOrNull(withValue.trim());
    if (!jid) throw new StanzaError('bad-request', `The with field is not a JID: "${withValue}".`);
    result.with = jid;
  }
  const start = fieldValue(form, 'start');
  if (start !== undefined) result.start = parseTimestamp(start, 'start');
  const end = fieldValue(form, 'end');
  if (end !== undefined) result.end = parseTimestamp(end, 'end');
  const afterId = fieldValue(form, 'after-id');
  if (afterId !== undefined) result.afterId = afterId;
  const beforeId = fieldValue(form, 'before-id');
  if (beforeId !== undefined) result.beforeId = beforeId;
  if (form.fields.some((field) => field.var === 'ids')) result.ids = fieldValues(form, 'ids');
  if (result.ids && result.ids.length > MAX_PAGE_SIZE) throw new StanzaError('bad-request', `The ids field names ${result.ids.length} ids, more than the maximum of ${MAX_PAGE_SIZE}.`);
  const text = fieldValue(form, FULLTEXT_FIELD);
  const tokens = text === undefined ? undefined : queryTokens(text);
  if (tokens !== undefined) result.tokens = tokens;
  return result;
}

/** Reads the `<set/>` of a query: 50 results without `<max/>`, never more than 250. */
export function parsePageSpec(query: Element): PageSpec {
  const set = query.getChild('set', NS.RSM);
  const rsm = parseRsm(set, MAX_PAGE_SIZE);
  const spec: PageSpec = { max: set?.getChild('max', NS.RSM) ? rsm.max : DEFAULT_PAGE_SIZE };
  if (rsm.after !== undefined) spec.after = rsm.after;
  if (rsm.before !== undefined) spec.before = rsm.before;
  if (rsm.index !== undefined) spec.index = rsm.index;
  return spec;
}

/** Builds the form a `<query/>` get returns: every field a query may use (XEP-0313 section 4.1.6). */
export function queryFormElement(): Element {
  const form = buildForm({
    type: 'form',
    fields: [
      { var: 'FORM_TYPE', type: 'hidden', values: [NS.MAM] },
      { var: 'with', type: 'jid-single', values: [] },
      { var: 'start', type: 'text-single', values: [] },
      { var: 'end', type: 'text-single', values: [] },
      { var: 'before-id', type: 'text-single', values: [] },
      { var: 'after-id', type: 'text-single', values: [] },
      { var: 'ids', type: 'list-multi', values: [] },
      { var: FULLTEXT_FIELD, type: 'text-single', values: [] },
    ],
  });
  // The list of ids is open: the client names ids, the server offers none (section 4.1.6).
  const ids = form.getChildren('field', NS.DATA_FORMS).find((field) => field.attr('var') === 'ids');
  ids?.append(x('validate', NS.XDATA_VALIDATE, { datatype: 'xs:string' }, x('open', NS.XDATA_VALIDATE)));
  return x('query', NS.MAM, {}, form);
}

/** Throws forbidden unless the user addresses their own archive: nobody else may query or configure it. */
export function ensureOwnArchive(request: IqRequest): void {
  if (!request.self) throw new StanzaError('forbidden', 'Only the owner may access an archive.');
}
