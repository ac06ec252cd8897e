import { type JID, serialize } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { StanzaEvent } from '../../core/events.js';
import { hasFrom } from '../roster/records.js';
import { updateRecord } from '../roster/store.js';
import { type InboundDecision, decideInbound } from './decisions.js';
import { sendAvailableResources, sendUnavailableResources } from './resources.js';
import { presenceOfType, readdress } from './stanzas.js';
import type { SubscriptionType } from './states.js';

/**
 * Handles a subscription stanza for a local user (RFC 6121 3.1.3, 3.2.3, 3.3.3 and 3.4).
 * It updates the roster, pushes the change, and delivers the stanza to the user's
 * available resources where Appendix A.3 calls for delivery. A stanza addressed to a full
 * JID is handled as if sent to the bare JID (RFC 6121 3.1.3).
 */
export async function receiveSubscription(server: ServerContext, event: StanzaEvent, type: SubscriptionType): Promise<void> {
  const user = event.to.bare();
  const contact = event.from.bare();
  if (contact.equals(user)) return;

  const stanza = readdress(event.stanza, contact, user);
  const stanzaXml = serialize(stanza);
  let decision: InboundDecision = { record: null, deliver: false, approve: false };
  const change = await updateRecord(server, user, contact.toString(), (current) => {
    decision = decideInbound(type, current, contact.toString(), stanzaXml);
    return decision.record;
  });

  if (decision.deliver) {
    for (const session of server.sessions.available(user)) session.send(stanza);
    await server.cluster?.forward({ stanza, from: contact, to: user }, server.cluster.available(user), 'copy');
  }
  if (decision.approve) await approveForUser(server, user, contact);
  if (type === 'unsubscribe' && change.before !== null && hasFrom(change.before.subscription)) {
    await sendUnavailableResources(server, user, contact);
  }
}

/** Sends "subscribed" for the user, then the user's presence, as the user's own approval would (RFC 6121 3.1.5). */
async function approveForUser(server: ServerContext, user: JID, contact: JID): Promise<void> {
  await server.router.route(presenceOfType('subscribed', user, contact), user, contact);
  await sendAvailableResources(server, user, contact);
}
