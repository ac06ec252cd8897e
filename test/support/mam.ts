/** Helpers for message archive tests (XEP-0313): queries with forms and result set management, and their results. */
import { type Element, NS, x } from '@parley/xmpp';
import type { TestClient } from './client.js';

export interface RsmOptions {
  max?: number;
  after?: string;
  before?: string;
  index?: number;
}

export interface QueryOptions {
  fields?: Record<string, string | string[]>;
  rsm?: RsmOptions;
  flip?: boolean;
  to?: string;
}

export interface QueryOutcome {
  iq: Element;
  /** The `<result/>` elements, in the order they arrived. */
  results: Element[];
}

let nextQuery = 1;

export function dataForm(fields: Record<string, string | string[]>): Element {
  const form = x('x', NS.DATA_FORMS, { type: 'submit' }, x('field', NS.DATA_FORMS, { var: 'FORM_TYPE', type: 'hidden' }, x('value', NS.DATA_FORMS, {}, NS.MAM)));
  for (const [name, value] of Object.entries(fields)) {
    const values = Array.isArray(value) ? value : [value];
    form.append(x('field', NS.DATA_FORMS, { var: name }, ...values.map((text) => x('value', NS.DATA_FORMS, {}, text))));
  }
  return form;
}

export function rsmSet(options: RsmOptions): Element {
  const set = x('set', NS.RSM);
  if (options.max !== undefined) set.append(x('max', NS.RSM, {}, String(options.max)));
  if (options.after !== undefined) set.append(x('after', NS.RSM, {}, options.after));
  if (options.before !== undefined) set.append(x('before', NS.RSM, {}, options.before));
  if (options.index !== undefined) set.append(x('index', NS.RSM, {}, String(options.index)));
  return set;
}

/** Runs an archive query and collects its result messages up to the IQ reply. */
export async function queryArchive(client: TestClient, options: QueryOptions = {}): Promise<QueryOutcome> {
  const queryid = `q${nextQuery++}`;
  const query = x('query', NS.MAM, { queryid });
  if (options.fields) query.append(dataForm(options.fields));
  if (options.rsm) query.append(rsmSet(options.rsm));
  if (options.flip) query.append(x('flip-page', NS.MAM));
  const iqId = `iq-${queryid}`;
  client.send(x('iq', NS.CLIENT, { type: 'set', id: iqId, to: options.to }, query));

  const results: Element[] = [];
  for (;;) {
    const el = await client.next((el) => el.getChild('result', NS.MAM)?.attr('queryid') === queryid || (el.name === 'iq' && el.attr('id') === iqId), 10_000);
    if (el.name === 'iq') return { iq: el, results };
    results.push(el.getChild('result', NS.MAM)!);
  }
}

export function forwardedMessage(result: Element): Element | undefined {
  return result.getChild('forwarded', NS.FORWARD)?.getChild('message', NS.CLIENT);
}

export function bodies(outcome: QueryOutcome): string[] {
  return outcome.results.map((result) => forwardedMessage(result)?.getChildText('body', NS.CLIENT) ?? '');
}

export function ids(outcome: QueryOutcome): string[] {
  return outcome.results.map((result) => result.attr('id') ?? '');
}

export function stamps(outcome: QueryOutcome): string[] {
  return outcome.results.map((result) => result.getChild('forwarded', NS.FORWARD)?.getChild('delay', NS.DELAY)?.attr('stamp') ?? '');
}

/** Reads the RSM values of a query's `<fin/>`: first, its index, last, count, and complete. */
export function finOf(outcome: QueryOutcome): { first?: string; index?: string; last?: string; count?: string; complete?: string } {
  const fin = outcome.iq.getChild('fin', NS.MAM);
  const set = fin?.getChild('set', NS.RSM);
  return {
    first: set?.getChildText('first', NS.RSM),
    index: set?.getChild('first', NS.RSM)?.attr('index'),
    last: set?.getChildText('last', NS.RSM),
    count: set?.getChildText('count', NS.RSM),
    complete: fin?.attr('complete'),
  };
}
