import { useContacts, useConversations, useRooms } from '../stores/index.js';
import { localPart } from '../stores/protocol/jid.js';
import type { ConversationKind } from '../data/index.js';

/** Names and kinds of conversations as the screens show them. */
export function useNames() {
  const contacts = useContacts();
  const rooms = useRooms();
  const conversations = useConversations();

  function kindOf(jid: string): ConversationKind {
    const known = conversations.items.find((item) => item.jid === jid)?.kind;
    return known ?? (rooms.isRoom(jid) ? 'groupchat' : 'chat');
  }

  function conversationName(jid: string): string {
    const stored = conversations.items.find((item) => item.jid === jid)?.name;
    return stored || rooms.rooms[jid]?.name || contacts.roster.find((item) => item.jid === jid)?.name || localPart(jid);
  }

  /** Returns the sender's name: a nick in rooms, the roster name or local part in 1:1 chats. */
  function senderName(from: string, kind: ConversationKind): string {
    return kind === 'groupchat' ? from : contacts.nameOf(from);
  }

  return { kindOf, conversationName, senderName };
}
