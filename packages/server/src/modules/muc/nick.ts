/** Nickname changes (XEP-0045 section 7.6), and presence updates from occupants (7.7). */
import { type Element, type JID, StanzaError } from '@parley/xmpp';
import { nickTakenByOther } from './join.js';
import { broadcastPresence, cleanPresence, occupantPresence } from './presence-build.js';
import { refuse } from './reply.js';
import type { Room } from './room.js';
import { leaveCodes } from './status.js';
import type { Occupant } from './types.js';

/** Section 7.7: new show or status from an occupant goes to everyone. */
export function updatePresence(room: Room, occupant: Occupant, stanza: Element): void {
  occupant.presence = cleanPresence(stanza);
  room.occupants.changed();
  broadcastPresence(room, occupant);
}

/**
 * Moves the session `from` of `occupant` to `nick`. A nick of another account is a
 * conflict. A nick the same account already uses joins that occupant (section 7.2.8);
 * the changing session always gets the two presences with status 110.
 */
export function changeNick(room: Room, occupant: Occupant, from: JID, nick: string, stanza: Element): void {
  if (nick.trim() === '') {
    refuse(room.host, stanza, new StanzaError('not-acceptable', 'A nickname needs at least one visible character.'));
    return;
  }
  if (nickTakenByOther(room, from, nick)) {
    refuse(room.host, stanza, new StanzaError('conflict', 'That nickname is used or reserved by someone else.'));
    return;
  }
  const target = room.occupants.byNickname(nick);
  if (!target && occupant.sessions.size === 1) {
    renameOccupant(room, occupant, nick, stanza);
    return;
  }
  moveSession(room, occupant, target, from, nick, stanza);
}

/** Renames the whole occupant, with the two-step change sent to everyone. */
function renameOccupant(room: Room, occupant: Occupant, nick: string, stanza: Element): void {
  broadcastPresence(room, occupant, { type: 'unavailable', newNick: nick, codes: [303] });
  room.forgetRate(occupant.nick);
  room.occupants.rename(occupant, nick);
  occupant.presence = cleanPresence(stanza);
  room.occupants.changed();
  broadcastPresence(room, occupant);
}

/** Moves one session of a shared nick, alone, to a free nick or to another nick of its account. */
function moveSession(room: Room, occupant: Occupant, target: Occupant | undefined, from: JID, nick: string, stanza: Element): void {
  const oldJid = room.occupantJid(occupant.nick);
  room.sendTo(from, oldJid, occupantPresence(room, occupant, { session: from, role: occupant.role }, { type: 'unavailable', newNick: nick, codes: leaveCodes({ self: true, newNick: true }) }));

  const gone = room.occupants.removeSession(occupant, from);
  if (gone) {
    room.forgetRate(occupant.nick);
    for (const { occupant: viewer, session } of room.occupants.sessions()) {
      room.sendTo(session, oldJid, occupantPresence(room, occupant, { session, role: viewer.role }, { type: 'unavailable', newNick: nick, codes: [303] }));
    }
  }

  let moved = target;
  if (moved) room.occupants.addSession(moved, from);
  else moved = room.occupants.add(nick, from, occupant.role, cleanPresence(stanza));

  for (const { occupant: viewer, session } of room.occupants.sessions()) {
    const self = session.equals(from);
    if (!self && target) continue;
    room.sendTo(session, room.occupantJid(nick), occupantPresence(room, moved, { session, role: viewer.role }, { codes: self ? [110] : [] }));
  }
}
