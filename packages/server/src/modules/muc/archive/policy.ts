/** Archiving rules for room messages (XEP-0313 section 7.1.1, XEP-0334 hints). */
import { type Element, NS } from '@parley/xmpp';
import type { MucArchiveKind } from '../../../storage/index.js';
import { hasChatMarker } from '../../mam/policy.js';

/**
 * Returns how `message` is archived, or undefined when it is not. Only groupchat messages
 * are, and never with a `<no-store/>` or `<no-permanent-store/>` hint. A subject and no
 * body is a subject change (XEP-0045 section 8.1). A body, a correction, a retraction, or
 * any content with a `<store/>` hint is a message. A chat marker alone is a marker. It is kept
 * so that a member who was away can read what others have read, and join history leaves it out. Chat
 * states alone are none of these.
 */
export function roomArchiveKind(message: Element): MucArchiveKind | undefined {
  if (message.attr('type') !== 'groupchat') return undefined;
  if (message.getChild('no-store', NS.HINTS) || message.getChild('no-permanent-store', NS.HINTS)) return undefined;

  if (message.getChild('body', NS.CLIENT)) return 'message';
  if (message.getChild('subject', NS.CLIENT)) return 'subject';
  if (message.getChild('replace', NS.CORRECT) || message.getChild('retract', NS.RETRACT)) return 'message';
  if (message.getChild('store', NS.HINTS)) return 'message';
  if (hasChatMarker(message)) return 'marker';
  return undefined;
}
