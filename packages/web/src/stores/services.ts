import { markRaw } from 'vue';
import type { XmppClientLike } from '../xmpp/index.js';
import type { ParleyDb } from '../data/schema.js';
import type { ChatStore } from '../data/index.js';

/**
 * The signed-in account's connection, database and chat store. They stay outside Pinia's
 * reactive state (markRaw) because they are large, long-lived objects with their own events.
 */
export interface AccountServices {
  client: XmppClientLike;
  db: ParleyDb;
  chat: ChatStore;
  /** Stops everything the stores started for this account (listeners, timers). */
  cleanups: (() => void)[];
}

let current: AccountServices | undefined;

export function setServices(services: AccountServices | undefined): void {
  current = services && markRaw(services);
}

/** Returns the current account's services. Throws when no account is signed in, which is a bug in the caller. */
export function services(): AccountServices {
  if (!current) throw new Error('no account is signed in');
  return current;
}

export function maybeServices(): AccountServices | undefined {
  return current;
}
