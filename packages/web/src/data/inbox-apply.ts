import type { InboxEntry } from './inbox.js';
import { newConversation, previewOf } from './message-store.js';
import type { ParleyDb } from './schema.js';
import type { Conversation } from './types.js';

/** Writes inbox entries into the conversations table: unread counts and read positions come from the server. */
export function applyInboxEntries(db: ParleyDb, entries: readonly InboxEntry[]): Promise<void> {
  return db.transaction('rw', db.conversations, db.rooms, async () => {
    const existing = await db.conversations.bulkGet(entries.map((entry) => entry.jid));
    const rooms = entries.filter((entry) => entry.kind === 'groupchat').map((entry) => entry.jid);
    const knownRooms = await db.rooms.bulkGet(rooms);
    const roomNames = new Map(knownRooms.map((room) => [room?.jid ?? '', room?.name]));
    const rows = entries.map((entry, i) => merged(existing[i] ?? named(newConversation(entry.jid, entry.kind), roomNames.get(entry.jid)), entry));
    await db.conversations.bulkPut(rows);
    await db.rooms.bulkPut(rooms.filter((_, i) => !knownRooms[i]).map((jid) => ({ jid })));
  });
}

function named(row: Conversation, name: string | undefined): Conversation {
  return name ? { ...row, name } : row;
}

function merged(row: Conversation, entry: InboxEntry): Conversation {
  const next: Conversation = { ...row, kind: entry.kind, unread: entry.unread, pinned: entry.pinned ? 1 : 0, mutedUntil: entry.mutedUntil, archived: entry.archived };
  if (entry.readStanzaId !== undefined) next.readStanzaId = entry.readStanzaId;
  const activity = entry.lastActivity ?? 0;
  if (entry.lastStanzaId !== undefined && activity >= row.lastActivity) {
    next.lastStanzaId = entry.lastStanzaId;
    next.lastActivity = activity;
    if (entry.lastBody !== undefined) next.preview = previewOf(entry.lastBody);
    if (entry.lastBody !== undefined) next.previewAttachment = entry.lastAttachment;
    if (entry.lastBody !== undefined) delete next.previewRetracted;
    if (entry.lastRetracted) Object.assign(next, { preview: '', previewAttachment: undefined, previewRetracted: true });
    if (entry.lastFrom !== undefined) next.previewFrom = entry.lastFrom;
  }
  return next;
}
