// Messages between the pages and the service worker (postMessage), shared by both sides.

/** Page to waiting worker: the user agreed to load the new version. */
export const SKIP_WAITING = 'parley:skip-waiting';

/** Worker to page: a notification was clicked, so show its conversation. */
export const OPEN_CONVERSATION = 'parley:open-conversation';

export interface OpenConversationMessage {
  type: typeof OPEN_CONVERSATION;
  conversation: string;
}

/** The `data` of a notification, read by the click handler. */
export interface NotificationData {
  conversation: string;
}

export function isOpenConversation(data: unknown): data is OpenConversationMessage {
  const message = data as Partial<OpenConversationMessage> | null;
  return typeof message === 'object' && message !== null && message.type === OPEN_CONVERSATION && typeof message.conversation === 'string';
}

/** Returns the page URL of a conversation (the client's hash route), for a window the worker opens. */
export function conversationUrl(conversation: string): string {
  return `/#/chats/${encodeURIComponent(conversation)}`;
}
