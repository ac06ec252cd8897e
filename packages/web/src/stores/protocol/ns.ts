/** Namespaces of the protocol features the stores speak themselves (the data layer has its own). */
export const NS = {
  CLIENT: 'jabber:client',
  ROSTER: 'jabber:iq:roster',
  VCARD: 'vcard-temp',
  SEARCH: 'jabber:iq:search',
  DATA: 'jabber:x:data',
  MUC: 'http://jabber.org/protocol/muc',
  MUC_USER: 'http://jabber.org/protocol/muc#user',
  MUC_ADMIN: 'http://jabber.org/protocol/muc#admin',
  MUC_OWNER: 'http://jabber.org/protocol/muc#owner',
  CONFERENCE: 'jabber:x:conference',
  PUBSUB: 'http://jabber.org/protocol/pubsub',
  BOOKMARKS: 'urn:xmpp:bookmarks:1',
  CHAT_STATES: 'http://jabber.org/protocol/chatstates',
  GROUP_RECEIPTS: 'urn:parley:group-receipts:0',
  DISCO_ITEMS: 'http://jabber.org/protocol/disco#items',
  DISCO_INFO: 'http://jabber.org/protocol/disco#info',
} as const;
