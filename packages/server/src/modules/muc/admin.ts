/** The muc#admin protocol: role and affiliation lists and changes (XEP-0045 sections 8, 9 and 10). */
import { type Element, JID, StanzaError, x } from '@parley/xmpp';
import { applyAffiliation, applyRole } from './changes.js';
import { MUC_NS } from './ns.js';
import { type Refusal, affiliationChangeRefusal, listRefusal, roleChangeRefusal } from './permissions.js';
import type { Room } from './room.js';
import { seesRealJids } from './status.js';
import { AFFILIATIONS, type Affiliation, ROLES, type Role } from './types.js';

/** Returns the requester's affiliation, role and nick in the room. */
export function requesterOf(room: Room, from: JID): { affiliation: Affiliation; role: Role; nick?: string; bare: string } {
  const affiliation = room.affiliationOf(from.bare());
  const occupant = room.occupants.bySessionJid(from) ?? room.occupants.ofAccount(from.bare())[0];
  return { affiliation, role: occupant?.role ?? 'none', nick: occupant?.nick, bare: from.bare().toString() };
}

function refusalError(refusal: Refusal, text: string): StanzaError | undefined {
  return refusal ? new StanzaError(refusal, text) : undefined;
}

function readAffiliation(value: string | undefined): Affiliation | undefined {
  return AFFILIATIONS.includes(value as Affiliation) ? (value as Affiliation) : undefined;
}

function readRole(value: string | undefined): Role | undefined {
  return ROLES.includes(value as Role) ? (value as Role) : undefined;
}

/** Handles a muc#admin get: returns the occupants with a role, or the accounts with an affiliation. */
export function adminGet(room: Room, from: JID, query: Element): Element {
  const items = query.getChildren('item', MUC_NS.ADMIN);
  const item = items[0];
  if (items.length !== 1 || !item) throw new StanzaError('bad-request', 'Ask for one list at a time.');
  const requester = requesterOf(room, from);
  const role = readRole(item.attr('role'));
  const affiliation = readAffiliation(item.attr('affiliation'));
  if (!role && !affiliation) throw new StanzaError('bad-request', 'The item needs a role or an affiliation.');
  if (affiliation === 'none') throw new StanzaError('bad-request', 'There is no list of affiliation none.');

  const error = refusalError(listRefusal(requester, { role, affiliation }), 'You may not read this list.');
  if (error) throw error;
  const result = x('query', MUC_NS.ADMIN);
  if (role) {
    const realJids = seesRealJids(requester.role, room.config);
    for (const occupant of room.occupants.all().filter((candidate) => candidate.role === role)) {
      const real = [...occupant.sessions.values()][0];
      result.append(x('item', MUC_NS.ADMIN, { nick: occupant.nick, role, affiliation: room.affiliationOf(occupant.bare), jid: realJids ? real?.toString() : undefined }));
    }
    return result;
  }
  for (const [jid, entry] of [...room.affiliations].sort(([a], [b]) => a.localeCompare(b))) {
    if (entry.affiliation !== affiliation) continue;
    const listed = x('item', MUC_NS.ADMIN, { jid, affiliation, nick: entry.nick });
    if (entry.reason) listed.append(x('reason', MUC_NS.ADMIN, {}, entry.reason));
    result.append(listed);
  }
  return result;
}

interface Change {
  kind: 'role' | 'affiliation';
  /** The nick for a role change; the bare JID for an affiliation change. */
  target: string;
  value: string;
  nick?: string;
  reason?: string;
}

/** Reads and checks every item first, so that a refused item leaves the room unchanged. */
function readChanges(room: Room, from: JID, query: Element): Change[] {
  const requester = requesterOf(room, from);
  const items = query.getChildren('item', MUC_NS.ADMIN);
  if (items.length === 0) throw new StanzaError('bad-request', 'The query has no item.');
  return items.map((item) => {
    const reason = item.getChildText('reason', MUC_NS.ADMIN);
    const role = item.attr('role');
    if (role !== undefined && item.attr('affiliation') !== undefined) throw new StanzaError('bad-request', 'An item changes a role or an affiliation, not both.');
    if (role !== undefined) return readRoleChange(room, requester, item, role, reason);
    return readAffiliationChange(room, requester, item, reason);
  });
}

