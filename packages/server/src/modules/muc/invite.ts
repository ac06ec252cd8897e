/** Mediated invitations and declines (XEP-0045 sections 7.8.2 and 7.8.3). */
import { type Element, JID, NS, StanzaError, x } from '@parley/xmpp';
import { MUC_NS } from './ns.js';
import { affiliationAtLeast } from './permissions.js';
import { refuse } from './reply.js';
import type { Room } from './room.js';

/** True for a message to the room carrying an invite or a decline. */
export function isInvitation(stanza: Element): boolean {
  const mucUser = stanza.getChild('x', MUC_NS.USER);
  return mucUser !== undefined && (mucUser.getChild('invite', MUC_NS.USER) !== undefined || mucUser.getChild('decline', MUC_NS.USER) !== undefined);
}

function readTarget(element: Element, attr: 'to'): JID {
  const target = JID.parseOrNull(element.attr(attr) ?? '');
  if (!target) throw new StanzaError('jid-malformed', `The ${element.name} needs a valid '${attr}' address.`);
  return target;
}

/**
 * Sends invitations. Any occupant of an open room may invite. In a members-only room,
 * admins and owners may, and other occupants when the room allows invitations. An
 * invitation into a members-only room makes the invitee a member (section 9.3).
 */
async function invite(room: Room, from: JID, invites: Element[], stanza: Element): Promise<void> {
  const occupant = room.occupants.bySessionJid(from);
  if (!occupant) throw new StanzaError('not-acceptable', 'Only occupants may invite.');
  const affiliation = room.affiliationOf(from.bare());
  const mayInvite = !room.config.membersOnly || affiliationAtLeast(affiliation, 'admin') || room.config.allowInvites;
  if (!mayInvite) throw new StanzaError('forbidden', 'You may not invite others to this room.');

  const targets = invites.map((element) => ({ to: readTarget(element, 'to'), reason: element.getChildText('reason', MUC_NS.USER) }));
  for (const { to } of targets) {
    // Parley has no server-to-server connections, so only local accounts can be invited.
    if (!(await room.host.accountExists(to.bare()))) throw new StanzaError('item-not-found', `${to.bare().toString()} is not an account this server can reach.`);
  }
  for (const { to, reason } of targets) {
    if (room.config.membersOnly && room.affiliationOf(to.bare()) === 'none') await room.saveAffiliation(to.bare().toString(), { affiliation: 'member' });
    const body = `${from.bare().toString()} invites you to the room ${room.jid.toString()}${reason ? `: ${reason}` : ''}`;
    const mucUser = x('x', MUC_NS.USER, {}, x('invite', MUC_NS.USER, { from: from.toString() }, reason === undefined ? undefined : x('reason', MUC_NS.USER, {}, reason)));
    if (room.config.password !== '') mucUser.append(x('password', MUC_NS.USER, {}, room.config.password));
    const message = x('message', NS.CLIENT, { from: room.jid.toString(), to: to.toString(), id: stanza.attr('id') }, mucUser, x('body', NS.CLIENT, {}, body));
    room.host.send(message);
  }
}

/** Section 7.8.3: the room passes a decline on to the inviter, from the room. */
function decline(room: Room, from: JID, element: Element): void {
  const to = readTarget(element, 'to');
  const reason = element.getChildText('reason', MUC_NS.USER);
  const declined = x('decline', MUC_NS.USER, { from: from.bare().toString() }, reason === undefined ? undefined : x('reason', MUC_NS.USER, {}, reason));
  room.host.send(x('message', NS.CLIENT, { from: room.jid.toString(), to: to.toString() }, x('x', MUC_NS.USER, {}, declined)));
}

export async function handleInvitation(room: Room, from: JID, stanza: Element): Promise<void> {
  const mucUser = stanza.getChild('x', MUC_NS.USER)!;
  try {
    const invites = mucUser.getChildren('invite', MUC_NS.USER);
    if (invites.length > 0) await invite(room, from, invites, stanza);
    const declined = mucUser.getChild('decline', MUC_NS.USER);
    if (declined) decline(room, from, declined);
  } catch (err) {
    if (!(err instanceof StanzaError)) throw err;
    refuse(room.host, stanza, err);
  }
}
