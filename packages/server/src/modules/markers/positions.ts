/**
 * Read positions are stanza ids (XEP-0359): for a 1:1 conversation the id in the reader's
 * own archive, for a group the room's id. These lookups tie a marker or a published
 * position to a message that exists, so that a made-up id can never move a position.
 */
import { JID } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';

/** Returns the domain of the local MUC service, or undefined when it is disabled. */
export function mucDomain(server: ServerContext): string | undefined {
  const { muc, domain } = server.config;
  if (!muc.enabled) return undefined;
  return muc.domain || `conference.${domain}`;
}

/** True when `jid` is a room of the local MUC service. */
export function isLocalRoom(server: ServerContext, jid: JID): boolean {
  return jid.local !== '' && jid.domain === mucDomain(server);
}

/** True when `jid` is an account of this server. */
export function isLocalAccount(server: ServerContext, jid: JID): boolean {
  return jid.local !== '' && jid.domain === server.config.domain;
}

/**
 * Finds the message `peer` sent to `owner` whose 'id' attribute or origin-id is `ref`, or
 * whose stanza id in `owner`'s archive is `ref`, and returns that stanza id.
 */
export async function findMarkedMessage(server: ServerContext, owner: JID, peer: JID, ref: string): Promise<string | undefined> {
  const { archive, db } = server.storage;
  // The marked message may still wait in the batch writer. SQLite's one connection made reads
  // wait for it, but a PostgreSQL pool reads on another connection at once.
  await server.storage.batch.drained();
  const byClientId = await archive.findReferenced(db, owner.domain, owner.local, peer.toString(), peer.toString(), ref);
  if (byClientId !== undefined) return byClientId.stanzaId;
  return (await isInAccountArchive(server, owner, peer, ref)) ? ref : undefined;
}

/** True when `owner`'s archive contains `stanzaId` in the conversation with `conversation` (a bare JID). */
export async function isInAccountArchive(server: ServerContext, owner: JID, conversation: JID, stanzaId: string): Promise<boolean> {
  const { archive } = server.storage;
  await server.storage.batch.drained();
  const key = (await archive.keysOf(owner.domain, owner.local, [stanzaId])).get(stanzaId);
  if (key === undefined) return false;
  return (await archive.count(owner.domain, owner.local, { with: { bare: conversation.toString() }, keys: [key] })) === 1;
}

/** True when the archive of `room`, a local room, contains `stanzaId`. */
export async function isInRoomArchive(server: ServerContext, room: JID, stanzaId: string): Promise<boolean> {
  await server.storage.batch.drained();
  const found = await server.storage.mucArchive.findByStanzaId(server.storage.db, { service: room.domain, room: room.local }, stanzaId);
  return found !== undefined;
}

/**
 * True when `stanzaId` names a message of `owner`'s conversation with `conversation`: in
 * the room's archive for a local room, in `owner`'s archive for anyone else.
 */
export async function isKnownPosition(server: ServerContext, owner: JID, conversation: JID, stanzaId: string): Promise<boolean> {
  if (isLocalRoom(server, conversation)) return isInRoomArchive(server, conversation, stanzaId);
  return isInAccountArchive(server, owner, conversation, stanzaId);
}

/** Parses `text` as a bare JID with a localpart, or returns undefined. */
export function parseConversation(text: string | undefined): JID | undefined {
  const jid = JID.parseOrNull(text ?? '');
  if (jid === null || jid.local === '' || jid.resource !== '') return undefined;
  return jid;
}
