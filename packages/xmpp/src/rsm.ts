/** XEP-0059 result set management: reading a page request and describing a page. */
import { Element, x } from './xml/element.js';
import { NS } from './ns.js';
import { StanzaError } from './errors.js';

export interface RsmRequest {
  /** Page size: the requested `<max/>` capped, or the cap when the request has none. */
  max: number;
  /** UID of the item the page starts after. */
  after?: string;
  /**
   * UID of the item the page ends before. '' comes from an empty `<before/>`, which
   * requests the last page (XEP-0059 section 2.5). undefined means no `<before/>`.
   */
  before?: string;
  /** Position of the first item of the page (XEP-0059 section 2.6). */
  index?: number;
}

export interface RsmPage {
  /** UID of the first item; absent together with `last` when the page is empty. */
  first?: string;
  /** Position of the first item in the full result set. */
  firstIndex?: number;
  last?: string;
  /** Number of items in the full result set. */
  count?: number;
}

const RE_NON_NEGATIVE_INTEGER = /^[0-9]+$/;

function readInteger(set: Element, name: string): number | undefined {
  const text = set.getChildText(name, NS.RSM);
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (!RE_NON_NEGATIVE_INTEGER.test(trimmed)) {
    throw new StanzaError('bad-request', `<${name}/> must be a non-negative integer`);
  }
  return Number(trimmed);
}

/**
 * Reads the `<set xmlns='http://jabber.org/protocol/rsm'/>` of a request; `maxCap`
 * caps the page size. A negative or non-numeric `<max/>` or `<index/>` is bad-request.
 */
export function parseRsm(set: Element | undefined, maxCap: number): RsmRequest {
  if (!set) return { max: maxCap };
  const max = readInteger(set, 'max');
  const request: RsmRequest = { max: max === undefined ? maxCap : Math.min(max, maxCap) };

  // An empty <after/> names no item, so it reads as no <after/>: start at the beginning.
  const after = set.getChildText('after', NS.RSM);
  if (after) request.after = after;
  const before = set.getChildText('before', NS.RSM);
  if (before !== undefined) request.before = before;
  const index = readInteger(set, 'index');
  if (index !== undefined && !Number.isSafeInteger(index)) {
    throw new StanzaError('bad-request', `<index/> must be at most ${Number.MAX_SAFE_INTEGER}`);
  }
  if (index !== undefined) request.index = index;
  return request;
}

/**
 * Builds the `<set/>` that describes a returned page. An empty page carries no
 * `<first/>` or `<last/>`, only `<count/>` when known (XEP-0059 section 2.2). The
 * reply to a count-only request with `<max>0</max>` has the same form (section 2.7).
 */
export function buildRsmResult(page: RsmPage): Element {
  if ((page.first === undefined) !== (page.last === undefined)) {
    throw new Error('an RSM page has both first and last, or neither');
  }
  const set = x('set', NS.RSM);
  if (page.first !== undefined) set.append(x('first', NS.RSM, { index: page.firstIndex }, page.first));
  if (page.last !== undefined) set.append(x('last', NS.RSM, {}, page.last));
  if (page.count !== undefined) set.append(x('count', NS.RSM, {}, String(page.count)));
  return set;
}
