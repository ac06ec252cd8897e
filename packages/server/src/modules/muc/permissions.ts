/** The role and affiliation rules of XEP-0045 sections 5 and 8 to 10, as pure functions. */
import type { Affiliation, Role } from './types.js';

/** A refusal, named by its stanza error condition; undefined means allowed. */
export type Refusal = 'forbidden' | 'not-allowed' | undefined;

const AFFILIATION_RANK: Record<Affiliation, number> = { owner: 4, admin: 3, member: 2, none: 1, outcast: 0 };
const ROLE_RANK: Record<Role, number> = { moderator: 3, participant: 2, visitor: 1, none: 0 };

export function affiliationAtLeast(affiliation: Affiliation, minimum: Affiliation): boolean {
  return AFFILIATION_RANK[affiliation] >= AFFILIATION_RANK[minimum];
}

export function roleAtLeast(role: Role, minimum: Role): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[minimum];
}

/** XEP-0045 section 5.1.2: the role an occupant gets on entering. */
export function defaultRole(affiliation: Affiliation, moderated: boolean): Role {
  if (affiliation === 'owner' || affiliation === 'admin') return 'moderator';
  if (affiliation === 'member') return 'participant';
  if (affiliation === 'outcast') return 'none';
  return moderated ? 'visitor' : 'participant';
}

export interface Party {
  affiliation: Affiliation;
  role: Role;
}

/**
 * Checks whether `actor` may give `target` the role `role` (kick with 'none', voice,
 * moderator). Moderators change roles (section 8). Granting or revoking moderator takes
 * an admin or owner (section 9.6). Admins and owners keep their moderator role (sections
 * 8.2, 8.4 and 9.7).
 */
export function roleChangeRefusal(actor: Party, target: Party, role: Role): Refusal {
  if (actor.role !== 'moderator') return 'forbidden';
  if (affiliationAtLeast(target.affiliation, 'admin') && role !== 'moderator') return 'not-allowed';
  const touchesModerator = role === 'moderator' || target.role === 'moderator';
  if (touchesModerator && !affiliationAtLeast(actor.affiliation, 'admin')) return 'forbidden';
  return undefined;
}

/**
 * May `actor` (an affiliation) change the affiliation of someone holding `current` to
 * `wanted`? Owners change any affiliation (section 10); admins manage members and outcasts
 * below them (section 9).
 */
export function affiliationChangeRefusal(actor: Affiliation, current: Affiliation, wanted: Affiliation): Refusal {
  if (actor === 'owner') return undefined;
  if (actor !== 'admin') return 'forbidden';
  if (wanted === 'owner' || wanted === 'admin') return 'forbidden';
  if (affiliationAtLeast(current, 'admin')) return 'not-allowed';
  return undefined;
}

/** Checks whether a requester may read an affiliation list (sections 9.5, 9.8, 10.5, 10.8) or role list (8.5, 9.9). */
export function listRefusal(actor: Party, list: { affiliation?: Affiliation; role?: Role }): Refusal {
  if (list.role !== undefined) return actor.role === 'moderator' ? undefined : 'forbidden';
  let needed: Affiliation = 'admin';
  if (list.affiliation === 'owner' || list.affiliation === 'admin') needed = 'owner';
  // Section 9.5: members may read the member list too.
  if (list.affiliation === 'member') needed = 'member';
  return affiliationAtLeast(actor.affiliation, needed) ? undefined : 'forbidden';
}

/** May an occupant with `role` change the subject (section 8.1)? */
export function maySetSubject(role: Role, changeSubjectAllowed: boolean): boolean {
  if (role === 'moderator') return true;
  return changeSubjectAllowed && role === 'participant';
}

/** May an occupant with `role` send a private message under the room's policy (muc#roomconfig_allowpm)? */
export function maySendPrivate(role: Role, policy: 'anyone' | 'participants' | 'moderators' | 'none'): boolean {
  if (policy === 'none') return false;
  if (policy === 'moderators') return role === 'moderator';
  if (policy === 'participants') return roleAtLeast(role, 'participant');
  return roleAtLeast(role, 'visitor');
}
