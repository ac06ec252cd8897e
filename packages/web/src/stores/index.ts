/** The client's Pinia stores over the connection (src/xmpp, src/worker) and the data layer (src/data). */
export { useSession, useConnector, type SessionPhase, type SignInError } from './session.js';
export { useSettings, type Theme, type SettingsState } from './settings.js';
export { useConversations, isMuted, LIST_PAGE } from './conversations.js';
export { useMessages, PAGE_SIZE, MAX_WINDOW, type TypingNotice } from './messages.js';
export { useContacts, type ContactPresence } from './contacts.js';
export { useRooms, type JoinedRoom } from './rooms.js';
export { useProfile } from './profile.js';
export { useDirectory } from './directory.js';
export { useSearch } from './search.js';
export { useUploads } from './uploads.js';
export { applyTheme, resolveTheme } from './theme.js';
export { serviceUrl, type Connector, type SignInRequest } from './connector.js';
