import { x, type XElement, type XmppClientLike } from '../../xmpp/index.js';
import { submitForm } from './data-form.js';
import { bare, domainPart, localPart } from './jid.js';
import { NS } from './ns.js';

export type Affiliation = 'owner' | 'admin' | 'member' | 'none' | 'outcast';

export interface RoomMember {
  jid: string;
  affiliation: Affiliation;
  nick?: string;
}

export interface Invitation {
  room: string;
  from: string;
  reason?: string;
  password?: string;
  /** The room's name from its disco#info, once fetched. */
  name?: string;
}

/** Returns the MUC service for new rooms, Parley's default `conference.<domain>`. */
export function defaultMucService(accountJid: string): string {
  return `conference.${domainPart(accountJid)}`;
}

/** Builds the join presence (XEP-0045 section 7.2); the archive, not the room, supplies history. */
export function joinPresence(room: string, nick: string): XElement {
  return x('presence', NS.CLIENT, { to: `${bare(room)}/${nick}` }, x('x', NS.MUC, {}, x('history', NS.MUC, { maxstanzas: 0 })));
}

export function leavePresence(room: string, nick: string): XElement {
  return x('presence', NS.CLIENT, { to: `${bare(room)}/${nick}`, type: 'unavailable' });
}

/**
 * Configures a room just created by joining it as a persistent, members-only group whose
 * members see each other's JIDs (XEP-0045 section 10.1.3), as a team chat is.
 */
export async function configureGroup(client: XmppClientLike, room: string, name: string): Promise<void> {
  const form = submitForm(
    {
      'muc#roomconfig_roomname': name,
      'muc#roomconfig_persistentroom': '1',
      'muc#roomconfig_membersonly': '1',
      'muc#roomconfig_publicroom': '0',
      'muc#roomconfig_whois': 'anyone',
      'muc#roomconfig_allowinvites': '1',
    },
    'http://jabber.org/protocol/muc#roomconfig',
  );
  await client.iq(x('iq', NS.CLIENT, { type: 'set', to: bare(room) }, x('query', NS.MUC_OWNER, {}, form)));
}

export async function setAffiliation(client: XmppClientLike, room: string, jid: string, affiliation: Affiliation): Promise<void> {
  const item = x('item', NS.MUC_ADMIN, { jid: bare(jid), affiliation });
  await client.iq(x('iq', NS.CLIENT, { type: 'set', to: bare(room) }, x('query', NS.MUC_ADMIN, {}, item)));
}

/** Lists owners, admins and members (XEP-0045 sections 9.5, 10.5, 10.8); lists the account may not read are skipped. */
export async function fetchMembers(client: XmppClientLike, room: string): Promise<RoomMember[]> {
  const members: RoomMember[] = [];
  for (const affiliation of ['owner', 'admin', 'member'] as const) {
    const request = x('iq', NS.CLIENT, { type: 'get', to: bare(room) }, x('query', NS.MUC_ADMIN, {}, x('item', NS.MUC_ADMIN, { affiliation })));
    const result = await client.iq(request).catch(() => undefined);
    for (const item of result?.getChild('query', NS.MUC_ADMIN)?.getChildren('item', NS.MUC_ADMIN) ?? []) {
      members.push({ jid: bare(item.attr('jid') ?? ''), affiliation, nick: item.attr('nick') });
    }
  }
  return members;
}

/** Reads a room's name from its disco#info identity (XEP-0045 section 6.4), or undefined. */
export async function fetchRoomName(client: XmppClientLike, room: string): Promise<string | undefined> {
  const info = await client.iq(x('iq', NS.CLIENT, { type: 'get', to: bare(room) }, x('query', NS.DISCO_INFO))).catch(() => undefined);
  const identity = info?.getChild('query', NS.DISCO_INFO)?.getChildren('identity', NS.DISCO_INFO).find((item) => item.attr('category') === 'conference');
  const name = identity?.attr('name');
  // A room without a configured name reports its local part, which adds nothing to the address.
  return name && name !== localPart(bare(room)) ? name : undefined;
}

/** Sends a direct invitation (XEP-0249); members-only rooms need the invitee made a member first. */
export function directInvite(room: string, to: string, reason?: string): XElement {
  return x('message', NS.CLIENT, { to: bare(to) }, x('x', NS.CONFERENCE, { jid: bare(room), reason }));
}

/** Reads a direct (XEP-0249) or mediated (XEP-0045 section 7.8.2) invitation out of a message. */
export function parseInvitation(stanza: XElement): Invitation | undefined {
  if (stanza.name !== 'message') return undefined;
  const direct = stanza.getChild('x', NS.CONFERENCE);
  if (direct?.attr('jid')) {
    return { room: bare(direct.attr('jid') ?? ''), from: bare(stanza.attr('from') ?? ''), reason: direct.attr('reason'), password: direct.attr('password') };
  }
  const invite = stanza.getChild('x', NS.MUC_USER)?.getChild('invite', NS.MUC_USER);
  if (invite) {
    return { room: bare(stanza.attr('from') ?? ''), from: bare(invite.attr('from') ?? ''), reason: invite.getChildText('reason', NS.MUC_USER) };
  }
  return undefined;
}

/** Reads the status codes of a room presence (XEP-0045 section 15.6). */
export function statusCodes(mucX: XElement | undefined): number[] {
  return (mucX?.getChildren('status', NS.MUC_USER) ?? []).map((status) => Number(status.attr('code')));
}
