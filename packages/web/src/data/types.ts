/** The records the data layer stores and hands to the UI. */
import type { Attachment } from './attachment-types.js';

export type ConversationKind = 'chat' | 'groupchat';

/** An own message's progress; a received message is always 'received'. */
export type MessageState = 'sending' | 'sent' | 'delivered' | 'read' | 'failed' | 'received';

export type Direction = 'in' | 'out';

/** Orders a conversation's messages: the message's `key`. */
export interface MessageKey {
  key: string;
}

export interface Message extends MessageKey {
  /** Bare JID of the contact or room. */
  conversation: string;
  kind: ConversationKind;
  direction: Direction;
  /** Sender: a bare JID in 1:1 chats, the occupant's nick in rooms. */
  from: string;
  body: string;
  /** Milliseconds since the epoch: the server's stamp when known, else the local clock. */
  timestamp: number;
  /** XEP-0359 stanza id by the archive of this conversation (own archive, or the room's). */
  stanzaId?: string;
  /** XEP-0359 origin-id; own messages always have one. */
  originId?: string;
  /** The stanza's 'id' attribute, which receipts and 1:1 markers name. */
  msgId?: string;
  state: MessageState;
  /** Set when a correction (XEP-0308) replaced the body. */
  editedAt?: number;
  /** Set when the sender retracted (XEP-0424) or a moderator removed (XEP-0425) the message. */
  retractedAt?: number;
  moderatedBy?: string;
  /** Group receipts of an own room message, as last fetched. */
  readCount?: number;
  unreadCount?: number;
  /** Search tokens of the body (see tokens.ts). */
  tokens: string[];
  /** A file the message shares (XEP-0066 / XEP-0447); the body is then usually its URL. */
  attachment?: Attachment;
}

export interface Conversation {
  jid: string;
  kind: ConversationKind;
  name?: string;
  /** The last message's text, cut to PREVIEW_LENGTH. */
  preview: string;
  previewFrom?: string;
  /** The last message's file, so the list shows "[Image] name" in the chosen language instead of the URL. */
  previewAttachment?: Attachment;
  /** The last message was retracted: the list shows a "message deleted" marker instead of `preview`. */
  previewRetracted?: boolean;
  lastActivity: number;
  /** From the server's inbox, never counted locally. */
  unread: number;
  lastStanzaId?: string;
  readStanzaId?: string;
  /** 1 pinned, 0 not (IndexedDB cannot index booleans). */
  pinned: 0 | 1;
  /** 0 not muted, else the time the mute ends (Infinity: forever). */
  mutedUntil: number;
  archived: boolean;
  /** Newest stanza id of the contiguous range fetched from the archive. */
  newestFetched?: string;
  /** Oldest stanza id of that range. */
  oldestFetched?: string;
  /** The archive has nothing older than oldestFetched. */
  reachedBeginning: boolean;
}

export interface OutboxEntry {
  seq?: number;
  conversation: string;
  /** The stanza as written; re-sent unchanged, so with the same origin-id. */
  xml: string;
  /** Key of the message row this entry sends, absent for markers. */
  messageKey?: string;
  createdAt: number;
}

export interface Contact {
  jid: string;
  name?: string;
  subscription: string;
  groups: string[];
}

export interface Room {
  jid: string;
  nick?: string;
  name?: string;
}

export interface ReceiptRecord {
  room: string;
  stanzaId: string;
  read: string[];
  unread: string[];
  fetchedAt: number;
}

export interface KvEntry {
  key: string;
  value: unknown;
}

/** A change notice; the UI refreshes only the named rows. */
export type DataChange =
  | { type: 'conversation'; jid: string }
  | { type: 'messages'; conversation: string; keys: string[] }
  | { type: 'outbox'; size: number }
  | { type: 'sync'; phase: 'started' | 'done' | 'failed'; conversation?: string; error?: string }
  | { type: 'typing'; conversation: string; from: string; state: 'composing' | 'paused' | 'active' | 'inactive' | 'gone' }
  | { type: 'receipts'; room: string; stanzaId: string }
  | { type: 'contacts' };
