/**
 * Corrections (XEP-0308) and retractions (XEP-0424) in a room's archive. A correction names
 * the original by its 'id' attribute or origin-id. In a room, XEP-0424 names the original
 * of a retraction by the stanza id the room assigned. The id attribute and origin-id work
 * too, for clients that send those. Only the original's sender, by real bare JID, may apply either.
 */
import type { Kysely } from 'kysely';
import type { Element } from '@parley/xmpp';
import type { Database, MucArchiveRepository, RoomKey } from '../../../storage/index.js';
import { type EditableArchive, applyEdit, editOf } from '../../mam/edits.js';

function roomConversation(archive: MucArchiveRepository, room: RoomKey, sender: string, byStanzaId: boolean): EditableArchive {
  return {
    findReferenced: (trx, ref) => archive.findReferenced(trx, room, sender, ref, byStanzaId),
    rewrite: (trx, key, change) => archive.rewrite(trx, room, key, change),
  };
}

/**
 * Applies the correction or retraction `message` carries, if any, to its original in the
 * room's archive. Returns true when it rewrote the original.
 */
export async function applyRoomEdit(trx: Kysely<Database>, archive: MucArchiveRepository, room: RoomKey, sender: string, message: Element, now: number): Promise<boolean> {
  const edit = editOf(message);
  if (!edit) return false;
  return applyEdit(trx, roomConversation(archive, room, sender, edit.kind === 'retraction'), edit, message, now);
}
