import type { ServerContext } from '../../core/context.js';
import type { StanzaEvent } from '../../core/events.js';
import { receiveSubscription } from './inbound-subscription.js';
import { replyToProbe } from './probe.js';
import { isSubscriptionType } from './states.js';

/**
 * Handles presence routed to a local account, at its bare or a full JID, and claims
 * subscription stanzas and probes. Available, unavailable and error presence is left to
 * the router, which follows RFC 6121 8.5: it delivers to every available resource for a
 * bare JID, and to the addressed resource if it is online for a full JID.
 */
export async function handleInbound(server: ServerContext, event: StanzaEvent): Promise<boolean> {
  const type = event.stanza.attr('type');
  if (isSubscriptionType(type)) {
    await receiveSubscription(server, event, type);
    return true;
  }
  if (type === 'probe') {
    await replyToProbe(server, event.to.bare(), event.from);
    return true;
  }
  return false;
}
