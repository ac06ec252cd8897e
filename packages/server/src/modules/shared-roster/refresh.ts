/** Brings an online account's roster and presence in step with its current shared contacts. */
import { JID, parseFrame } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import { presenceOfType, readdress } from '../presence/stanzas.js';
import { itemElement, removedItemElement } from '../roster/items.js';
import { composeVersion, mergeShared, sharedTag } from '../roster/overlay.js';
import { pushToLocal } from '../roster/push.js';
import { hasTo, isRosterItem } from '../roster/records.js';
import { type SharedEntry, loadSharedContacts, sameEntry } from './contacts.js';
import type { SharedView, SharedViews } from './views.js';

/**
 * Compares the account's shared contacts with what it was shown, pushes each added,
 * changed or removed item to its interested resources, and sends presence: an added
 * contact's available resources present themselves, a removed contact's go unavailable
 * unless the account still subscribes to it. The other direction happens when the
 * contact's own view is refreshed. Accounts without sessions only lose their view.
 */
export async function refreshAccount(server: ServerContext, views: SharedViews, user: JID, excluded: ReadonlySet<string> = new Set()): Promise<void> {
  const key = user.bare().toString();
  if (server.sessions.resources(user.bare()).length === 0) {
    views.forget(key);
    return;
  }

  const before = views.get(key) ?? new Map<string, SharedEntry>();
  const after = await loadSharedContacts(server, user, excluded);
  views.set(key, after);

  const added = [...after.values()].filter((entry) => !before.has(entry.contact));
  const changed = [...after.values()].filter((entry) => before.has(entry.contact) && !sameEntry(before.get(entry.contact)!, entry));
  const removed = [...before.values()].filter((entry) => !after.has(entry.contact));
  if (added.length + changed.length + removed.length === 0) return;

  await pushItems(server, user, after, [...added, ...changed], removed);
  for (const entry of added) await sendPresenceOf(server, JID.parse(entry.contact), user, false);
  for (const entry of removed) {
    const record = await server.storage.roster.get(user.domain, user.local, entry.contact);
    if (record === null || !hasTo(record.subscription)) await sendPresenceOf(server, JID.parse(entry.contact), user, true);
  }
}

async function pushItems(server: ServerContext, user: JID, view: SharedView, updated: SharedEntry[], removed: SharedEntry[]): Promise<void> {
  const version = composeVersion(await server.storage.roster.version(user.domain, user.local), sharedTag(view));
  for (const entry of removed) {
    const own = await server.storage.roster.get(user.domain, user.local, entry.contact);
    pushToLocal(server, user, own !== null && isRosterItem(own) ? itemElement(own) : removedItemElement(entry.contact), version);
  }
  for (const entry of updated) {
    const own = await server.storage.roster.get(user.domain, user.local, entry.contact);
    pushToLocal(server, user, itemElement(mergeShared(own, entry)), version);
  }
}

/**
 * Routes the presence of each available resource of `contact`, on any cluster node, to the
 * sessions of `user` on this node: its last presence, or unavailable. The other nodes
 * refresh their own sessions of `user`.
 */
async function sendPresenceOf(server: ServerContext, contact: JID, user: JID, unavailable: boolean): Promise<void> {
  const sources = server.sessions.available(contact).map((session) => ({ from: session.jid!, presence: session.presence! }));
  for (const remote of server.cluster?.available(contact) ?? []) {
    if (remote.presence !== undefined) sources.push({ from: remote.jid, presence: parseFrame(remote.presence, { maxStanzaBytes: server.config.sessions.max_stanza_bytes * 2 }) });
  }
  for (const target of server.sessions.available(user.bare())) {
    const to = target.jid!;
    for (const { from, presence } of sources) await server.router.route(unavailable ? presenceOfType('unavailable', from, to) : readdress(presence, from, to), from, to);
  }
}
