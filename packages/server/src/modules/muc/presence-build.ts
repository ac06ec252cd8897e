/** Builds the presence stanzas a room sends about its occupants (XEP-0045 sections 7.2 and 15.6). */
import { type Element, type JID, NS, x } from '@parley/xmpp';
import { MUC_NS } from './ns.js';
import type { Room } from './room.js';
import { seesRealJids } from './status.js';
import type { Affiliation, Occupant, Role } from './types.js';

export interface PresenceOptions {
  /** Absent for available presence. */
  type?: 'unavailable';
  codes?: number[];
  /** Overrides the occupant's current presence as the stanza's content (show, status). */
  base?: Element;
  role?: Role;
  affiliation?: Affiliation;
  /** The new nick of a nick change (status 303). */
  newNick?: string;
  actorNick?: string;
  reason?: string;
  /** A `<destroy/>` element for room destruction. */
  destroy?: Element;
}

/** Returns the presence content a room keeps and repeats: everything but MUC payloads and addressing. */
export function cleanPresence(stanza: Element): Element {
  const copy = stanza.clone();
  delete copy.attrs.to;
  delete copy.attrs.from;
  delete copy.attrs.id;
  copy.removeChildren((child) => child.ns === MUC_NS.MUC || child.ns === MUC_NS.USER);
  return copy;
}

/**
 * Builds the presence of `occupant` for `viewer` (one session, with its role). The muc#user
 * item carries the real JID only when the viewer may see it, or is the occupant.
 */
export function occupantPresence(room: Room, occupant: Occupant, viewer: { session: JID; role: Role }, options: PresenceOptions = {}): Element {
  const self = occupant.sessions.has(viewer.session.toString());
  const presence = options.type === 'unavailable' ? x('presence', NS.CLIENT, { type: 'unavailable' }) : cleanPresence(options.base ?? occupant.presence);
  if (options.type === 'unavailable' && options.base) presence.append(...options.base.getChildren('status', NS.CLIENT).map((status) => status.clone()));

  const real = self ? viewer.session : [...occupant.sessions.values()][0];
  const item = x('item', MUC_NS.USER, {
    affiliation: options.affiliation ?? room.affiliationOf(occupant.bare),
    role: options.role ?? occupant.role,
    jid: real && (self || seesRealJids(viewer.role, room.config)) ? real.toString() : undefined,
    nick: options.newNick,
  });
  if (options.actorNick !== undefined) item.append(x('actor', MUC_NS.USER, { nick: options.actorNick }));
  if (options.reason !== undefined) item.append(x('reason', MUC_NS.USER, {}, options.reason));

  const mucUser = x('x', MUC_NS.USER, {}, item, options.destroy);
  for (const code of options.codes ?? []) mucUser.append(x('status', MUC_NS.USER, { code }));
  presence.append(mucUser);
  return presence;
}

/** Sends `occupant`'s presence to every session in the room, adding 110 on the occupant's own copies. */
export function broadcastPresence(room: Room, occupant: Occupant, options: PresenceOptions = {}, selfCodes: number[] = [110]): void {
  for (const { occupant: viewer, session } of room.occupants.sessions()) {
    const self = viewer === occupant;
    const codes = [...(options.codes ?? []), ...(self ? selfCodes : [])];
    room.sendTo(session, room.occupantJid(occupant.nick), occupantPresence(room, occupant, { session, role: viewer.role }, { ...options, codes }));
  }
}
