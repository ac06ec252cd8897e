/** An occupant's session leaves the room (XEP-0045 section 7.14). */
import type { Element, JID } from '@parley/xmpp';
import { closeIfEmpty } from './lifecycle.js';
import { occupantPresence } from './presence-build.js';
import type { Room } from './room.js';

/**
 * Removes the session `from`. Its own unavailable presence has status 110; the others see
 * the occupant leave only when its last session goes.
 */
export async function leave(room: Room, from: JID, stanza: Element | undefined): Promise<void> {
  const occupant = room.occupants.bySessionJid(from);
  if (!occupant) return;
  const occupantJid = room.occupantJid(occupant.nick);
  const options = { type: 'unavailable' as const, role: 'none' as const, base: stanza };
  room.sendTo(from, occupantJid, occupantPresence(room, occupant, { session: from, role: occupant.role }, { ...options, codes: [110] }));

  if (!room.occupants.removeSession(occupant, from)) return;
  room.forgetRate(occupant.nick);
  for (const { occupant: viewer, session } of room.occupants.sessions()) {
    room.sendTo(session, occupantJid, occupantPresence(room, occupant, { session, role: viewer.role }, options));
  }
  await closeIfEmpty(room);
}
