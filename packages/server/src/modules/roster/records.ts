import type { RosterItem, Subscription } from '../../storage/index.js';

/** Tells whether the record is a roster item the user can see, rather than a stored request only. */
export function isRosterItem(record: RosterItem): boolean {
  return !record.hidden;
}

/** Returns the roster items among `records`, leaving out stored requests. */
export function rosterItems(records: RosterItem[]): RosterItem[] {
  return records.filter(isRosterItem);
}

/** Builds a new roster item for `contact` with no subscription in either direction. */
export function newRosterItem(contact: string): RosterItem {
  return {
    contact,
    name: null,
    subscription: 'none',
    ask: false,
    pendingIn: false,
    pendingInStanza: null,
    approved: false,
    hidden: false,
    groups: [],
  };
}

/** Builds the record of a request from a contact that is not in the user's roster. */
export function itemlessRequest(contact: string, stanzaXml: string): RosterItem {
  return { ...newRosterItem(contact), pendingIn: true, pendingInStanza: stanzaXml, hidden: true };
}

/** Turns a stored request into a roster item, because the user acted on the contact (RFC 6121 3.1.2, 3.1.5, 3.4). */
export function asRosterItem(record: RosterItem): RosterItem {
  if (isRosterItem(record)) return record;
  return { ...record, hidden: false };
}

/** Tells whether a record contains no state worth keeping: a stored request that was withdrawn or denied. */
export function isEmptyRequest(record: RosterItem): boolean {
  return !isRosterItem(record) && !record.pendingIn && !record.ask && !record.approved && record.subscription === 'none';
}

/** Tells whether the user receives the contact's presence (subscription 'to' or 'both'). */
export function hasTo(subscription: Subscription): boolean {
  return subscription === 'to' || subscription === 'both';
}

/** Tells whether the contact receives the user's presence (subscription 'from' or 'both'). */
export function hasFrom(subscription: Subscription): boolean {
  return subscription === 'from' || subscription === 'both';
}

/** Combines the two directions into a subscription value. */
export function subscriptionOf(to: boolean, from: boolean): Subscription {
  if (to && from) return 'both';
  if (to) return 'to';
  if (from) return 'from';
  return 'none';
}
