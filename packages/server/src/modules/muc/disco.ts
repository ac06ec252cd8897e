/** Service discovery (XEP-0030) of the MUC service and its rooms (XEP-0045 sections 6.1 to 6.5). */
import { type Element, type JID, NS, StanzaError, buildForm, x } from '@parley/xmpp';
import { MUC_NS } from './ns.js';
import type { Room } from './room.js';

export const SERVICE_FEATURES = [NS.DISCO_INFO, NS.DISCO_ITEMS, MUC_NS.MUC, MUC_NS.ACTIVITY];

function feature(name: string): Element {
  return x('feature', NS.DISCO_INFO, { var: name });
}

export function serviceInfo(name: string): Element {
  const query = x('query', NS.DISCO_INFO, {}, x('identity', NS.DISCO_INFO, { category: 'conference', type: 'text', name }));
  for (const name of SERVICE_FEATURES) query.append(feature(name));
  return query;
}

/** Lists the room features of section 6.4, one of each pair. */
export function roomFeatures(room: Room): string[] {
  const { config } = room;
  return [
    NS.DISCO_INFO,
    NS.DISCO_ITEMS,
    MUC_NS.MUC,
    MUC_NS.STABLE_ID,
    MUC_NS.SELF_PING,
    MUC_NS.REQUEST,
    MUC_NS.MODERATE,
    MUC_NS.MODERATE_0,
    NS.MAM,
    NS.STANZA_ID,
    config.persistent ? 'muc_persistent' : 'muc_temporary',
    config.public ? 'muc_public' : 'muc_hidden',
    config.membersOnly ? 'muc_membersonly' : 'muc_open',
    config.moderated ? 'muc_moderated' : 'muc_unmoderated',
    config.password !== '' ? 'muc_passwordprotected' : 'muc_unsecured',
    config.whoisAnyone ? 'muc_nonanonymous' : 'muc_semianonymous',
  ];
}

/** Hides a locked room from everyone but its owners (section 10.1.1). */
function checkVisible(room: Room, from: JID): void {
  if (room.locked && room.affiliationOf(from.bare()) !== 'owner') throw new StanzaError('item-not-found', 'No such room.');
}

/** Section 7.12: the nick the requester's account reserved, as the identity of node x-roomuser-item. */
function reservedNickInfo(room: Room, from: JID): Element {
  const query = x('query', NS.DISCO_INFO, { node: RESERVED_NICK_NODE });
  const nick = room.affiliations.get(from.bare().toString())?.nick;
  if (nick !== undefined) query.append(x('identity', NS.DISCO_INFO, { category: 'conference', type: 'text', name: nick }));
  return query;
}

const RESERVED_NICK_NODE = 'x-roomuser-item';

/** Section 6.4: identity, features and the muc#roominfo form. */
export function roomInfo(room: Room, from: JID, node: string | undefined): Element {
  checkVisible(room, from);
  if (node === RESERVED_NICK_NODE) return reservedNickInfo(room, from);
  if (node !== undefined) throw new StanzaError('item-not-found', `The room has no disco node "${node}".`);
  const query = x('query', NS.DISCO_INFO, {}, x('identity', NS.DISCO_INFO, { category: 'conference', type: 'text', name: room.config.name || room.name }));
  for (const name of roomFeatures(room)) query.append(feature(name));
  const form = buildForm({
    type: 'result',
    fields: [
      { var: 'FORM_TYPE', type: 'hidden', values: [MUC_NS.ROOMINFO] },
      { var: 'muc#roominfo_description', label: 'Description', values: [room.config.description] },
      { var: 'muc#roominfo_occupants', label: 'Number of occupants', values: [String(room.occupants.size)] },
      { var: 'muc#roominfo_subject', label: 'Subject', values: [room.subject?.text ?? ''] },
      { var: 'muc#roomconfig_roomname', label: 'Room name', values: [room.config.name] },
      { var: 'muc#roomconfig_changesubject', type: 'boolean', label: 'Occupants may change the subject', values: [room.config.changeSubject ? '1' : '0'] },
    ],
  });
  query.append(form);
  return query;
}

/** Section 6.5: occupants see who is in the room; everyone else gets an empty list. */
export function roomItems(room: Room, from: JID): Element {
  checkVisible(room, from);
  const query = x('query', NS.DISCO_ITEMS);
  if (room.occupants.ofAccount(from.bare()).length === 0) return query;
  for (const occupant of room.occupants.all()) query.append(x('item', NS.DISCO_ITEMS, { jid: room.occupantJid(occupant.nick).toString() }));
  return query;
}
