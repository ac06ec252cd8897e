/**
 * The effect of each message on an inbox entry. Only a message with a body counts as
 * unread. A correction (XEP-0308) or retraction (XEP-0424) changes what the entry shows
 * and never adds to the count. Everything else (markers, chat states, receipts) leaves
 * the entry alone.
 */
import { type Element, NS } from '@parley/xmpp';
import { editOf } from '../mam/edits.js';

/** The change a message makes to an inbox entry. */
export type InboxChange = { kind: 'message' } | { kind: 'correction'; ref: string } | { kind: 'retraction'; ref: string } | { kind: 'none' };

const MUC_USER = 'http://jabber.org/protocol/muc#user';

/** Classifies `message` for the inbox. A retraction wins over a correction, and both over a body. */
export function inboxChangeOf(message: Element): InboxChange {
  const type = message.attr('type') ?? 'normal';
  if (type === 'error' || type === 'headline') return { kind: 'none' };

  const edit = editOf(message);
  if (edit) return { kind: edit.kind, ref: edit.ref };
  return message.getChild('body', NS.CLIENT) ? { kind: 'message' } : { kind: 'none' };
}

/** True when `message` is a private message through a room (XEP-0045 section 7.5), which has no 1:1 entry of its own. */
export function isRoomPrivateMessage(message: Element): boolean {
  return message.attr('type') !== 'groupchat' && message.getChild('x', MUC_USER) !== undefined;
}

/**
 * Decides whether a message of `sender` counts as unread for `owner` (both bare JIDs):
 * only a plain message with a body from someone else does.
 */
export function countsAsUnread(change: InboxChange, sender: string, owner: string): boolean {
  return change.kind === 'message' && sender !== owner;
}
