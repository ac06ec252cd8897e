/** Rules for the messages that offline storage keeps (XEP-0160 section 3, XEP-0334, XEP-0085). */
import { type Element, type JID, NS } from '@parley/xmpp';

/**
 * What to do with a message for an account with no available resource:
 * - 'store': keep it for the next session;
 * - 'drop': discard it silently, because it carries only chat states (XEP-0160 section 3
 *   rules out storing those, and an error reply to a typing notification helps no one), or
 *   because the server generated it with `<no-store/>` and no sender waits for an error reply;
 * - 'refuse': do not store it, so the sender gets service-unavailable (RFC 6121 section 8.5.2.2.1).
 */
export type OfflineDecision = 'store' | 'drop' | 'refuse';

/** Children that carry no content of their own next to a chat state. */
function isContentFree(child: Element): boolean {
  if (child.ns === NS.CHATSTATES || child.ns === NS.HINTS || child.ns === NS.STANZA_ID) return true;
  return child.ns === NS.CLIENT && child.name === 'thread';
}

/** Returns true for a message whose only content is a XEP-0085 chat state notification. */
export function isChatStateOnly(message: Element): boolean {
  const children = message.elements();
  return children.some((child) => child.ns === NS.CHATSTATES) && children.every(isContentFree);
}

/**
 * Returns true for a message the server generated for the account itself: one from the
 * account's bare JID or from its domain. Client stanzas never carry either, because the
 * session stamps them with the sender's full JID.
 */
function isFromServerForAccount(message: Element, recipient: JID): boolean {
  const from = message.attr('from');
  return from === recipient.bare().toString() || from === recipient.domain;
}

/** Decides whether offline storage keeps `message`, addressed to `recipient`. */
export function offlineDecision(message: Element, recipient: JID): OfflineDecision {
  const type = message.attr('type') ?? 'normal';
  // XEP-0160 section 3: groupchat, headline and error messages are not stored.
  if (type !== 'normal' && type !== 'chat') return 'refuse';
  // XEP-0334 section 4.2: <no-store/> forbids temporary storage for later delivery too. A
  // server-generated message (an inbox push) has no sender to tell, so it goes without an
  // error reply.
  if (message.getChild('no-store', NS.HINTS)) return isFromServerForAccount(message, recipient) ? 'drop' : 'refuse';
  if (isChatStateOnly(message)) return 'drop';
  return 'store';
}
