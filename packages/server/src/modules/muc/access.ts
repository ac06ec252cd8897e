import type { JID } from '@parley/xmpp';
import { affiliationAtLeast } from './permissions.js';
import type { Room } from './room.js';

/**
 * May `from` read the room's archive and activity? Members, admins and owners always;
 * otherwise only while one of the account's sessions is an occupant. Outcasts never.
 */
export function mayRead(room: Room, from: JID): boolean {
  const affiliation = room.affiliationOf(from.bare());
  if (affiliation === 'outcast') return false;
  if (affiliationAtLeast(affiliation, 'member')) return true;
  return room.occupants.ofAccount(from.bare()).length > 0;
}

/** Does the requester see real JIDs in the archive: in non-anonymous rooms, and as moderator, admin or owner. */
export function seesRealJidsInArchive(room: Room, from: JID): boolean {
  if (room.config.whoisAnyone) return true;
  if (affiliationAtLeast(room.affiliationOf(from.bare()), 'admin')) return true;
  return room.occupants.ofAccount(from.bare()).some((occupant) => occupant.role === 'moderator');
}
