/** A room's archive as the MAM query code reads it (XEP-0313 on a room JID). */
import { type Element, type JID, x } from '@parley/xmpp';
import type { ArchiveFilter, MucArchiveFilter, MucArchivedMessage, Storage } from '../../../storage/index.js';
import type { ArchiveSource } from '../../mam/archive-source.js';
import { addStanzaId } from '../../mam/ids.js';

const MUC_USER = 'http://jabber.org/protocol/muc#user';

/**
 * Translates the query filter to the room archive. `with` names an occupant JID
 * (room@service/nick); the bare room JID matches every message. Another JID names a real
 * sender, which only a requester who may see real JIDs can filter on: for anyone else it
 * matches nothing, so the filter cannot probe who is behind a nick.
 */
export function roomFilter(filter: ArchiveFilter, room: JID, realJids: boolean): MucArchiveFilter {
  const { with: peer, ...rest } = filter;
  if (!peer) return rest;
  if (peer.bare === room.toString()) return peer.resource === undefined ? rest : { ...rest, nick: peer.resource };
  if (realJids) return { ...rest, sender: peer.bare };
  return { ...rest, keys: [] };
}

/**
 * Removes the muc#user payloads of a stored stanza. Only the room may state an occupant's
 * real JID, so a payload that the sender put in its own message must not reach readers.
 */
export function removeUserPayloads(stored: Element): void {
  stored.removeChildren((child) => child.name === 'x' && child.ns === MUC_USER);
}

/**
 * Builds the forwarded stanza of a room result. It removes any muc#user payload the sender
 * put in its message. With `realJids` it adds the room's own, with the sender's real bare
 * JID, which XEP-0313 allows for requesters who may see real JIDs in the room.
 */
export function roomForwarded(room: JID, message: MucArchivedMessage, stored: Element, realJids: boolean): Element {
  removeUserPayloads(stored);
  addStanzaId(stored, room.toString(), message.stanzaId);
  if (realJids) stored.append(x('x', MUC_USER, {}, x('item', MUC_USER, { jid: message.sender })));
  return stored;
}

/** Returns the archive of `room` as a query source. */
export function roomSource(storage: Storage, room: JID, realJids: boolean): ArchiveSource<MucArchivedMessage> {
  const { mucArchive } = storage;
  const key = { service: room.domain, room: room.local };
  return {
    jid: room,
    keysOf: (stanzaIds) => mucArchive.keysOf(key, stanzaIds),
    page: (filter, request) => mucArchive.page(key, roomFilter(filter, room, realJids), request),
    bounds: () => mucArchive.bounds(key),
    forwarded: (message, stored) => roomForwarded(room, message, stored, realJids),
  };
}
