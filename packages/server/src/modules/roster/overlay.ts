/**
 * The seam through which a module adds contacts to rosters that the users did not add
 * themselves: shared roster groups. A shared contact is shown with subscription 'both'
 * and its groups, and presence flows as if both were subscribed. The user's own record of
 * the same contact keeps its name, and its groups are shown too. Without an overlay every
 * function here leaves the roster as stored.
 */
import { createHash } from 'node:crypto';
import type { JID } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { RosterItem } from '../../storage/index.js';
import { isRosterItem, newRosterItem } from './records.js';

/** A contact that the overlay puts in a user's roster. */
export interface SharedContact {
  /** Bare JID of the contact. */
  contact: string;
  /** Name to show when the user's own record sets none. */
  name: string | null;
  /** Roster groups to show, such as the department's name. */
  groups: string[];
}

/** The source of shared contacts; the shared roster module registers one. */
export interface RosterOverlay {
  /** Returns the contacts shared with the account `user`, at most one per contact. */
  sharedContacts(user: JID): Promise<SharedContact[]>;
}

const overlays = new WeakMap<ServerContext, RosterOverlay>();

/** Registers the overlay of `server`; there is at most one. */
export function setRosterOverlay(server: ServerContext, overlay: RosterOverlay): void {
  overlays.set(server, overlay);
}

/** Returns the contacts shared with `user` by bare JID; empty without an overlay. */
export async function sharedContactsOf(server: ServerContext, user: JID): Promise<Map<string, SharedContact>> {
  const overlay = overlays.get(server);
  if (overlay === undefined) return new Map();
  const contacts = await overlay.sharedContacts(user.bare());
  return new Map(contacts.map((contact) => [contact.contact, contact]));
}

/** Tells whether `contact` is shared with `user`, so that presence flows both ways. */
export async function isSharedContact(server: ServerContext, user: JID, contact: JID): Promise<boolean> {
  return (await sharedContactsOf(server, user)).has(contact.bare().toString());
}

/**
 * Returns the item the user sees for a shared contact: subscription 'both', the user's own
 * name when it set one, and the groups of both. Pending flags are left out, because
 * nothing is pending between shared contacts.
 */
export function mergeShared(own: RosterItem | null, shared: SharedContact): RosterItem {
  const base = own !== null && isRosterItem(own) ? own : newRosterItem(shared.contact);
  const groups = [...new Set([...base.groups, ...shared.groups])];
  return { ...base, name: base.name ?? shared.name, subscription: 'both', ask: false, approved: false, pendingIn: false, pendingInStanza: null, hidden: false, groups };
}

/** Merges the stored records with the shared contacts; the result holds visible items only, ordered by contact. */
export function mergeRoster(records: RosterItem[], shared: Map<string, SharedContact>): RosterItem[] {
  const items = new Map<string, RosterItem>();
  for (const record of records) {
    const contact = shared.get(record.contact);
    if (contact !== undefined) items.set(record.contact, mergeShared(record, contact));
    else if (isRosterItem(record)) items.set(record.contact, record);
  }
  for (const contact of shared.values()) {
    if (!items.has(contact.contact)) items.set(contact.contact, mergeShared(null, contact));
  }
  return [...items.values()].sort((a, b) => (a.contact < b.contact ? -1 : a.contact > b.contact ? 1 : 0));
}

/**
 * Returns a tag of the shared contacts for roster versions: '' when there are none, so
 * rosters without shared contacts keep plain stored versions.
 */
export function sharedTag(shared: Map<string, SharedContact>): string {
  if (shared.size === 0) return '';
  const hash = createHash('sha256');
  for (const contact of [...shared.values()].sort((a, b) => (a.contact < b.contact ? -1 : 1))) {
    hash.update(JSON.stringify([contact.contact, contact.name, [...contact.groups].sort()]));
  }
  return hash.digest('base64url').slice(0, 16);
}

/** Builds the 'ver' of a roster: the stored version, then the shared tag when there is one. */
export function composeVersion(stored: number, tag: string): string {
  return tag === '' ? String(stored) : `${stored}-${tag}`;
}
