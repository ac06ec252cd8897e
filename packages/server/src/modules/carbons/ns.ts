/** Namespaces of the carbons module that the shared NS table does not list yet. */

/** XEP-0280 message carbons. */
export const NS_CARBONS = 'urn:xmpp:carbons:2';
/** XEP-0297 stanza forwarding. */
export const NS_FORWARD = 'urn:xmpp:forward:0';
/** XEP-0184 message delivery receipts. */
export const NS_RECEIPTS = 'urn:xmpp:receipts';
/** XEP-0333 chat markers. */
export const NS_CHAT_MARKERS = 'urn:xmpp:chat-markers:0';
/** XEP-0045 multi-user chat, user namespace. */
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
