import { Dexie, type DexieOptions, type EntityTable } from 'dexie';
import { tokenize } from './tokens.js';
import type { Contact, Conversation, KvEntry, Message, OutboxEntry, ReceiptRecord, Room } from './types.js';
import type { PendingUpload } from './attachment-types.js';

/**
 * Version 1. Messages are paged by [conversation+key], and keys sort by time. Stanza ids are
 * unique per conversation, and origin-ids find duplicates. Conversations are listed by
 * [pinned+lastActivity], the outbox is read in insertion order, and kv stores sync state.
 */
export const SCHEMA_V1 = {
  messages: 'key, [conversation+key], [conversation+timestamp], &[conversation+stanzaId], [conversation+originId]',
  conversations: 'jid, [pinned+lastActivity]',
  outbox: '++seq, conversation',
  kv: 'key',
};

/** Version 2: the search index (multiEntry tokens), the roster, rooms and group receipts. */
export const SCHEMA_V2 = {
  messages: 'key, [conversation+key], [conversation+timestamp], &[conversation+stanzaId], [conversation+originId], [conversation+msgId], *tokens',
  contacts: 'jid',
  rooms: 'jid',
  receipts: '[room+stanzaId]',
};

/** Version 3: files waiting to be uploaded, with their Blob, by conversation. */
export const SCHEMA_V3 = {
  uploads: 'id, conversation',
};

export const SCHEMA_VERSION = 3;

/** One account's database. Open it with openAccountDb(). */
export class ParleyDb extends Dexie {
  declare messages: EntityTable<Message, 'key'>;
  declare conversations: EntityTable<Conversation, 'jid'>;
  declare outbox: EntityTable<OutboxEntry, 'seq'>;
  declare kv: EntityTable<KvEntry, 'key'>;
  declare contacts: EntityTable<Contact, 'jid'>;
  declare rooms: EntityTable<Room, 'jid'>;
  declare receipts: EntityTable<ReceiptRecord, 'room'>;
  declare uploads: EntityTable<PendingUpload, 'id'>;

  constructor(name: string, options?: DexieOptions) {
    super(name, options);
    this.version(1).stores(SCHEMA_V1);
    this.version(2)
      .stores(SCHEMA_V2)
      .upgrade(async (tx) => {
        await tx.table<Message, string>('messages').toCollection().modify((message) => {
          message.tokens = tokenize(message.body ?? '');
        });
      });
    this.version(3).stores(SCHEMA_V3);
  }
}

/** Returns the database name of an account: one database per bare JID, so accounts never share rows. */
export function accountDbName(bareJid: string): string {
  const bare = bareJid.split('/')[0] ?? bareJid;
  if (!bare.includes('@')) throw new Error(`not an account JID: ${bareJid}`);
  return `parley:${bare.toLowerCase()}`;
}

/** Opens (creating or upgrading) the database of the account `bareJid`. */
export function openAccountDb(bareJid: string, options?: DexieOptions): ParleyDb {
  return new ParleyDb(accountDbName(bareJid), options);
}

/** Deletes an account's database, for sign-out with "forget this device". */
export async function deleteAccountDb(bareJid: string, options?: DexieOptions): Promise<void> {
  const db = new ParleyDb(accountDbName(bareJid), options);
  db.close();
  await db.delete();
}
