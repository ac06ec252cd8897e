/** Delayed delivery stamps (XEP-0203) on stored messages. */
import { type Element, NS, x } from '@parley/xmpp';

/**
 * Returns a copy of `message` with `<delay from=domain stamp=storedAt>` (XEP-0160 section 2).
 * A delay that claims to come from `domain` already is removed first, so that a client
 * cannot forge the server's stamp. Delays added by other entities stay.
 */
export function withOfflineDelay(message: Element, domain: string, storedAt: number): Element {
  const copy = message.clone();
  copy.removeChildren((child) => child.name === 'delay' && child.ns === NS.DELAY && child.attr('from') === domain);
  copy.append(x('delay', NS.DELAY, { from: domain, stamp: new Date(storedAt).toISOString() }, 'Offline Storage'));
  return copy;
}
