/** Removing an occupant the room no longer admits: kick, ban, affiliation change, shutdown (XEP-0045 sections 8.2, 9.1, 9.4). */
import { closeIfEmpty } from './lifecycle.js';
import { occupantPresence } from './presence-build.js';
import type { Room } from './room.js';
import { type Removal, leaveCodes } from './status.js';
import type { Affiliation, Occupant } from './types.js';

export interface RemovalDetails {
  actorNick?: string;
  reason?: string;
  affiliation?: Affiliation;
}

/** Sends every session of `occupant`, then everyone else, its unavailable presence with the removal's code. */
export async function removeOccupant(room: Room, occupant: Occupant, removal: Removal, details: RemovalDetails = {}): Promise<void> {
  const options = { type: 'unavailable' as const, role: 'none' as const, affiliation: details.affiliation, actorNick: details.actorNick, reason: details.reason };
  const from = room.occupantJid(occupant.nick);
  for (const session of occupant.sessions.values()) {
    room.sendTo(session, from, occupantPresence(room, occupant, { session, role: occupant.role }, { ...options, codes: leaveCodes({ self: true, removal }) }));
  }

  room.occupants.remove(occupant);
  room.forgetRate(occupant.nick);
  for (const { occupant: viewer, session } of room.occupants.sessions()) {
    room.sendTo(session, from, occupantPresence(room, occupant, { session, role: viewer.role }, { ...options, codes: leaveCodes({ self: false, removal }) }));
  }
  await closeIfEmpty(room);
}
