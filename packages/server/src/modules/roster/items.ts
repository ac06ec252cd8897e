import { type Element, JID, JidError, NS, StanzaError, x } from '@parley/xmpp';
import type { RosterItem } from '../../storage/index.js';

/** Maximum length of an item name, in characters (RFC 6121 2.3.3 leaves the limit to the server). */
export const MAX_NAME_LENGTH = 1024;
/** Maximum length of a group name, in characters. */
export const MAX_GROUP_LENGTH = 1024;
/** Maximum number of groups of one item. */
export const MAX_GROUPS = 100;

/** A validated roster set request (RFC 6121 2.3 and 2.5). */
export interface RosterSetRequest {
  /** Bare JID of the contact. */
  contact: JID;
  /** True for subscription='remove'; name and groups are then empty. */
  remove: boolean;
  name: string | null;
  groups: string[];
}

/** Builds the `<item/>` element that represents a roster item in results and pushes (RFC 6121 2.1.2). */
export function itemElement(item: RosterItem): Element {
  const attrs = {
    jid: item.contact,
    name: item.name ?? undefined,
    subscription: item.subscription,
    ask: item.ask ? 'subscribe' : undefined,
    approved: item.approved ? 'true' : undefined,
  };
  return x('item', NS.ROSTER, attrs, ...item.groups.map((group) => x('group', NS.ROSTER, {}, group)));
}

/** Builds the `<item subscription='remove'/>` element of a push for a deleted item (RFC 6121 2.5.2). */
export function removedItemElement(contact: string): Element {
  return x('item', NS.ROSTER, { jid: contact, subscription: 'remove' });
}

/**
 * Reads and checks the single item of a roster set from `user`; throws StanzaError with
 * the conditions of RFC 6121 2.3.3 and 2.5.3. A 'subscription' attribute other than
 * 'remove' is ignored, and so are 'ask' and 'approved', which only the server sets.
 */
export function parseRosterSet(query: Element, user: JID): RosterSetRequest {
  const items = query.getChildren('item', NS.ROSTER);
  if (items.length !== 1) throw new StanzaError('bad-request', `A roster set must contain exactly one item, not ${items.length}.`);
  const item = items[0]!;

  const contact = parseContact(item.attr('jid'), user);
  if (item.attr('subscription') === 'remove') return { contact, remove: true, name: null, groups: [] };

  return { contact, remove: false, name: parseName(item.attr('name')), groups: parseGroups(item) };
}

function parseContact(value: string | undefined, user: JID): JID {
  if (value === undefined) throw new StanzaError('bad-request', 'The roster item has no jid attribute.');

  let contact: JID;
  try {
    contact = JID.parse(value);
  } catch (err) {
    if (err instanceof JidError) throw new StanzaError('jid-malformed', `The roster item JID "${value}" is invalid: ${err.message}`);
    throw err;
  }

  if (!contact.isBare()) throw new StanzaError('bad-request', `The roster item JID "${value}" must be a bare JID, without a resource.`);
  if (contact.equals(user.bare())) throw new StanzaError('not-allowed', 'The user cannot add its own JID to its roster.');
  return contact;
}

function parseName(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (characterCount(value) > MAX_NAME_LENGTH) {
    throw new StanzaError('not-acceptable', `The item name is longer than ${MAX_NAME_LENGTH} characters.`);
  }
  return value;
}

function parseGroups(item: Element): string[] {
  const groups = item.getChildren('group', NS.ROSTER).map((group) => group.text());
  if (groups.length > MAX_GROUPS) throw new StanzaError('not-acceptable', `An item may belong to at most ${MAX_GROUPS} groups.`);

  for (const group of groups) {
    if (group === '') throw new StanzaError('not-acceptable', 'A group name must not be empty.');
    if (characterCount(group) > MAX_GROUP_LENGTH) {
      throw new StanzaError('not-acceptable', `The group name is longer than ${MAX_GROUP_LENGTH} characters.`);
    }
  }
  if (new Set(groups).size !== groups.length) throw new StanzaError('bad-request', 'The item lists the same group twice.');
  return groups;
}

function characterCount(text: string): number {
  return [...text].length;
}
