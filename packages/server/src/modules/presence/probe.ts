import { JID } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import { isSharedContact, sharedContactsOf } from '../roster/overlay.js';
import { hasFrom } from '../roster/records.js';
import { presenceOfType } from './stanzas.js';
import { sendAvailableResources } from './resources.js';

/**
 * Replies to a presence probe from `requester` for the local account `contact` (RFC 6121
 * 4.3.2). A subscriber gets the last presence of each available resource, and nothing
 * while the contact is offline. Anyone else gets "unsubscribed" and no presence, which
 * also repairs a subscription that only one side records. A shared contact counts as a
 * subscriber.
 */
export async function replyToProbe(server: ServerContext, contact: JID, requester: JID): Promise<void> {
  const record = await server.storage.roster.get(contact.domain, contact.local, requester.bare().toString());
  const subscribed = record !== null && hasFrom(record.subscription);
  if (!subscribed && !(await isSharedContact(server, contact, requester))) {
    const bareRequester = requester.bare();
    await server.router.route(presenceOfType('unsubscribed', contact.bare(), bareRequester), contact.bare(), bareRequester);
    return;
  }
  await sendAvailableResources(server, contact, requester);
}

/**
 * Fetches the presence of the user's contacts for a session that just became available
 * (RFC 6121 4.2.2). For a local contact this server is also the contact's server, so it
 * handles the probe itself and sends the replies straight to the new session's full JID.
 * A contact of another domain gets a probe from the user's bare JID (RFC 6121 4.3.1), and
 * its server's replies reach the user's available resources.
 */
export async function probeContacts(server: ServerContext, session: ClientSession): Promise<void> {
  const user = session.jid!;
  const subscriptions = await server.storage.roster.listSubscriptions(user.domain, user.local);
  const contacts = new Set([...subscriptions.map((item) => item.contact), ...(await sharedContactsOf(server, user)).keys()]);
  for (const item of contacts) {
    const contact = JID.parseOrNull(item);
    if (contact === null || contact.local === '') continue;
    if (contact.domain === server.config.domain) await replyToProbe(server, contact, user);
    else if (server.config.s2s.enabled && !server.router.serves(contact.domain)) await server.router.route(presenceOfType('probe', user.bare(), contact.bare()), user.bare(), contact.bare());
  }
}
