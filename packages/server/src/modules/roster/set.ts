import { type JID, StanzaError } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';
import { itemElement, parseRosterSet } from './items.js';
import { composeVersion, mergeShared, sharedContactsOf, sharedTag } from './overlay.js';
import { pushToInterested } from './push.js';
import { isRosterItem, newRosterItem } from './records.js';
import { updateRecord } from './store.js';

/** Handles a roster set (RFC 6121 2.3 adds or updates an item, 2.5 removes one). */
export async function handleRosterSet(server: ServerContext, request: IqRequest): Promise<undefined> {
  if (!request.self) throw new StanzaError('forbidden', 'A user can only change its own roster.');
  const user = request.from.bare();
  const parsed = parseRosterSet(request.payload, user);

  if (parsed.remove) await removeItem(server, user, parsed.contact);
  else await saveItem(server, user, parsed.contact, parsed.name, parsed.groups);
  return undefined;
}

/** Sets the name and groups of an item, creating it if needed; the subscription state stays as it is. */
async function saveItem(server: ServerContext, user: JID, contact: JID, name: string | null, groups: string[]): Promise<void> {
  // TODO: cap the number of items in one roster.

  // Replacing the groups also turns a stored request from the contact into a visible item.
  await updateRecord(server, user, contact.toString(), (current) => ({ ...(current ?? newRosterItem(contact.toString())), name, groups }));
}

/**
 * Deletes an item (RFC 6121 2.5.2). The 'roster/removed' event then lets the presence
 * module cancel the subscriptions in both directions.
 */
async function removeItem(server: ServerContext, user: JID, contact: JID): Promise<void> {
  if (await resetSharedItem(server, user, contact)) return;
  const change = await updateRecord(server, user, contact.toString(), (current) => (current !== null && isRosterItem(current) ? null : current));
  const removed = change.before;
  if (removed === null || !isRosterItem(removed)) {
    throw new StanzaError('item-not-found', `${contact.toString()} is not in the roster.`);
  }
  await server.hooks.fire('roster/removed', { user, item: removed });
}

/**
 * A user cannot remove a contact of a shared roster group: as ejabberd's mod_shared_roster
 * does, the removal resets the item to the shared one instead. The user's own name and
 * groups go, its subscription state stays, and every resource gets a push of the shared
 * item. Returns false when the contact is not shared.
 */
async function resetSharedItem(server: ServerContext, user: JID, contact: JID): Promise<boolean> {
  const shared = await sharedContactsOf(server, user);
  const sharedContact = shared.get(contact.toString());
  if (sharedContact === undefined) return false;

  const change = await updateRecord(server, user, contact.toString(), (current) =>
    current !== null && isRosterItem(current) && (current.name !== null || current.groups.length > 0) ? { ...current, name: null, groups: [] } : current,
  );
  if (change.version === null) {
    // Nothing was stored to reset, so updateRecord pushed nothing; the client still expects a push.
    const version = composeVersion(await server.storage.roster.version(user.domain, user.local), sharedTag(shared));
    pushToInterested(server, user, itemElement(mergeShared(change.after, sharedContact)), version);
  }
  return true;
}
