/** Archiving rules: the messages that go into the archive (XEP-0313 section 7.1.1, XEP-0334 hints). */
import { type Element, NS } from '@parley/xmpp';
import { NS_CHAT_MARKERS } from '../carbons/ns.js';
import { isChatStateOnly } from '../offline/policy.js';

/** The chat markers (XEP-0333) that report on an earlier message; `<markable/>` only requests them. */
const MARKERS: ReadonlySet<string> = new Set(['received', 'displayed', 'acknowledged']);

/** Returns true for a message that carries a chat marker (XEP-0333). */
export function hasChatMarker(message: Element): boolean {
  return message.elements().some((child) => child.ns === NS_CHAT_MARKERS && MARKERS.has(child.name));
}

/**
 * Returns true for content a history view shows: a body, a correction, a retraction, or a
 * chat marker, which a client that was offline needs to show what the peer has read.
 */
function hasHistoryContent(message: Element): boolean {
  if (message.getChild('body', NS.CLIENT)) return true;
  if (message.getChild('replace', NS.CORRECT)) return true;
  if (message.getChild('retract', NS.RETRACT)) return true;
  return hasChatMarker(message);
}

/**
 * Decides whether `message` is archived. Errors never are, nor messages with a
 * `<no-store/>` or `<no-permanent-store/>` hint, nor chat-state-only messages. Chat and
 * normal messages are when they carry history content (chat markers included), or any
 * content with a `<store/>` hint.
 */
export function isArchivable(message: Element): boolean {
  const type = message.attr('type') ?? 'normal';
  if (type === 'error') return false;
  if (message.getChild('no-store', NS.HINTS) || message.getChild('no-permanent-store', NS.HINTS)) return false;
  if (isChatStateOnly(message)) return false;
  // Groupchat messages go to the room's archive (modules/muc/archive), not to the occupants' own archives.
  if (type !== 'chat' && type !== 'normal') return false;
  if (message.getChild('store', NS.HINTS)) return true;
  return hasHistoryContent(message);
}
