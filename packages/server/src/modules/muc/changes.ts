/** Applying role and affiliation changes to the room and its occupants (XEP-0045 sections 8 to 10). */
import { JID, NS, x } from '@parley/xmpp';
import { MUC_NS } from './ns.js';
import { affiliationAtLeast, defaultRole } from './permissions.js';
import { broadcastPresence } from './presence-build.js';
import { removeOccupant } from './removal.js';
import type { Room } from './room.js';
import type { Affiliation, Occupant, Role } from './types.js';

export interface ChangeDetails {
  actorNick?: string;
  reason?: string;
  /** A nick reserved with the affiliation (section 7.12). */
  nick?: string;
  /** Bare JID of the admin or owner who made the change. */
  actor?: string;
}

/** Gives the occupant called `nick` a new role; role none kicks it (status 307). */
export async function applyRole(room: Room, nick: string, role: Role, details: ChangeDetails): Promise<void> {
  const occupant = room.occupants.byNickname(nick);
  if (!occupant) return;
  if (role === 'none') {
    await removeOccupant(room, occupant, 'kick', { actorNick: details.actorNick, reason: details.reason });
    return;
  }
  occupant.role = role;
  room.occupants.changed();
  broadcastPresence(room, occupant, { actorNick: details.actorNick, reason: details.reason });
}

/** Section 9.5: a new member of a members-only room who is not in it gets an invitation. */
function inviteNewMember(room: Room, jid: string, details: ChangeDetails): void {
  const target = JID.parse(jid);
  if (target.local === '' || room.occupants.ofAccount(target).length > 0) return;
  const invite = x('invite', MUC_NS.USER, { from: details.actor ?? room.jid.toString() }, details.reason === undefined ? undefined : x('reason', MUC_NS.USER, {}, details.reason));
  const mucUser = x('x', MUC_NS.USER, {}, invite);
  if (room.config.password !== '') mucUser.append(x('password', MUC_NS.USER, {}, room.config.password));
  room.host.send(x('message', NS.CLIENT, { from: room.jid.toString(), to: jid }, mucUser));
}

/** Lists the occupants an affiliation of `jid` applies to: the account's, or a whole domain's. */
function occupantsOf(room: Room, jid: string): Occupant[] {
  const target = JID.parse(jid);
  if (target.local === '') return room.occupants.all().filter((occupant) => occupant.bare.domain === target.domain);
  return room.occupants.ofAccount(target);
}

/**
 * Stores the affiliation and applies it to the account's occupants: outcasts are banned
 * (301), non-members leave a members-only room (321), the others get the role that goes
 * with the new affiliation.
 */
export async function applyAffiliation(room: Room, jid: string, affiliation: Affiliation, details: ChangeDetails): Promise<void> {
  const nick = affiliationAtLeast(affiliation, 'member') ? (details.nick ?? room.affiliations.get(jid)?.nick) : undefined;
  const wasMember = affiliationAtLeast(room.affiliations.get(jid)?.affiliation ?? 'none', 'member');
  await room.saveAffiliation(jid, { affiliation, nick, reason: details.reason });
  if (room.config.membersOnly && !wasMember && affiliationAtLeast(affiliation, 'member')) inviteNewMember(room, jid, details);

  for (const occupant of occupantsOf(room, jid)) {
    const removal = { actorNick: details.actorNick, reason: details.reason, affiliation };
    if (affiliation === 'outcast') await removeOccupant(room, occupant, 'ban', removal);
    else if (room.config.membersOnly && !affiliationAtLeast(room.affiliationOf(occupant.bare), 'member')) await removeOccupant(room, occupant, 'affiliation', removal);
    else {
      occupant.role = defaultRole(room.affiliationOf(occupant.bare), room.config.moderated);
      room.occupants.changed();
      broadcastPresence(room, occupant, { actorNick: details.actorNick, reason: details.reason });
    }
  }
}
