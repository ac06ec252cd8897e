/** Entering a room (XEP-0045 section 7.2), including a second session of an account under the same nick (7.2.8). */
import { type Element, type JID, NS, StanzaError, errorReply, x } from '@parley/xmpp';
import type { HistoryRequest } from './host.js';
import { MUC_NS } from './ns.js';
import { affiliationAtLeast, defaultRole } from './permissions.js';
import { cleanPresence, occupantPresence } from './presence-build.js';
import type { Room } from './room.js';
import { joinSelfCodes } from './status.js';
import type { Occupant } from './types.js';

/** Returns the error that keeps `from` from entering as `nick`, or undefined. */
export function joinRefusal(room: Room, from: JID, nick: string, password: string | undefined): StanzaError | undefined {
  if (nick.trim() === '') return new StanzaError('not-acceptable', 'A nickname needs at least one visible character.');
  const affiliation = room.affiliationOf(from.bare());
  if (room.locked && affiliation !== 'owner') return new StanzaError('item-not-found', 'The room is locked until its owner configures it.');
  if (affiliation === 'outcast') return new StanzaError('forbidden', 'You are banned from this room.');
  if (room.config.membersOnly && !affiliationAtLeast(affiliation, 'member')) {
    return new StanzaError('registration-required', 'Only members may enter this room.');
  }
  if (nickTakenByOther(room, from, nick)) return new StanzaError('conflict', 'That nickname is used or reserved by someone else.');
  if (room.config.password !== '' && password !== room.config.password) {
    return new StanzaError('not-authorized', password === undefined ? 'The room needs a password.' : 'Wrong password.');
  }
  const sameNick = room.occupants.byNickname(nick);
  if (!sameNick && isFull(room) && !affiliationAtLeast(affiliation, 'admin')) {
    return new StanzaError('service-unavailable', 'The room is full.', { type: 'wait' });
  }
  return undefined;
}

/** True when `nick` is held by an occupant of another account, or reserved by another account (section 7.12). */
export function nickTakenByOther(room: Room, from: JID, nick: string): boolean {
  const holder = room.occupants.byNickname(nick);
  if (holder && !holder.bare.equals(from.bare())) return true;
  const own = from.bare().toString();
  for (const [jid, entry] of room.affiliations) {
    if (entry.nick === nick && jid !== own) return true;
  }
  return false;
}

function isFull(room: Room): boolean {
  const limit = room.host.limits.max_occupants;
  const roomLimit = room.config.maxUsers > 0 ? Math.min(room.config.maxUsers, limit) : limit;
  return room.occupants.size >= roomLimit;
}

/** Enters `from` as `nick`, or sends the error of section 7.2. */
export async function join(room: Room, from: JID, nick: string, stanza: Element, created: boolean): Promise<void> {
  const muc = stanza.getChild('x', MUC_NS.MUC);
  const refusal = joinRefusal(room, from, nick, muc?.getChildText('password', MUC_NS.MUC));
  if (refusal) {
    // As in the examples of section 7.2, the error repeats the <x/> of the join, without the password.
    const reply = errorReply(stanza, refusal);
    reply.append(x('x', MUC_NS.MUC));
    room.host.send(reply);
    return;
  }

  const existing = room.occupants.byNickname(nick);
  const occupant = existing ?? room.occupants.add(nick, from, defaultRole(room.affiliationOf(from.bare()), room.config.moderated), cleanPresence(stanza));
  if (existing) room.occupants.addSession(existing, from);

  await sendRoomState(room, occupant, from, stanza, { created, announce: !existing });
}

/** Section 7.2.1: a repeated join from a session already in the room gets the room state again. */
export async function rejoin(room: Room, occupant: Occupant, from: JID, stanza: Element): Promise<void> {
  occupant.presence = cleanPresence(stanza);
  room.occupants.changed();
  await sendRoomState(room, occupant, from, stanza, { created: false, announce: false });
}

