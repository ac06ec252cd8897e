import type { Element, JID } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import type { RosterItem } from '../../storage/index.js';
import { hasFrom } from '../roster/records.js';
import { updateRecord } from '../roster/store.js';
import { type OutboundDecision, decideOutbound } from './decisions.js';
import { sendAvailableResources, sendUnavailableResources } from './resources.js';
import { readdress } from './stanzas.js';
import type { SubscriptionType } from './states.js';

/**
 * Handles a subscription stanza a user sent (RFC 6121 3.1.2, 3.2.2, 3.3.2 and 3.4). It
 * updates the roster, pushes the change, and routes the stanza from the user's bare JID
 * to the contact's bare JID where Appendix A.2 calls for routing.
 */
export async function sendSubscription(server: ServerContext, session: ClientSession, stanza: Element, type: SubscriptionType, to: JID): Promise<void> {
  const user = session.jid!.bare();
  const contact = to.bare();
  if (contact.equals(user)) {
    session.log.debug({ type }, 'ignored a subscription stanza to the user itself');
    return;
  }

  let decision: OutboundDecision = { record: null, forward: false };
  const change = await updateRecord(server, user, contact.toString(), (current) => {
    decision = decideOutbound(type, current, contact.toString());
    return decision.record;
  });
  if (!decision.forward) return;

  await server.router.route(readdress(stanza, user, contact), user, contact);
  await followUp(server, type, user, contact, change.before);
}

/** Sends the presence that a change of the contact's subscription to the user calls for. */
async function followUp(server: ServerContext, type: SubscriptionType, user: JID, contact: JID, before: RosterItem | null): Promise<void> {
  if (type === 'subscribed') await sendAvailableResources(server, user, contact);
  if (type === 'unsubscribed' && before !== null && hasFrom(before.subscription)) await sendUnavailableResources(server, user, contact);
}
