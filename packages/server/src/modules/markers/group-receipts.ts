/**
 * Group read receipts, a Parley extension described in docs/protocol.md. The sender of a
 * room message, or an admin or owner of the room, asks its own account which members have
 * read the message. The answer compares each member's read position in the room with it.
 */
import { type Element, JID, StanzaError, x } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';
import type { MucArchivedMessage, StoredAffiliation } from '../../storage/index.js';
import { NS_GROUP_RECEIPTS } from './ns.js';
import { isLocalRoom, parseConversation } from './positions.js';

const MEMBER_AFFILIATIONS: ReadonlySet<string> = new Set(['member', 'admin', 'owner']);
const MANAGER_AFFILIATIONS: ReadonlySet<string> = new Set(['admin', 'owner']);

/** A member of the room: its bare JID, affiliation and reserved nick. */
interface Member {
  jid: JID;
  affiliation: string;
  nick: string | null;
}

/** Reads the room and stanza id of a request; the room must be a local room. */
function readRequest(server: ServerContext, payload: Element): { room: JID; stanzaId: string } {
  const roomText = payload.attr('room');
  const stanzaId = payload.attr('id');
  if (!roomText || !stanzaId) throw new StanzaError('bad-request', 'The query needs a room and an id attribute.');
  const room = parseConversation(roomText);
  if (room === undefined) throw new StanzaError('jid-malformed', 'The room attribute must be the bare JID of a room.');
  if (!isLocalRoom(server, room)) throw new StanzaError('item-not-found', 'This server hosts no such room.');
  return { room, stanzaId };
}

/** Returns the affiliation of `user` in a room as the room itself computes it, so service admins own every room. */
function affiliationOf(server: ServerContext, affiliations: StoredAffiliation[], user: JID): string {
  if (server.config.muc.admins.some((admin) => JID.parse(admin).bare().equals(user))) return 'owner';
  const entry = affiliations.find((row) => row.jid === user.toString()) ?? affiliations.find((row) => row.jid === user.domain);
  return entry?.affiliation ?? 'none';
}

/** Lists the local accounts with affiliation member and above, leaving out the message's sender. */
function membersOf(affiliations: StoredAffiliation[], sender: string): Member[] {
  const members: Member[] = [];
  for (const row of affiliations) {
    if (!MEMBER_AFFILIATIONS.has(row.affiliation) || row.jid === sender) continue;
    const jid = JID.parseOrNull(row.jid);
    // TODO: members on other domains, once the server has server-to-server connections; they count as unread meanwhile.
    if (jid === null || jid.local === '') continue;
    members.push({ jid, affiliation: row.affiliation, nick: row.nick });
  }
  return members;
}

/** True when the room lets every occupant see real JIDs (muc#roomconfig_whois 'anyone'). */
function isNonAnonymous(config: string): boolean {
  const parsed = JSON.parse(config) as { whoisAnyone?: unknown };
  return parsed.whoisAnyone === true;
}

/**
 * Decides whether the requester may see a member's real JID, by the rules of the room
 * itself: admins and owners see every JID, everyone does in a non-anonymous room, and
 * members may read the member list (XEP-0045 section 9.5) but not the admin and owner lists.
 */
function jidVisibility(requesterAffiliation: string, config: string): (member: Member) => boolean {
  if (MANAGER_AFFILIATIONS.has(requesterAffiliation) || isNonAnonymous(config)) return () => true;
  if (requesterAffiliation === 'member') return (member) => member.affiliation === 'member';
  return () => false;
}

function memberElement(name: 'read' | 'unread', member: Member, showJid: boolean): Element {
  return x(name, NS_GROUP_RECEIPTS, { jid: showJid ? member.jid.toString() : undefined, nick: member.nick ?? undefined });
}

async function findMessage(server: ServerContext, room: JID, stanzaId: string): Promise<MucArchivedMessage> {
  const { mucArchive, db } = server.storage;
  const message = await mucArchive.findByStanzaId(db, { service: room.domain, room: room.local }, stanzaId);
  if (message === undefined || message.kind !== 'message') throw new StanzaError('item-not-found', 'The room has no message with this id.');
  return message;
}

/** Handles the query: an IQ get to the requester's own account. */
export async function handleGroupReceipts(server: ServerContext, request: IqRequest): Promise<Element> {
  if (!request.self) throw new StanzaError('forbidden', 'Ask your own account about group read receipts.');
  const { room, stanzaId } = readRequest(server, request.payload);
  const stored = await server.storage.mucRooms.get(room.domain, room.local);
  if (stored === undefined) throw new StanzaError('item-not-found', 'This server hosts no such room.');
  const message = await findMessage(server, room, stanzaId);

  const requester = request.from.bare();
  const affiliations = await server.storage.mucRooms.listAffiliations(room.domain, room.local);
  const affiliation = affiliationOf(server, affiliations, requester);
  if (!MANAGER_AFFILIATIONS.has(affiliation) && message.sender !== requester.toString()) {
    throw new StanzaError('forbidden', 'Only the sender of the message and the room admins and owners may ask who read it.');
  }

  const members = membersOf(affiliations, message.sender);
  const local = members.filter((member) => member.jid.domain === server.config.domain).map((member) => member.jid.toString());
  const positions = await server.storage.inbox.readPositions(server.config.domain, room.toString(), local);
  const showJid = jidVisibility(affiliation, stored.config);

  const read = members.filter((member) => (positions.get(member.jid.toString()) ?? '') >= stanzaId);
  const unread = members.filter((member) => !read.includes(member));
  return x(
    'query',
    NS_GROUP_RECEIPTS,
    { room: room.toString(), id: stanzaId, read: read.length, unread: unread.length },
    ...read.map((member) => memberElement('read', member, showJid(member))),
    ...unread.map((member) => memberElement('unread', member, showJid(member))),
  );
}
