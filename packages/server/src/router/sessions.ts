import type { JID } from '@parley/xmpp';
import type { ClientSession } from '../c2s/session.js';

/** Told about each bound session's arrival, presence changes and departure (the cluster registry listens). */
export interface SessionListener {
  added(session: ClientSession): void;
  /** Resolves once the change is visible to other nodes. */
  changed(session: ClientSession): Promise<void> | void;
  removed(session: ClientSession): void;
}

/** The bound sessions of this process, by bare JID and resource. */
export class SessionRegistry {
  private readonly byBare = new Map<string, Map<string, ClientSession>>();
  private readonly listeners: SessionListener[] = [];
  /** Removed sessions whose teardown ('session/closed' and rerouting) still runs, by full JID. */
  private readonly ending = new Map<string, Promise<void>>();
  private total = 0;

  listen(listener: SessionListener): void {
    this.listeners.push(listener);
  }

  /** Reports that `session` changed its presence or priority; resolves once the listeners recorded it. */
  async changed(session: ClientSession): Promise<void> {
    if (!session.jid || this.get(session.jid) !== session) return;
    await Promise.all(this.listeners.map((listener) => listener.changed(session)));
  }

  add(session: ClientSession): void {
    const jid = session.jid!;
    const key = jid.bare().toString();
    let resources = this.byBare.get(key);
    if (!resources) {
      resources = new Map();
      this.byBare.set(key, resources);
    }
    if (!resources.has(jid.resource)) this.total++;
    resources.set(jid.resource, session);
    for (const listener of this.listeners) listener.added(session);
  }

  remove(session: ClientSession): void {
    const jid = session.jid;
    if (!jid) return;
    const key = jid.bare().toString();
    const resources = this.byBare.get(key);
    if (resources?.get(jid.resource) !== session) return;
    resources.delete(jid.resource);
    this.total--;
    if (resources.size === 0) this.byBare.delete(key);
    this.trackEnding(jid.toString(), session.ended);
    for (const listener of this.listeners) listener.removed(session);
  }

  /** Tells whether a removed session of `full` is still tearing down. */
  isEnding(full: JID): boolean {
    return this.ending.has(full.toString());
  }

  /** Resolves once no removed session of `full` is tearing down, or after `timeoutMs`. */
  async teardownOf(full: JID, timeoutMs: number): Promise<void> {
    const ended = this.ending.get(full.toString());
    if (ended === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([ended, timeout]);
    clearTimeout(timer);
  }

  private trackEnding(key: string, ended: Promise<void>): void {
    const previous = this.ending.get(key);
    const both = previous === undefined ? ended : Promise.all([previous, ended]).then(() => undefined);
    this.ending.set(key, both);
    void both.finally(() => {
      if (this.ending.get(key) === both) this.ending.delete(key);
    });
  }

  get(full: JID): ClientSession | undefined {
    return this.byBare.get(full.bare().toString())?.get(full.resource);
  }

  /** Returns all bound sessions of the account `bare`. */
  resources(bare: JID): ClientSession[] {
    const resources = this.byBare.get(bare.bare().toString());
    return resources ? [...resources.values()] : [];
  }

  /** Sessions that sent available presence, for presence broadcast and message delivery. */
  available(bare: JID): ClientSession[] {
    return this.resources(bare).filter((session) => session.presence !== undefined);
  }

  count(): number {
    return this.total;
  }

  *all(): IterableIterator<ClientSession> {
    for (const resources of this.byBare.values()) yield* resources.values();
  }
}
