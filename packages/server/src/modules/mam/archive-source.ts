/** Archive queries (XEP-0313 section 4) with result set management (XEP-0059) and metadata, over any archive. */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { type Element, type JID, NS, StanzaError, buildRsmResult, x } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';
import type { ArchiveFilter, ArchivePageRequest, MessagePage } from '../../storage/index.js';
import { type PageSpec, type QueryForm, parsePageSpec, parseQueryForm } from './query.js';
import { parseStored } from './stored.js';

/** A message of an archive as a query reads it. */
export interface QueriedMessage {
  key: number;
  stanzaId: string;
  createdAt: number;
  /** Serialised stanza. */
  stanza: string;
}

/** An archive that queries read: an account's or a room's. */
export interface ArchiveSource<M extends QueriedMessage> {
  /** The archive's address, which results come from. */
  readonly jid: JID;
  /** Maps the stanza ids that exist in the archive to their keys. */
  keysOf(stanzaIds: string[]): Promise<Map<string, number>>;
  /** Returns one page of the messages matching `filter`, in archive order. */
  page(filter: ArchiveFilter, request: ArchivePageRequest): Promise<MessagePage<M>>;
  /** Returns the first and last message, or undefined when the archive is empty. */
  bounds(): Promise<{ first: M; last: M } | undefined>;
  /** Returns the stanza a result forwards, given the parsed stored one; without it the stored stanza is forwarded as it is. */
  forwarded?(message: M, stored: Element): Element;
}

/**
 * Runs a query set on `source`: sends the page's results to the requester as messages,
 * then returns `<fin/>`. The caller has checked that the requester may read the archive.
 */
export async function queryArchive<M extends QueriedMessage>(server: ServerContext, log: Logger, request: IqRequest, source: ArchiveSource<M>): Promise<Element> {
  const form = parseQueryForm(request.payload);
  const spec = parsePageSpec(request.payload);
  // Messages routed before the query are archived, though their batch may not have committed yet.
  await server.storage.batch.drained();
  const keys = await lookUpIds(source, form, spec);

  const filter: ArchiveFilter = {};
  if (form.with) filter.with = form.with.resource === '' ? { bare: form.with.toString() } : { bare: form.with.bare().toString(), resource: form.with.resource };
  if (form.start !== undefined) filter.start = form.start;
  if (form.end !== undefined) filter.end = form.end;
  if (form.afterId !== undefined) filter.afterKey = keys.get(form.afterId)!;
  if (form.beforeId !== undefined) filter.beforeKey = keys.get(form.beforeId)!;
  if (form.ids !== undefined) filter.keys = form.ids.map((id) => keys.get(id)!);
  if (form.tokens !== undefined) filter.tokens = form.tokens;

  const pageRequest: ArchivePageRequest = { max: spec.max };
  if (spec.after !== undefined) pageRequest.after = keys.get(spec.after)!;
  if (spec.before !== undefined) pageRequest.before = spec.before === '' ? 'end' : keys.get(spec.before)!;
  if (spec.index !== undefined) pageRequest.index = spec.index;

  const page = await source.page(filter, pageRequest);
  await sendResults(server, log, request, source, page, request.payload.getChild('flip-page', NS.MAM) !== undefined);
  return fin(page, spec.before !== undefined);
}

/** Builds the metadata of `source` (XEP-0313 section 5): its first and last message. */
export async function archiveMetadata<M extends QueriedMessage>(server: ServerContext, source: ArchiveSource<M>): Promise<Element> {
  await server.storage.batch.drained();
  const bounds = await source.bounds();
  const metadata = x('metadata', NS.MAM);
  if (!bounds) return metadata;
  const edge = (name: string, message: M) => x(name, NS.MAM, { id: message.stanzaId, timestamp: new Date(message.createdAt).toISOString() });
  return metadata.append(edge('start', bounds.first), edge('end', bounds.last));
}

/** Maps every archive id the query names to its key; an unknown one is item-not-found (section 4.1.3). */
async function lookUpIds<M extends QueriedMessage>(source: ArchiveSource<M>, form: QueryForm, spec: PageSpec): Promise<Map<string, number>> {
  const named = [form.afterId, form.beforeId, ...(form.ids ?? []), spec.after, spec.before].filter((id): id is string => id !== undefined && id !== '');
  const keys = await source.keysOf([...new Set(named)]);
  const missing = named.find((id) => !keys.has(id));
  if (missing !== undefined) throw new StanzaError('item-not-found', `No message with id "${missing}" in the archive.`);
  return keys;
}

/**
 * Sends the page's results; flip-page reverses their order only, and `<fin/>` still names
 * first and last in archive order. A requester on another cluster node gets them through
 * the router, one after another, so that they arrive before the IQ result.
 */
async function sendResults<M extends QueriedMessage>(server: ServerContext, log: Logger, request: IqRequest, source: ArchiveSource<M>, page: MessagePage<M>, flip: boolean): Promise<void> {
  const session = request.session ?? server.sessions.get(request.from);
  const queryId = request.payload.attr('queryid');
  const messages = flip ? [...page.messages].reverse() : page.messages;
  for (const message of messages) {
    const result = resultMessage(log, request, source, queryId, message);
    if (session) session.send(result);
    else if (server.cluster) await server.router.route(result, source.jid, request.from);
  }
}

function resultMessage<M extends QueriedMessage>(log: Logger, request: IqRequest, source: ArchiveSource<M>, queryId: string | undefined, message: M): Element {
  const forwarded = x('forwarded', NS.FORWARD, {}, x('delay', NS.DELAY, { stamp: new Date(message.createdAt).toISOString() }));
  try {
    const stored = parseStored(message.stanza);
    forwarded.append(source.forwarded ? source.forwarded(message, stored) : stored);
  } catch (err) {
    // XEP-0313 section 3.2 allows leaving the message out; the id and time stay.
    log.error({ err, stanzaId: message.stanzaId }, 'archived stanza is not valid XML');
  }
  const attrs = { id: randomBytes(9).toString('base64url'), from: source.jid.toString(), to: request.from.toString() };
  return x('message', NS.CLIENT, attrs, x('result', NS.MAM, { queryid: queryId, id: message.stanzaId }, forwarded));
}

/**
 * Builds the `<fin/>` of a query: the RSM page description, and complete='true' when no
 * match lies beyond the page. XEP-0059 makes the index of `<first/>` optional.
 */
function fin<M extends QueriedMessage>(page: MessagePage<M>, backward: boolean): Element {
  const first = page.messages[0];
  const last = page.messages.at(-1);
  // COMPAT(slixmpp 1.8.3): its result iterator stops when first index + page size equals
  // the count, which is true of the first page when paging backwards, so it would read
  // one page only. Without the index it pages on until a page comes back empty.
  const firstIndex = backward ? undefined : page.firstIndex;
  const set = buildRsmResult({ first: first?.stanzaId, firstIndex, last: last?.stanzaId, count: page.count });
  return x('fin', NS.MAM, { complete: page.complete ? 'true' : undefined }, set);
}
