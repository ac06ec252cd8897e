/** The contacts that shared roster groups put in one account's roster. */
import { JID } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { SharedContact } from '../roster/overlay.js';

/** A shared contact with the ids of the groups that share it. */
export interface SharedEntry extends SharedContact {
  groupIds: string[];
}

/**
 * Loads the contacts shared with `user`, keyed by bare JID, leaving out `excluded` bare
 * JIDs (an account being deleted, whose rows still exist). Accounts of other domains have none.
 */
export async function loadSharedContacts(server: ServerContext, user: JID, excluded: ReadonlySet<string> = new Set()): Promise<Map<string, SharedEntry>> {
  const contacts = new Map<string, SharedEntry>();
  if (user.domain !== server.config.domain || user.local === '') return contacts;

  for (const row of await server.storage.sharedRoster.contactsOf(user.domain, user.local)) {
    const contact = JID.fromParts(row.username, user.domain).toString();
    if (excluded.has(contact)) continue;
    const entry = contacts.get(contact) ?? { contact, name: row.displayName, groups: [], groupIds: [] };
    if (!entry.groups.includes(row.groupName)) entry.groups.push(row.groupName);
    entry.groupIds.push(row.groupId);
    contacts.set(contact, entry);
  }
  return contacts;
}

/** Tells whether two entries show the same item. */
export function sameEntry(a: SharedEntry, b: SharedEntry): boolean {
  return a.name === b.name && a.groups.length === b.groups.length && a.groups.every((group) => b.groups.includes(group));
}
