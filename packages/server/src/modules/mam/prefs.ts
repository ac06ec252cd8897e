/** Archiving preferences (XEP-0441): the `<prefs/>` element and how they decide per contact. */
import { type Element, JID, NS, StanzaError, x } from '@parley/xmpp';
import type { IqRequest } from '../../core/iq.js';
import type { ArchiveDefault, ArchivePrefs, ArchiveRepository } from '../../storage/index.js';
import { ensureOwnArchive } from './query.js';

/** Preferences of an account that never set any: archive everything. */
export const DEFAULT_PREFS: ArchivePrefs = { default: 'always', always: [], never: [] };

/** Most JIDs accepted in one list. */
const MAX_JIDS = 1000;
const DEFAULTS: ReadonlySet<string> = new Set<ArchiveDefault>(['always', 'never', 'roster']);

function readJids(prefs: Element, listName: 'always' | 'never'): string[] {
  const list = prefs.getChild(listName, NS.MAM);
  if (!list) return [];
  const jids = list.getChildren('jid', NS.MAM).map((el) => {
    const jid = JID.parseOrNull(el.text().trim());
    if (!jid) throw new StanzaError('jid-malformed', `"${el.text()}" in <${listName}/> is not a JID.`);
    return jid.toString();
  });
  if (jids.length > MAX_JIDS) throw new StanzaError('not-acceptable', `<${listName}/> contains ${jids.length} JIDs, more than the maximum of ${MAX_JIDS}.`);
  return [...new Set(jids)];
}

/** Reads a `<prefs/>` element from a set request; throws bad-request for an unknown default. */
export function parsePrefs(prefs: Element): ArchivePrefs {
  const mode = prefs.attr('default');
  if (mode === undefined || !DEFAULTS.has(mode)) throw new StanzaError('bad-request', `Unknown archiving default "${mode ?? ''}".`);
  return { default: mode as ArchiveDefault, always: readJids(prefs, 'always'), never: readJids(prefs, 'never') };
}

/** Builds the `<prefs/>` element, with both lists present even when empty (XEP-0441 section 2.1). */
export function buildPrefs(prefs: ArchivePrefs): Element {
  const list = (name: string, jids: string[]) => x(name, NS.MAM, {}, ...jids.map((jid) => x('jid', NS.MAM, {}, jid)));
  return x('prefs', NS.MAM, { default: prefs.default }, list('always', prefs.always), list('never', prefs.never));
}

/** XEP-0441 section 2.3: a listed bare JID matches any resource, a listed full JID only itself. */
function listed(jids: string[], target: JID): boolean {
  const bare = target.bare().toString();
  const full = target.toString();
  return jids.some((jid) => jid === bare || jid === full);
}

/**
 * Decides whether the archive with `prefs` keeps a message to or from `target` (the 'to' of
 * an outgoing message, the 'from' of an incoming one). `inRoster` is asked only for the
 * 'roster' default. A JID in both lists is not archived.
 */
export async function prefsAllow(prefs: ArchivePrefs, target: JID, inRoster: () => Promise<boolean>): Promise<boolean> {
  if (listed(prefs.never, target)) return false;
  if (listed(prefs.always, target)) return true;
  if (prefs.default === 'always') return true;
  if (prefs.default === 'never') return false;
  return inRoster();
}

/** Most accounts whose preferences stay cached; past it the cache starts over. */
const MAX_CACHED = 10_000;

/**
 * The accounts' preferences, cached because archiving a message reads them for both
 * archives. Writes go through `set`, which keeps the cache current.
 */
export class PrefsStore {
  private readonly cache = new Map<string, ArchivePrefs>();
  /** Counts changes, so that a read which overlapped a change does not cache what it read. */
  private generation = 0;

  constructor(private readonly archive: ArchiveRepository) {}

  /** Returns the preferences of `owner`'s archive, the defaults when it set none. */
  async get(owner: JID): Promise<ArchivePrefs> {
    const key = owner.toString();
    const cached = this.cache.get(key);
    if (cached) return cached;

    const generation = this.generation;
    const prefs = (await this.archive.getPrefs(owner.domain, owner.local)) ?? DEFAULT_PREFS;
    if (generation === this.generation) {
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      this.cache.set(key, prefs);
    }
    return prefs;
  }

  /** Stores new preferences for `owner`'s archive. */
  async set(owner: JID, prefs: ArchivePrefs): Promise<void> {
    this.generation++;
    this.cache.delete(owner.toString());
    await this.archive.setPrefs(owner.domain, owner.local, prefs);
  }

  /** Drops the cached preferences of a deleted account. */
  forget(owner: JID): void {
    this.generation++;
    this.cache.delete(owner.toString());
  }
}

/** Handles a `<prefs/>` get or set: a set stores the new preferences, and both return those in force. */
export async function handlePrefs(store: PrefsStore, request: IqRequest): Promise<Element> {
  ensureOwnArchive(request);
  const owner = request.from.bare();
  if (request.stanza.attr('type') === 'set') {
    const prefs = parsePrefs(request.payload);
    await store.set(owner, prefs);
    return buildPrefs(prefs);
  }
  return buildPrefs(await store.get(owner));
}
