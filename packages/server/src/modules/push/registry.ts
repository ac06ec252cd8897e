/**
 * The push registrations of every account, stored in `push_registrations`, and which session
 * enabled which. A registration whose session is connected gets no notifications. One whose
 * session hibernates gets them for the messages queued there, and one whose session is gone
 * gets them for messages stored offline.
 */
import type { JID } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import { type PushAccount, type PushRegistration, PushRegistrationStore } from './store.js';

/** Session data key: the device keys of the registrations this session enabled. */
const SESSION_DEVICES = 'push.devices';

type RemovedListener = (account: JID, deviceKey: string) => void;

/** Identifies one registration of an account: its app server and node. */
export function deviceKey(registration: Pick<PushRegistration, 'service' | 'node'>): string {
  return `${registration.service}\u0000${registration.node}`;
}

function accountOf(jid: JID): PushAccount {
  return { host: jid.domain, username: jid.local };
}

function sessionDevices(session: ClientSession): Set<string> {
  let devices = session.data.get(SESSION_DEVICES) as Set<string> | undefined;
  if (devices === undefined) {
    devices = new Set();
    session.data.set(SESSION_DEVICES, devices);
  }
  return devices;
}

export class PushRegistry {
  private readonly store: PushRegistrationStore;
  /** Usernames with at least one registration, so that messages to other accounts cost no query. */
  private readonly accounts = new Set<string>();
  private readonly removedListeners: RemovedListener[] = [];

  constructor(private readonly server: ServerContext) {
    this.store = new PushRegistrationStore(server.storage.db);
  }

  /** Loads which accounts have registrations; called once at start. */
  async load(): Promise<void> {
    for (const username of await this.store.accounts(this.server.config.domain)) this.accounts.add(username);
  }

  /** Calls `listener` after a registration was removed, by the user or after a publish error. */
  onRemoved(listener: RemovedListener): void {
    this.removedListeners.push(listener);
  }

  /** True when the account may have registrations; false is certain. */
  mayHave(account: JID): boolean {
    return account.domain === this.server.config.domain && this.accounts.has(account.local);
  }

  async list(account: JID): Promise<PushRegistration[]> {
    if (!this.mayHave(account)) return [];
    return this.store.list(accountOf(account));
  }

  /**
   * Stores the registration and ties it to `session`. Returns false when the account already
   * has `max` other registrations.
   */
  async enable(account: JID, registration: PushRegistration, session: ClientSession, max: number): Promise<boolean> {
    if (!(await this.store.put(accountOf(account), registration, max, Date.now()))) return false;
    this.accounts.add(account.local);

    // The device now belongs to this session only, whichever session enabled it before.
    const key = deviceKey(registration);
    this.untie(account, key);
    sessionDevices(session).add(key);
    return true;
  }

  /** Removes the registrations of `service`: the one with `node`, or all of them. */
  async remove(account: JID, service: string, node?: string): Promise<void> {
    const removed = await this.store.remove(accountOf(account), service, node);
    for (const removedNode of removed) this.forget(account, deviceKey({ service, node: removedNode }));
    if (removed.length > 0 && (await this.store.list(accountOf(account))).length === 0) this.accounts.delete(account.local);
  }

  /** Drops what is kept in memory about a deleted account; its rows cascade. */
  accountDeleted(username: string): void {
    this.accounts.delete(username);
  }

  /** Returns the device keys of the registrations that `session` enabled. */
  devicesOf(session: ClientSession): ReadonlySet<string> {
    return (session.data.get(SESSION_DEVICES) as Set<string> | undefined) ?? new Set();
  }

  /** True when a session of the account is connected, which hibernating sessions are not. */
  hasConnectedSession(account: JID): boolean {
    return this.server.sessions.resources(account).some((session) => !session.hibernating);
  }

  /** Returns the device keys that a connected session of the account enabled. */
  connectedDevices(account: JID): Set<string> {
    const keys = new Set<string>();
    for (const session of this.server.sessions.resources(account)) {
      if (session.hibernating) continue;
      for (const key of this.devicesOf(session)) keys.add(key);
    }
    return keys;
  }

  private forget(account: JID, key: string): void {
    this.untie(account, key);
    for (const listener of this.removedListeners) listener(account, key);
  }

  private untie(account: JID, key: string): void {
    for (const session of this.server.sessions.resources(account)) {
      const devices = session.data.get(SESSION_DEVICES) as Set<string> | undefined;
      devices?.delete(key);
    }
  }
}
