import { StanzaError, errorReply } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { OutboundEvent } from '../../core/events.js';
import { publishAvailable, publishUnavailable } from './broadcast.js';
import { sendDirected } from './directed.js';
import { sendSubscription } from './outbound-subscription.js';
import { isSubscriptionType } from './states.js';

/** Handles every presence stanza a client sends; always claims the event. */
export async function handleOutbound(server: ServerContext, event: OutboundEvent): Promise<boolean> {
  const { stanza, session, to } = event;
  const type = stanza.attr('type');

  if (isSubscriptionType(type)) {
    if (to) await sendSubscription(server, session, stanza, type, to);
  } else if (type === 'probe') {
    // RFC 6121 4.3: only servers send probes, so a client's probe is dropped.
    session.log.debug('ignored a presence probe from a client');
  } else if (type === 'error') {
    if (to) await server.router.route(stanza, session.jid!, to, session);
  } else if (type !== undefined && type !== 'unavailable') {
    session.send(errorReply(stanza, new StanzaError('bad-request', `Unknown presence type "${type}".`)));
  } else if (to) {
    await sendDirected(server, session, stanza, to);
  } else if (type === 'unavailable') {
    await publishUnavailable(server, session, stanza);
  } else {
    await publishAvailable(server, session, stanza);
  }
  return true;
}
