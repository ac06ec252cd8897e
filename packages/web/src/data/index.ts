/** The web client's data layer: one IndexedDB database per account, read page by page. */
export { ChatStore, type ChatStoreOptions } from './chat-store.js';
export type { LockManagerLike } from './tabs.js';
export { ParleyDb, openAccountDb, deleteAccountDb, accountDbName, SCHEMA_VERSION } from './schema.js';
export { tokenize } from './tokens.js';
export { saveCredentials, loadCredentials, forgetCredentials, CREDENTIALS_DB, type StoredCredentials } from './credentials.js';
export type { SearchOptions, SearchResult } from './search-merged.js';
export { mergeHits } from './search-merged.js';
export type { ChatState } from './parse.js';
export * from './limits.js';
export type { Attachment, AttachmentMeta, AttachmentPurpose, PendingUpload, UploadFailure } from './attachment-types.js';
export { previewText, conversationPreview, attachmentLabel, formatDuration, formatSize, bodyIsJustUrl, type Translate } from './attachment-text.js';
export type { Contact, Conversation, ConversationKind, DataChange, Direction, Message, MessageKey, MessageState, OutboxEntry, ReceiptRecord, Room } from './types.js';
