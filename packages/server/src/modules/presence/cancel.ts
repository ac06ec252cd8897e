import { JID } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { RosterItem } from '../../storage/index.js';
import { hasFrom, hasTo } from '../roster/records.js';
import { sendUnavailableResources } from './resources.js';
import { presenceOfType } from './stanzas.js';

/**
 * Ends both directions of the subscription between `user` and the contact of a roster
 * record that no longer exists (RFC 6121 2.5.2). The contact gets "unsubscribe" when the
 * user is subscribed or requested a subscription, and "unsubscribed" when the contact is
 * subscribed or requested one. If the contact was receiving the user's presence, unavailable
 * presence from each available resource follows.
 */
export async function cancelSubscriptions(server: ServerContext, user: JID, record: RosterItem): Promise<void> {
  const contact = JID.parseOrNull(record.contact);
  if (contact === null) return;
  const from = user.bare();

  if (hasTo(record.subscription) || record.ask) {
    await server.router.route(presenceOfType('unsubscribe', from, contact), from, contact);
  }
  if (hasFrom(record.subscription) || record.pendingIn) {
    await server.router.route(presenceOfType('unsubscribed', from, contact), from, contact);
  }
  if (hasFrom(record.subscription)) await sendUnavailableResources(server, from, contact);
}

/** Cancels every subscription of an account that is being deleted, so that its contacts' rosters follow. */
export async function cancelAllSubscriptions(server: ServerContext, host: string, username: string): Promise<void> {
  const user = JID.fromParts(username, host);
  const records = await server.storage.roster.list(host, username);
  for (const record of records) await cancelSubscriptions(server, user, record);
}
