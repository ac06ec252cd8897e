import { type JID, StanzaError } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';
import { parseRosterSet } from './items.js';
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
  const change = await updateRecord(server, user, contact.toString(), (current) => (current !== null && isRosterItem(current) ? null : current));
  const removed = change.before;
  if (removed === null || !isRosterItem(removed)) {
    throw new StanzaError('item-not-found', `${contact.toString()} is not in the roster.`);
  }
  await server.hooks.fire('roster/removed', { user, item: removed });
}
