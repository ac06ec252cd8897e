/**
 * Result set paging (XEP-0059) over an archive in key order, shared by the account
 * archives and the room archives: each supplies how to count and select its rows.
 */

/** The bounds in archive order that every archive filter has. */
export interface KeyBounds {
  /** Exclusive bounds in archive order (keys). */
  afterKey?: number;
  beforeKey?: number;
}

/** A page of the filtered messages (XEP-0059 semantics over archive order). */
export interface ArchivePageRequest {
  /** Page size. With 0 the page is empty and only the count is returned. */
  max: number;
  /** Key of the message the page starts after. */
  after?: number;
  /** Key of the message the page ends before, or 'end' for the last page. */
  before?: number | 'end';
  /** Position of the page's first message, used when neither after nor before is given. */
  index?: number;
}

/** A page in archive order with its place in the whole filtered set. */
export interface MessagePage<M> {
  messages: M[];
  /** Messages matching the filter. */
  count: number;
  /** Position of the page's first message among them; absent for an empty page. */
  firstIndex?: number;
  /** True when no matching message lies beyond the page in the paging direction. */
  complete: boolean;
}

/** The queries `readPage` needs from one archive. */
export interface PageReader<F extends KeyBounds, M extends { key: number }> {
  /** Counts the messages matching `filter`. */
  count(filter: F): Promise<number>;
  /** Selects up to `limit` messages matching `filter` in key order, after skipping `offset`. */
  select(filter: F, order: 'asc' | 'desc', limit: number, offset?: number): Promise<M[]>;
}

/** Returns one page of the messages matching `filter`, in archive order. */
export async function readPage<F extends KeyBounds, M extends { key: number }>(reader: PageReader<F, M>, filter: F, request: ArchivePageRequest): Promise<MessagePage<M>> {
  const count = await reader.count(filter);
  if (request.max === 0 || count === 0) return { messages: [], count, complete: count === 0 };

  const backwards = request.before !== undefined;
  const bounded: F = { ...filter };
  if (request.after !== undefined) bounded.afterKey = maxDefined(filter.afterKey, request.after);
  if (typeof request.before === 'number') bounded.beforeKey = minDefined(filter.beforeKey, request.before);

  const offset = !backwards && request.after === undefined ? request.index : undefined;
  const rows = await reader.select(bounded, backwards ? 'desc' : 'asc', request.max + 1, offset);
  const complete = rows.length <= request.max;
  const messages = rows.slice(0, request.max);
  if (backwards) messages.reverse();

  const first = messages[0];
  if (!first) return { messages, count, complete };
  const firstIndex = await reader.count({ ...filter, beforeKey: minDefined(filter.beforeKey, first.key) });
  return { messages, count, firstIndex, complete };
}

function maxDefined(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.max(a, b);
}

function minDefined(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.min(a, b);
}
