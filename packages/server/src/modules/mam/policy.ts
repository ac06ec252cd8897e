/** Archiving rules: the messages that go into the archive (XEP-0313 section 7.1.1, XEP-0334 hints). */
import { type Element, NS } from '@parley/xmpp';
import { isChatStateOnly } from '../offline/policy.js';

/** Returns true for content a history view shows: a body, a correction or a retraction. */
function hasHistoryContent(message: Element): boolean {
  if (message.getChild('body', NS.CLIENT)) return true;
  if (message.getChild('replace', NS.CORRECT)) return true;
  return message.getChild('retract', NS.RETRACT) !== undefined;
}

/**
 * Decides whether `message` is archived. Errors never are, nor messages with a
 * `<no-store/>` or `<no-permanent-store/>` hint, nor chat-state-only messages. Chat and
 * normal messages are when they carry history content, or any content with a `<store/>`
 * hint.
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
