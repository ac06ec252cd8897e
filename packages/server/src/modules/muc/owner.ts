/** The muc#owner protocol: room configuration (XEP-0045 sections 10.1 and 10.2) and destruction (10.9). */
import { type Element, JID, NS, StanzaError, x } from '@parley/xmpp';
import { deleteRoom } from './lifecycle.js';
import { MUC_NS } from './ns.js';
import { affiliationAtLeast } from './permissions.js';
import { occupantPresence } from './presence-build.js';
import { removeOccupant } from './removal.js';
import type { Room } from './room.js';
import { applyAffiliation } from './changes.js';
import { applyConfigForm, configForm, readAffiliationLists } from './room-config.js';
import { configChangeCodes } from './status.js';
import type { Affiliation } from './types.js';

function requireOwner(room: Room, from: JID): void {
  if (room.affiliationOf(from.bare()) !== 'owner') throw new StanzaError('forbidden', 'Only an owner may do this.');
}

/** Section 10.2: the configuration form. */
export function ownerGet(room: Room, from: JID, query: Element): Element {
  requireOwner(room, from);
  if (query.elements().length > 0) throw new StanzaError('bad-request', 'A configuration request has no payload.');
  const holders = (affiliation: string) => [...room.affiliations].filter(([, entry]) => entry.affiliation === affiliation).map(([jid]) => jid);
  return x('query', MUC_NS.OWNER, {}, configForm(room.config, room.host.limits.max_occupants, { owners: holders('owner'), admins: holders('admin') }));
}

/** Handles a form submission, a cancellation, or a destruction request. */
export async function ownerSet(room: Room, from: JID, query: Element): Promise<void> {
  requireOwner(room, from);
  const destroy = query.getChild('destroy', MUC_NS.OWNER);
  if (destroy) return destroyRoom(room, destroy);
  const form = query.getChild('x', NS.DATA_FORMS);
  if (!form) throw new StanzaError('bad-request', 'Expected a data form or <destroy/>.');
  if (form.attr('type') === 'cancel') {
    // Section 10.1.3: cancelling the first configuration destroys the room.
    if (room.locked) await destroyRoom(room, undefined);
    return;
  }
  await configure(room, form, from);
}

/** Computes the affiliation changes that the owner and admin lists of the form request. */
function listChanges(room: Room, form: Element): [string, Affiliation][] {
  const { owners, admins } = readAffiliationLists(form);
  if (owners !== undefined && owners.length === 0) throw new StanzaError('not-acceptable', 'The room must keep at least one owner.');
  const changes = new Map<string, Affiliation>();
  const holders = (affiliation: Affiliation) => [...room.affiliations].filter(([, entry]) => entry.affiliation === affiliation).map(([jid]) => jid);
  if (admins !== undefined) {
    for (const jid of holders('admin')) if (!admins.includes(jid)) changes.set(jid, 'none');
    for (const jid of admins) if (room.affiliations.get(jid)?.affiliation !== 'admin') changes.set(jid, 'admin');
  }
  if (owners !== undefined) {
    for (const jid of holders('owner')) if (!owners.includes(jid)) changes.set(jid, admins?.includes(jid) ? 'admin' : 'none');
    for (const jid of owners) if (room.affiliations.get(jid)?.affiliation !== 'owner') changes.set(jid, 'owner');
  }
  return [...changes];
}

async function configure(room: Room, form: Element, from: JID): Promise<void> {
  const before = room.config;
  const after = applyConfigForm(form, before);
  const changes = listChanges(room, form);
  const wasLocked = room.locked;
  room.config = after;
  room.locked = false;
  await room.persist();

  const codes = configChangeCodes(before, after);
  if (!wasLocked && codes.length > 0) room.broadcastRoomMessage([x('x', MUC_NS.USER, {}, ...codes.map((code) => x('status', MUC_NS.USER, { code })))]);
  for (const [jid, affiliation] of changes) await applyAffiliation(room, jid, affiliation, { actor: from.bare().toString() });
  if (after.membersOnly && !before.membersOnly) await removeNonMembers(room);
}

/** Section 9.3: a room that becomes members-only removes the occupants who are not members (status 322). */
async function removeNonMembers(room: Room): Promise<void> {
  for (const occupant of room.occupants.all()) {
    if (!affiliationAtLeast(room.affiliationOf(occupant.bare), 'member')) await removeOccupant(room, occupant, 'members-only');
  }
}

/** Section 10.9: every occupant learns of the destruction, with the reason and the alternate venue; then the room is gone. */
export async function destroyRoom(room: Room, request: Element | undefined): Promise<void> {
  const destroy = x('destroy', MUC_NS.USER);
  const venue = request?.attr('jid');
  if (venue !== undefined) {
    const parsed = JID.parseOrNull(venue);
    if (!parsed) throw new StanzaError('jid-malformed', `"${venue}" is not a valid JID.`);
    destroy.setAttr('jid', parsed.toString());
  }
  const reason = request?.getChildText('reason', MUC_NS.OWNER);
  if (reason !== undefined) destroy.append(x('reason', MUC_NS.USER, {}, reason));
  const password = request?.getChildText('password', MUC_NS.OWNER);
  if (password !== undefined) destroy.append(x('password', MUC_NS.USER, {}, password));

  for (const { occupant, session } of room.occupants.sessions()) {
    // Each session gets only its own occupant's unavailable presence, as in the section's example.
    const presence = occupantPresence(room, occupant, { session, role: occupant.role }, { type: 'unavailable', role: 'none', affiliation: 'none', destroy });
    room.sendTo(session, room.occupantJid(occupant.nick), presence);
  }
  for (const occupant of room.occupants.all()) room.occupants.remove(occupant);
  await deleteRoom(room);
}
