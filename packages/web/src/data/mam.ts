import { x, type XElement, type XmppClientLike } from '../xmpp/index.js';
import { bareOf, randomId } from './jid.js';
import { MAX_PAGE_SIZE, QUERY_TIMEOUT_MS } from './limits.js';
import { NS } from './ns.js';

/** One archive request (XEP-0313 with Parley's #extended fields and XEP-0431 search). */
export interface MamRequest {
  /** The room's JID for a room archive; absent for the account's own archive. */
  archive?: string;
  with?: string;
  afterId?: string;
  beforeId?: string;
  /** RSM `<before/>`; '' requests the last page. */
  before?: string;
  fulltext?: string;
  max: number;
}

export interface MamPage {
  /** The `<result/>` elements in archive order (oldest first). */
  results: XElement[];
  complete: boolean;
  first?: string;
  last?: string;
}

/** Runs archive queries and collects their results, which arrive as messages before the IQ reply. */
export class MamQueries {
  private readonly pending = new Map<string, { archive: string; results: XElement[] }>();

  constructor(private readonly client: XmppClientLike) {}

  get ownJid(): string {
    return this.client.bareJid;
  }

  /** Takes a result message of a running query; returns false for any other stanza. */
  handle(stanza: XElement): boolean {
    const result = stanza.name === 'message' ? stanza.getChild('result', NS.MAM) : undefined;
    const query = result ? this.pending.get(result.attr('queryid') ?? '') : undefined;
    if (!result || !query) return false;
    // Results come from the archive that was asked, never from anyone else.
    const from = stanza.attr('from');
    if (from === undefined ? query.archive !== bareOf(this.client.bareJid) : bareOf(from) !== query.archive) return true;
    query.results.push(result);
    return true;
  }

  async query(request: MamRequest): Promise<MamPage> {
    const queryid = randomId();
    const archive = request.archive ?? bareOf(this.client.bareJid);
    const collected = { archive, results: [] as XElement[] };
    this.pending.set(queryid, collected);
    try {
      const reply = await this.client.iq(buildQuery(queryid, request), QUERY_TIMEOUT_MS);
      const fin = reply.getChild('fin', NS.MAM);
      const set = fin?.getChild('set', NS.RSM);
      return {
        results: collected.results,
        complete: fin?.attr('complete') === 'true',
        first: set?.getChildText('first', NS.RSM),
        last: set?.getChildText('last', NS.RSM),
      };
    } finally {
      this.pending.delete(queryid);
    }
  }
}

function field(name: string, value: string): XElement {
  return x('field', NS.DATA, { var: name }, x('value', NS.DATA, {}, value));
}

function buildQuery(queryid: string, request: MamRequest): XElement {
  const form = x('x', NS.DATA, { type: 'submit' }, x('field', NS.DATA, { var: 'FORM_TYPE', type: 'hidden' }, x('value', NS.DATA, {}, NS.MAM)));
  if (request.with !== undefined) form.append(field('with', request.with));
  if (request.afterId !== undefined) form.append(field('after-id', request.afterId));
  if (request.beforeId !== undefined) form.append(field('before-id', request.beforeId));
  if (request.fulltext !== undefined) form.append(field(`{${NS.FULLTEXT}}fulltext`, request.fulltext));

  const set = x('set', NS.RSM, {}, x('max', NS.RSM, {}, String(Math.min(MAX_PAGE_SIZE, Math.max(1, request.max)))));
  if (request.before !== undefined) set.append(x('before', NS.RSM, {}, request.before));
  // Pages that end at the newest message (before-id, last page) still list oldest first.
  const query = x('query', NS.MAM, { queryid }, form, set);
  return x('iq', NS.CLIENT, { type: 'set', to: request.archive }, query);
}
