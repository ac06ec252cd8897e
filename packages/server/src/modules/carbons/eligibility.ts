/** Eligibility of messages for carbon copies (XEP-0280 section 6). */
import { type Element, NS } from '@parley/xmpp';
import { NS_CARBONS, NS_CHAT_MARKERS, NS_MUC_USER, NS_RECEIPTS } from './ns.js';

/** Whether a copy goes to the sender's other resources or to the recipient's. */
export type CarbonDirection = 'sent' | 'received';

/** Namespaces whose payload makes a message of type "normal" part of a conversation. */
const CONVERSATION_NAMESPACES: ReadonlySet<string> = new Set([NS.CHATSTATES, NS_RECEIPTS, NS_CHAT_MARKERS]);

/** Tells whether `message` is itself a carbon copy: it has a `<sent/>` or `<received/>` child in the carbons namespace. */
export function isCarbonCopy(message: Element): boolean {
  return message.elements().some((child) => child.ns === NS_CARBONS && (child.name === 'sent' || child.name === 'received'));
}

/** Tells whether the sender excluded `message` from carbons: `<private/>` (XEP-0280 section 9) or `<no-copy/>` (XEP-0334). */
export function isPrivate(message: Element): boolean {
  return message.getChild('private', NS_CARBONS) !== undefined || message.getChild('no-copy', NS.HINTS) !== undefined;
}

/**
 * Applies the rules of XEP-0280 section 6: chat messages, and normal messages with a body,
 * a chat state, a receipt or a chat marker, are copied. Copies are never copied again,
 * private messages never, and messages from a MUC room (they carry a muc#user element) are
 * not copied to the recipient. Error messages are not copied, because that would need
 * tracking which messages were copied.
 */
export function isEligible(message: Element, direction: CarbonDirection): boolean {
  if (message.name !== 'message' || isCarbonCopy(message) || isPrivate(message)) return false;
  if (direction === 'received' && message.getChild('x', NS_MUC_USER)) return false;

  const type = message.attr('type') ?? 'normal';
  if (type === 'chat') return true;
  if (type !== 'normal') return false;
  return message.elements().some((child) => (child.name === 'body' && child.ns === NS.CLIENT) || CONVERSATION_NAMESPACES.has(child.ns));
}
