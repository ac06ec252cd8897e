/** Status codes of muc#user presence and messages (XEP-0045 section 15.6.2), chosen per situation. */
import type { RoomConfig, Role } from './types.js';

/** The cause of an occupant's removal from the room, other than its own choice. */
export type Removal = 'kick' | 'ban' | 'affiliation' | 'members-only' | 'shutdown';

const REMOVAL_CODES: Record<Removal, number> = { ban: 301, kick: 307, affiliation: 321, 'members-only': 322, shutdown: 332 };

/** Returns the codes of the self-presence a joining session gets (sections 7.2.2, 7.2.3, 7.2.12, 10.1.1). */
export function joinSelfCodes(options: { created: boolean; nonAnonymous: boolean; logged: boolean }): number[] {
  const codes = [110];
  if (options.nonAnonymous) codes.push(100);
  if (options.logged) codes.push(170);
  if (options.created) codes.push(201);
  return codes;
}

/** Returns the codes of an unavailable presence about an occupant, for one recipient (sections 7.14, 8.2, 9.1, 9.4, 9.5). */
export function leaveCodes(options: { self: boolean; removal?: Removal; newNick?: boolean }): number[] {
  const codes: number[] = [];
  if (options.newNick) codes.push(303);
  if (options.removal) codes.push(REMOVAL_CODES[options.removal]);
  if (options.self) codes.push(110);
  return codes;
}

/** Returns the codes of the message that notifies occupants of a configuration change (section 10.2.1). */
export function configChangeCodes(before: RoomConfig, after: RoomConfig): number[] {
  const codes: number[] = [];
  if (before.whoisAnyone !== after.whoisAnyone) codes.push(after.whoisAnyone ? 172 : 173);
  const others = (Object.keys(before) as (keyof RoomConfig)[]).filter((key) => key !== 'whoisAnyone' && before[key] !== after[key]);
  if (others.length > 0) codes.push(104);
  return codes;
}

/** Checks whether a viewer may read occupants' real JIDs: everyone in a non-anonymous room, moderators otherwise (sections 6.1, 7.2.4). */
export function seesRealJids(viewerRole: Role, config: RoomConfig): boolean {
  return config.whoisAnyone || viewerRole === 'moderator';
}
