/** The directory service at its own domain: disco#info, the search form and searches. */
import { randomUUID } from 'node:crypto';
import { type Element, type JID, NS, StanzaError, errorReply, x } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { StanzaEvent } from '../../core/events.js';
import { validateRequest } from '../../core/iq.js';
import type { DirectoryPageRequest } from '../../storage/index.js';
import { NS_SEARCH, parseSearch, searchForm, searchResult } from './search.js';

export const SERVICE_NAME = 'Organisation directory';

export class DirectoryService {
  constructor(
    private readonly server: ServerContext,
    /** The service's domain, such as directory.example.org. */
    readonly domain: string,
  ) {}

  /** Handles a stanza addressed to the service's domain. */
  async handle(event: StanzaEvent): Promise<void> {
    const { stanza } = event;
    const type = stanza.attr('type');
    if (stanza.name !== 'iq') {
      if (stanza.name === 'message' && type !== 'error') this.reply(event, errorReply(stanza, new StanzaError('service-unavailable', 'The directory takes no messages.')));
      return;
    }
    if (type === 'result' || type === 'error') return;

    const invalid = validateRequest(stanza);
    if (invalid) return this.reply(event, errorReply(stanza, invalid));
    try {
      const payload = await this.answer(event, stanza.elements()[0]!);
      this.reply(event, x('iq', NS.CLIENT, { type: 'result', id: stanza.attr('id') }, payload));
    } catch (err) {
      if (err instanceof StanzaError) return this.reply(event, errorReply(stanza, err));
      const incident = randomUUID();
      this.server.log.error({ err, incident }, 'directory request failed');
      this.reply(event, errorReply(stanza, new StanzaError('internal-server-error', `Internal error ${incident}.`)));
    }
  }

  private async answer(event: StanzaEvent, payload: Element): Promise<Element | undefined> {
    const type = event.stanza.attr('type');
    if (event.to.local !== '' || event.to.resource !== '') throw new StanzaError('item-not-found', 'The directory has no entities below its domain.');
    if (type === 'get' && payload.ns === NS.DISCO_INFO && payload.name === 'query' && payload.attr('node') === undefined) return serviceInfo();
    if (type === 'get' && payload.ns === NS.DISCO_ITEMS && payload.name === 'query') return x('query', NS.DISCO_ITEMS);
    if (type === 'get' && payload.ns === NS.PING && payload.name === 'ping') return undefined;
    if (payload.ns === NS_SEARCH && payload.name === 'query') {
      this.authorize(event.from);
      return type === 'get' ? searchForm() : this.search(payload);
    }
    throw new StanzaError('service-unavailable');
  }

  /** With access 'local', only authenticated accounts of this server may search. */
  private authorize(from: JID): void {
    const { domain, directory } = this.server.config;
    if (directory.access === 'anyone') return;
    if (from.domain !== domain || from.local === '') throw new StanzaError('forbidden', `Only accounts of ${domain} may search the directory.`);
  }

  private async search(payload: Element): Promise<Element> {
    const { domain, directory } = this.server.config;
    const request = parseSearch(payload, directory.max_results);
    request.page = { ...request.page, after: this.usernameOf(request.page.after), before: this.usernameOf(request.page.before) } satisfies DirectoryPageRequest;
    const page = await this.server.storage.directory.search(domain, request.query, request.page);
    return searchResult(request, page, directory.fields);
  }

  /** RSM ids are bare JIDs; the index pages by username. An id of another domain names no result. */
  private usernameOf(id: string | undefined): string | undefined {
    if (id === undefined || id === '') return id;
    const suffix = `@${this.server.config.domain}`;
    if (!id.endsWith(suffix)) throw new StanzaError('item-not-found', `${id} is not a result of this directory.`);
    return id.slice(0, -suffix.length);
  }

  private reply(event: StanzaEvent, stanza: Element): void {
    stanza.attrs.from = event.to.toString();
    stanza.attrs.to = event.from.toString();
    void this.server.router.route(stanza, event.to, event.from).catch((err: unknown) => this.server.log.error({ err }, 'sending a directory reply failed'));
  }
}

function serviceInfo(): Element {
  return x(
    'query',
    NS.DISCO_INFO,
    {},
    x('identity', NS.DISCO_INFO, { category: 'directory', type: 'user', name: SERVICE_NAME }),
    ...[NS.DISCO_INFO, NS.DISCO_ITEMS, NS_SEARCH, NS.RSM].map((feature) => x('feature', NS.DISCO_INFO, { var: feature })),
  );
}
