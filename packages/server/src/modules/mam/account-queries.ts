/** Queries of a user's own archive (XEP-0313). */
import type { Logger } from 'pino';
import type { Element, JID } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';
import type { ArchivedMessage, Storage } from '../../storage/index.js';
import { type ArchiveSource, archiveMetadata, queryArchive } from './archive-source.js';
import { ensureOwnArchive, queryFormElement } from './query.js';

/** Returns the source for the archive of the account `owner`. */
export function accountSource(storage: Storage, owner: JID): ArchiveSource<ArchivedMessage> {
  const { archive } = storage;
  return {
    jid: owner,
    keysOf: (stanzaIds) => archive.keysOf(owner.domain, owner.local, stanzaIds),
    page: (filter, request) => archive.page(owner.domain, owner.local, filter, request),
    bounds: () => archive.bounds(owner.domain, owner.local),
  };
}

/** Handles archive queries, metadata requests and form requests to a user's own archive. */
export class ArchiveQueries {
  constructor(
    private readonly server: ServerContext,
    private readonly log: Logger,
  ) {}

  /** Handles a query set: sends the page's results as messages, then returns `<fin/>`. */
  async query(request: IqRequest): Promise<Element> {
    ensureOwnArchive(request);
    return queryArchive(this.server, this.log, request, accountSource(this.server.storage, request.from.bare()));
  }

  /** Handles a metadata get (XEP-0313 section 5): the first and last message of the archive. */
  async metadata(request: IqRequest): Promise<Element> {
    ensureOwnArchive(request);
    return archiveMetadata(this.server, accountSource(this.server.storage, request.from.bare()));
  }

  /** Handles a query get: the supported form fields. */
  form(request: IqRequest): Element {
    ensureOwnArchive(request);
    return queryFormElement();
  }
}