function readRoleChange(room: Room, requester: ReturnType<typeof requesterOf>, item: Element, value: string, reason: string | undefined): Change {
  const role = readRole(value);
  if (!role) throw new StanzaError('bad-request', `Unknown role "${value}".`);
  const nick = item.attr('nick');
  if (nick === undefined) throw new StanzaError('bad-request', 'A role change names the occupant by nick.');
  const occupant = room.occupants.byNickname(nick);
  if (!occupant) throw new StanzaError('item-not-found', `No occupant is called ${nick}.`);
  const error = refusalError(roleChangeRefusal(requester, { affiliation: room.affiliationOf(occupant.bare), role: occupant.role }, role), `You may not give ${nick} the role ${role}.`);
  if (error) throw error;
  return { kind: 'role', target: nick, value: role, reason };
}

function readAffiliationChange(room: Room, requester: ReturnType<typeof requesterOf>, item: Element, reason: string | undefined): Change {
  const affiliation = readAffiliation(item.attr('affiliation'));
  if (!affiliation) throw new StanzaError('bad-request', 'The item needs a valid role or affiliation.');
  const jid = targetJid(room, item);
  // Section 9.1: an admin or owner may not ban their own account.
  if (affiliation === 'outcast' && jid === requester.bare) throw new StanzaError('conflict', 'You cannot ban yourself.');
  const current = room.affiliations.get(jid)?.affiliation ?? 'none';
  const error = refusalError(affiliationChangeRefusal(requester.affiliation, current, affiliation), `You may not make ${jid} ${affiliation}.`);
  if (error) throw error;
  const nick = item.attr('jid') !== undefined ? item.attr('nick') : undefined;
  return { kind: 'affiliation', target: jid, value: affiliation, nick, reason };
}

/** Resolves the bare JID an affiliation item names, by 'jid' or by the 'nick' of an occupant. */
function targetJid(room: Room, item: Element): string {
  const jid = item.attr('jid');
  if (jid !== undefined) {
    const parsed = JID.parseOrNull(jid);
    if (!parsed) throw new StanzaError('jid-malformed', `"${jid}" is not a valid JID.`);
    return parsed.bare().toString();
  }
  const nick = item.attr('nick');
  const occupant = nick === undefined ? undefined : room.occupants.byNickname(nick);
  if (!occupant) throw new StanzaError('bad-request', 'An affiliation change names a JID, or the nick of an occupant.');
  return occupant.bare.toString();
}

/** Section 10.6: the room keeps at least one owner. */
function checkOwnersRemain(room: Room, changes: Change[]): void {
  const owners = new Set(room.owners());
  for (const change of changes) {
    if (change.kind !== 'affiliation') continue;
    if (change.value === 'owner') owners.add(change.target);
    else owners.delete(change.target);
  }
  if (owners.size === 0) throw new StanzaError('conflict', 'The room must keep at least one owner.');
}

/**
 * Checks a muc#admin set and returns the step that applies it: every item, or none when
 * one is refused. The caller sends the IQ result in between, so that the requester gets
 * the result before the presence it causes (section 8.2).
 */
export function adminSet(room: Room, from: JID, query: Element): () => Promise<void> {
  const changes = readChanges(room, from, query);
  checkOwnersRemain(room, changes);
  const { nick: actorNick, bare: actor } = requesterOf(room, from);
  return () => applyChanges(room, changes, actorNick, actor);
}

async function applyChanges(room: Room, changes: Change[], actorNick: string | undefined, actor: string): Promise<void> {
  for (const change of changes) {
    if (change.kind === 'role') await applyRole(room, change.target, change.value as Role, { actorNick, reason: change.reason });
    else await applyAffiliation(room, change.target, change.value as Affiliation, { actorNick, actor, reason: change.reason, nick: change.nick });
  }
}