/** Sends the others' presence, the new occupant's presence to the others, the self-presence, history, and the subject last. */
async function sendRoomState(room: Room, occupant: Occupant, from: JID, stanza: Element, options: { created: boolean; announce: boolean }): Promise<void> {
  sendOthers(room, occupant, from);
  if (options.announce) announce(room, occupant);
  // 170: every groupchat message goes to the room archive.
  const codes = joinSelfCodes({ created: options.created, nonAnonymous: room.config.whoisAnyone, logged: true });
  room.sendTo(from, room.occupantJid(occupant.nick), occupantPresence(room, occupant, { session: from, role: occupant.role }, { codes }));

  await sendHistory(room, from, stanza.getChild('x', MUC_NS.MUC)?.getChild('history', MUC_NS.MUC));
  sendSubject(room, from);
}

/**
 * Presence without `<x xmlns='http://jabber.org/protocol/muc'/>` from a session that is not
 * in the room: the client thinks it is joined when it is not. It gets the unavailable
 * self-presence of a kick for a technical reason (307, 333), so that it joins again.
 */
export function refuseUnjoined(host: Room['host'], occupantJid: JID, from: JID): void {
  const mucUser = x('x', MUC_NS.USER, {}, x('item', MUC_NS.USER, { affiliation: 'none', role: 'none' }));
  for (const code of [110, 307, 333]) mucUser.append(x('status', MUC_NS.USER, { code }));
  host.send(x('presence', NS.CLIENT, { type: 'unavailable', from: occupantJid.toString(), to: from.toString() }, mucUser));
}

/** Section 7.2.3: the presence of every other occupant, before the new occupant's own. */
function sendOthers(room: Room, occupant: Occupant, session: JID): void {
  for (const other of room.occupants.all()) {
    if (other === occupant) continue;
    room.sendTo(session, room.occupantJid(other.nick), occupantPresence(room, other, { session, role: occupant.role }));
  }
}

/** Tells every other occupant about the new one. */
function announce(room: Room, occupant: Occupant): void {
  for (const { occupant: viewer, session } of room.occupants.sessions()) {
    if (viewer === occupant) continue;
    room.sendTo(session, room.occupantJid(occupant.nick), occupantPresence(room, occupant, { session, role: viewer.role }));
  }
}

/** Reads `<history/>` (section 7.2.15); a malformed attribute is ignored. */
export function readHistoryRequest(history: Element | undefined): HistoryRequest {
  const request: HistoryRequest = {};
  if (!history) return request;
  const number = (name: string): number | undefined => {
    const value = history.attr(name);
    return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
  };
  const maxchars = number('maxchars');
  const maxstanzas = number('maxstanzas');
  const seconds = number('seconds');
  if (maxchars !== undefined) request.maxchars = maxchars;
  if (maxstanzas !== undefined) request.maxstanzas = maxstanzas;
  if (seconds !== undefined) request.seconds = seconds;
  const since = Date.parse(history.attr('since') ?? '');
  if (!Number.isNaN(since)) request.since = since;
  return request;
}

async function sendHistory(room: Room, session: JID, history: Element | undefined): Promise<void> {
  const messages = await room.host.archive.history(room.jid, readHistoryRequest(history), room.host.limits.history_default);
  for (const message of messages) {
    const copy = message.clone();
    copy.attrs.to = session.toString();
    room.host.send(copy);
  }
}

/** Section 7.2.16: the subject comes last, empty when none is set. */
export function sendSubject(room: Room, session: JID): void {
  const from = room.subject?.nick !== undefined ? room.occupantJid(room.subject.nick) : room.jid;
  const subject = x('subject', NS.CLIENT, {}, room.subject?.text ?? '');
  // XEP-0203: when the subject was set, stamped by the room.
  const delay = room.subject && x('delay', NS.DELAY, { from: room.jid.toString(), stamp: new Date(room.subject.at).toISOString() });
  room.sendTo(session, from, x('message', NS.CLIENT, { type: 'groupchat', id: `subject-${Date.now().toString(36)}` }, subject, delay));
}
