/** Groupchat messages (XEP-0045 section 7.4) and subject changes (8.1): archived, then sent to every occupant session. */
import { type Element, type JID, NS, StanzaError } from '@parley/xmpp';
import type { StanzaEvent } from '../../core/events.js';
import { addStanzaId, originIdOf } from '../mam/ids.js';
import { maySetSubject, roleAtLeast } from './permissions.js';
import { refuse } from './reply.js';
import type { Room } from './room.js';
import { removeRoomClaims } from './sanitize.js';
import type { MucMessageEvent } from './host.js';
import type { Occupant } from './types.js';

/** True for a message that changes the subject: a `<subject/>` and no body (section 8.1). */
export function isSubjectChange(message: Element): boolean {
  return message.getChild('subject', NS.CLIENT) !== undefined && message.getChild('body', NS.CLIENT) === undefined;
}

/** Returns the reason an occupant may not send this groupchat message, or undefined. */
function messageRefusal(room: Room, occupant: Occupant | undefined, message: Element): StanzaError | undefined {
  if (!occupant) return new StanzaError('not-acceptable', 'Only occupants may send messages to the room.');
  if (isSubjectChange(message)) {
    if (!maySetSubject(occupant.role, room.config.changeSubject)) return new StanzaError('forbidden', 'You may not change the subject of this room.');
  } else if (!roleAtLeast(occupant.role, 'participant')) {
    return new StanzaError('forbidden', 'Visitors may not speak in this room.');
  }
  if (!room.takeMessageToken(occupant)) return new StanzaError('resource-constraint', 'You are sending messages too fast.', { type: 'wait' });
  return undefined;
}

/** True for a stanza to the room that `handleGroupchat` pipelines: a groupchat message that is not a subject change. */
export function isPipelinedMessage(stanza: Element, to: JID): boolean {
  return stanza.name === 'message' && to.resource === '' && stanza.attr('type') === 'groupchat' && !isSubjectChange(stanza);
}

/** Registers a write that the stanza's sender must wait for: on its session, or for the node that passed the stanza on. */
export function trackWrite(event: StanzaEvent, write: Promise<unknown>): void {
  if (event.track) event.track(write);
  else event.origin?.trackWrite(write);
}

/**
 * Checks and stamps a groupchat message, queues its archive write, and queues its send to
 * the occupants for when the write commits (`Room.afterCommit`). Returns before the commit,
 * and the sending session's stream acknowledges the message once it was sent or refused.
 */
export async function handleGroupchat(room: Room, from: JID, stanza: Element, track?: (write: Promise<unknown>) => void): Promise<void> {
  const occupant = room.occupants.bySessionJid(from);
  const refusal = messageRefusal(room, occupant, stanza);
  if (refusal || !occupant) {
    refuse(room.host, stanza, refusal ?? new StanzaError('not-acceptable'));
    return;
  }

  const message = stanza.clone();
  message.attrs.from = room.occupantJid(occupant.nick).toString();
  delete message.attrs.to;
  removeRoomClaims(message, (jid) => room.host.isOwnEntity(jid));
  if (await reflectResend(room, from, occupant.nick, message)) return;
  if (isSubjectChange(message)) {
    room.subject = { text: message.getChildText('subject', NS.CLIENT) ?? '', nick: occupant.nick, at: Date.now() };
    await room.persist();
  }

  const sender = { nick: occupant.nick, real: from };
  const committed = room.host.archive.append(room.jid, message, sender);
  const done = room.afterCommit(
    committed,
    (stanzaId) => sendToOccupants(room, { room: room.jid, stanzaId, message, sender, members: [] }),
    (err) => refuseUnstored(room, stanza, err),
  );
  track?.(done);
}

/** Sends a committed message to the occupants of its send time, then fires `muc/message`. */
async function sendToOccupants(room: Room, event: MucMessageEvent): Promise<void> {
  const from = room.occupantJid(event.sender.nick);
  for (const { session } of room.occupants.sessions()) room.sendTo(session, from, event.message);
  await room.host.messageSent({ ...event, members: room.members() });
}

/** Sends the sender an error for a message the archive failed to store, which no occupant got. */
function refuseUnstored(room: Room, stanza: Element, err: unknown): void {
  room.host.log.error({ err, room: room.jid.toString() }, 'archiving a groupchat message failed');
  refuse(room.host, stanza, new StanzaError('internal-server-error', 'Storing your message in the room archive failed, so no occupant got it. Send it again later.', { type: 'wait' }));
}

/**
 * Handles a message the sender sent before, by origin-id (XEP-0359), the same real bare
 * JID and the same room: typically a client that lost its connection before it saw the
 * reflection and sends its unacknowledged messages again. The room archives and fans out
 * nothing, since every occupant got the first copy. The sending session still gets the
 * reflection, with the stanza id of the first copy: XEP-0045 section 7.4 makes the
 * reflection the sender's proof of delivery, and a resending client waits for it.
 * Returns true when `message` was such a resend.
 */
async function reflectResend(room: Room, from: JID, nick: string, message: Element): Promise<boolean> {
  const originId = originIdOf(message);
  if (originId === undefined) return false;
  const first = await room.host.archive.duplicateOf(room.jid, from.bare(), originId);
  if (first === undefined) return false;

  addStanzaId(message, room.jid.toString(), first);
  // After the first copy's send, which may still wait for its write.
  void room.afterCommit(Promise.resolve(), () => room.sendTo(from, room.occupantJid(nick), message), () => undefined);
  room.host.log.debug({ room: room.jid.toString(), originId }, 'resent groupchat message reflected to its sender only');
  return true;
}
