import type { JID } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { RosterItem } from '../../storage/index.js';
import { itemElement, removedItemElement } from './items.js';
import { AccountLocks } from './lock.js';
import { composeVersion, mergeShared, sharedContactsOf, sharedTag } from './overlay.js';
import { pushToInterested } from './push.js';
import { isEmptyRequest, isRosterItem } from './records.js';

/** The outcome of updateRecord. */
export interface RecordChange {
  before: RosterItem | null;
  after: RosterItem | null;
  /** Roster version after the change, or null when nothing was written. */
  version: number | null;
}

/** Computes the new record from the stored one: null deletes it, returning `current` itself writes nothing. */
export type RecordEdit = (current: RosterItem | null) => RosterItem | null;

const locksByServer = new WeakMap<ServerContext, AccountLocks>();

/**
 * Reads the record of `contact` in the roster of `user`, applies `edit` and stores the
 * result, all under the account's lock. A stored request that no longer contains any
 * state is deleted. Afterwards every interested resource gets a roster push, unless the record
 * was never a visible roster item.
 */
export async function updateRecord(server: ServerContext, user: JID, contact: string, edit: RecordEdit): Promise<RecordChange> {
  const locks = locksOf(server);
  const change = await locks.run(user.bare().toString(), () => applyEdit(server, user, contact, edit));
  await pushChange(server, user, contact, change);
  return change;
}

async function applyEdit(server: ServerContext, user: JID, contact: string, edit: RecordEdit): Promise<RecordChange> {
  const roster = server.storage.roster;
  const before = await roster.get(user.domain, user.local, contact);
  let after = edit(before);
  if (after === before) return { before, after, version: null };
  if (after !== null && isEmptyRequest(after)) after = null;

  if (after === null) {
    const version = await roster.remove(user.domain, user.local, contact);
    return { before, after: null, version };
  }
  const version = await roster.put(user.domain, user.local, after);
  return { before, after: { ...after, version }, version };
}

/** Pushes the changed item as the user sees it: merged with the shared contact when the contact is one (overlay.ts). */
async function pushChange(server: ServerContext, user: JID, contact: string, change: RecordChange): Promise<void> {
  if (change.version === null) return;
  const shared = await sharedContactsOf(server, user);
  const version = composeVersion(change.version, sharedTag(shared));
  const sharedContact = shared.get(contact);
  if (sharedContact !== undefined) {
    pushToInterested(server, user, itemElement(mergeShared(change.after, sharedContact)), version);
  } else if (change.after !== null && isRosterItem(change.after)) {
    pushToInterested(server, user, itemElement(change.after), version);
  } else if (change.before !== null && isRosterItem(change.before)) {
    pushToInterested(server, user, removedItemElement(contact), version);
  }
}

function locksOf(server: ServerContext): AccountLocks {
  let locks = locksByServer.get(server);
  if (!locks) {
    locks = new AccountLocks();
    locksByServer.set(server, locks);
  }
  return locks;
}
