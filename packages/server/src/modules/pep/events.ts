/** Event notifications of XEP-0060 section 7 as PEP sends them (XEP-0163 section 4.3.1). */
import { randomBytes } from 'node:crypto';
import { type Element, type JID, NS, x } from '@parley/xmpp';
import { NS_ADDRESS, NS_PUBSUB_EVENT } from './ns.js';

/** Prefix of the ids of notification messages, so that error replies to them are recognised. */
export const NOTIFICATION_ID_PREFIX = 'pep-';

/** Builds the `<item/>` of a notification, with or without its payload. */
export function eventItem(id: string, payload: Element[], withPayload: boolean): Element {
  return x('item', NS_PUBSUB_EVENT, { id }, ...(withPayload ? payload : []));
}

/** Builds `<items node><retract id/></items>` for a retraction notification. */
export function retractEvent(node: string, id: string): Element {
  return x('items', NS_PUBSUB_EVENT, { node }, x('retract', NS_PUBSUB_EVENT, { id }));
}

/**
 * Builds the headline message that carries an `<event/>`. The sender is the owner's bare
 * JID (XEP-0163 section 4.3.1). `replyTo`, the publishing resource, goes in an XEP-0033
 * address and is meant only for recipients with a presence subscription to the owner.
 */
export function notificationMessage(owner: JID, to: JID, content: Element, extra: { replyTo?: string; delay?: number } = {}): Element {
  const id = `${NOTIFICATION_ID_PREFIX}${randomBytes(9).toString('base64url')}`;
  const message = x('message', NS.CLIENT, { from: owner.bare().toString(), to: to.toString(), type: 'headline', id }, x('event', NS_PUBSUB_EVENT, {}, content));
  if (extra.replyTo !== undefined) message.append(x('addresses', NS_ADDRESS, {}, x('address', NS_ADDRESS, { type: 'replyto', jid: extra.replyTo })));
  if (extra.delay !== undefined) message.append(x('delay', NS.DELAY, { from: owner.bare().toString(), stamp: new Date(extra.delay).toISOString() }));
  return message;
}
