/**
 * Entity capabilities of connected clients (XEP-0115), which PEP needs for notification
 * filtering (XEP-0163 section 4.2). A client announces a 'ver' in its presence. The server
 * sends that client a disco#info query once per new 'ver', checks the hash and caches
 * the features per 'ver'.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Element, NS, x } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import { capsVerificationString } from '../disco/caps.js';

/** Timeout of the disco#info query to a client, in milliseconds. */
const QUERY_TIMEOUT_MS = 10_000;
/** Distinct 'ver' values whose features stay cached; the least recently used one goes first. */
const MAX_CACHED = 10_000;
/** IANA hash names (XEP-0115 section 5.1) and the Node.js names of the same functions. */
const HASHES: Record<string, string> = { 'sha-1': 'sha1', 'sha-224': 'sha224', 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' };

const NO_FEATURES: ReadonlySet<string> = new Set();

/** The capabilities a presence announces: the cache key and what to ask the client. */
interface Announcement {
  key: string;
  node: string;
  ver: string;
  /** The Node.js hash name, undefined for the legacy format without a 'hash' attribute. */
  hash: string | undefined;
}

interface SessionCaps {
  key: string | undefined;
  features: Promise<ReadonlySet<string>>;
}

interface QueryResult {
  features: ReadonlySet<string>;
  /** The features hash to the announced 'ver', so other clients with that 'ver' may use them. */
  verified: boolean;
}

interface PendingQuery {
  session: ClientSession;
  announcement: Announcement;
  resolve(result: QueryResult): void;
  timer: NodeJS.Timeout;
}

/** Reads the `<c/>` of a presence stanza, or undefined when it has none or it lacks node or ver. */
export function readAnnouncement(presence: Element): Announcement | undefined {
  const caps = presence.getChild('c', NS.CAPS);
  const node = caps?.attr('node');
  const ver = caps?.attr('ver');
  if (caps === undefined || !node || !ver) return undefined;

  const hashName = caps.attr('hash');
  if (hashName === undefined) return { key: `legacy ${node}#${ver}`, node, ver, hash: undefined };
  return { key: `${hashName} ${ver}`, node, ver, hash: HASHES[hashName.toLowerCase()] };
}

/** Tells whether the disco#info `query` hashes to `ver` with the Node.js hash `hash`. */
export function verifyCaps(query: Element, ver: string, hash: string): boolean {
  return createHash(hash).update(capsVerificationString(query), 'utf8').digest('base64') === ver;
}

/** Returns the features of a disco#info `<query/>`. */
function featuresOf(query: Element | undefined): ReadonlySet<string> {
  if (query === undefined) return NO_FEATURES;
  return new Set(query.getChildren('feature', NS.DISCO_INFO).flatMap((feature) => feature.attr('var') ?? []));
}

/** Learns and caches the capabilities of the server's client sessions. */
export class ClientCaps {
  private readonly sessions = new WeakMap<ClientSession, SessionCaps>();
  private readonly cache = new Map<string, ReadonlySet<string>>();
  private readonly inFlight = new Map<string, Promise<QueryResult>>();
  private readonly queries = new Map<string, PendingQuery>();

  constructor(private readonly server: ServerContext) {}

  /** Records the capabilities of an available presence that `session` broadcast; returns true when they changed. */
  update(session: ClientSession, presence: Element): boolean {
    const announcement = readAnnouncement(presence);
    const previous = this.sessions.get(session);
    if (previous !== undefined && previous.key === announcement?.key) return false;

    const features = announcement === undefined ? Promise.resolve(NO_FEATURES) : this.resolve(session, announcement);
    this.sessions.set(session, { key: announcement?.key, features });
    return true;
  }

  /** Resolves with the features of the session's client, waiting for a query in flight; empty when unknown. */
  features(session: ClientSession): Promise<ReadonlySet<string>> {
    return this.sessions.get(session)?.features ?? Promise.resolve(NO_FEATURES);
  }

  /** Handles an IQ a client sent to the domain; returns true when it is the reply to one of the server's queries. */
  handleReply(session: ClientSession, stanza: Element): boolean {
    const id = stanza.attr('id');
    const type = stanza.attr('type');
    if (id === undefined || (type !== 'result' && type !== 'error')) return false;
    const pending = this.queries.get(id);
    if (pending === undefined || pending.session !== session) return false;

    this.queries.delete(id);
    clearTimeout(pending.timer);
    const { announcement } = pending;
    const query = type === 'result' ? stanza.getChild('query', NS.DISCO_INFO) : undefined;
    const verified = query !== undefined && announcement.hash !== undefined && verifyCaps(query, announcement.ver, announcement.hash);
    if (query !== undefined && !verified) session.log.debug({ node: announcement.node, ver: announcement.ver }, 'client caps do not match their hash; not cached');
    pending.resolve({ features: featuresOf(query), verified });
    return true;
  }

  /** Drops the state of a session that ended and resolves its open queries with no features. */
  forget(session: ClientSession): void {
    this.sessions.delete(session);
    for (const [id, pending] of this.queries) {
      if (pending.session !== session) continue;
      this.queries.delete(id);
      clearTimeout(pending.timer);
      pending.resolve({ features: NO_FEATURES, verified: false });
    }
  }

  private async resolve(session: ClientSession, announcement: Announcement): Promise<ReadonlySet<string>> {
    const cached = this.cache.get(announcement.key);
    if (cached !== undefined) {
      this.cache.delete(announcement.key);
      this.cache.set(announcement.key, cached);
      return cached;
    }

    // A query about the same 'ver' is in flight for another session. Its reply is used only if it verified.
    const shared = announcement.hash === undefined ? undefined : this.inFlight.get(announcement.key);
    if (shared !== undefined) {
      const result = await shared;
      if (result.verified) return result.features;
    }

    const asking = this.query(session, announcement);
    if (announcement.hash !== undefined && shared === undefined) {
      this.inFlight.set(announcement.key, asking);
      void asking.then(() => this.inFlight.delete(announcement.key));
    }
    const result = await asking;
    if (result.verified) this.remember(announcement.key, result.features);
    return result.features;
  }

  /** Sends the disco#info query of XEP-0115 section 6.2 to the session and resolves with the reply. */
  private query(session: ClientSession, announcement: Announcement): Promise<QueryResult> {
    const id = `caps-${randomBytes(9).toString('base64url')}`;
    return new Promise<QueryResult>((resolve) => {
      const timer = setTimeout(() => {
        this.queries.delete(id);
        session.log.debug({ node: announcement.node }, 'caps query to the client timed out; treating it as having no features');
        resolve({ features: NO_FEATURES, verified: false });
      }, QUERY_TIMEOUT_MS);
      timer.unref();
      this.queries.set(id, { session, announcement, resolve, timer });

      const query = x('query', NS.DISCO_INFO, { node: `${announcement.node}#${announcement.ver}` });
      session.send(x('iq', NS.CLIENT, { type: 'get', id, from: this.server.config.domain, to: session.jid!.toString() }, query));
    });
  }

  private remember(key: string, features: ReadonlySet<string>): void {
    this.cache.set(key, features);
    if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
  }
}
