/** Private messages between occupants (XEP-0045 section 7.5). */
import { type Element, type JID, StanzaError, x } from '@parley/xmpp';
import { MUC_NS } from './ns.js';
import { maySendPrivate } from './permissions.js';
import { refuse } from './reply.js';
import { removeRoomClaims } from './sanitize.js';
import type { Room } from './room.js';

/** Delivers a message sent to `room/nick` to every session of that occupant, from the sender's occupant JID. */
export function handlePrivateMessage(room: Room, from: JID, nick: string, stanza: Element): void {
  const type = stanza.attr('type') ?? 'normal';
  if (type === 'error') return;
  if (type === 'groupchat') {
    refuse(room.host, stanza, new StanzaError('bad-request', 'Groupchat messages go to the room, not to an occupant.'));
    return;
  }
  const sender = room.occupants.bySessionJid(from);
  if (!sender) {
    refuse(room.host, stanza, new StanzaError('not-acceptable', 'Only occupants may send private messages.'));
    return;
  }
  if (!maySendPrivate(sender.role, room.config.allowPrivateMessages)) {
    refuse(room.host, stanza, new StanzaError('forbidden', 'Private messages are not allowed in this room.'));
    return;
  }
  const target = room.occupants.byNickname(nick);
  if (!target) {
    refuse(room.host, stanza, new StanzaError('item-not-found', `No occupant is called ${nick}.`));
    return;
  }

  const message = stanza.clone();
  removeRoomClaims(message, (jid) => room.host.isOwnEntity(jid));
  message.append(x('x', MUC_NS.USER));
  for (const session of target.sessions.values()) room.sendTo(session, room.occupantJid(sender.nick), message);
}
