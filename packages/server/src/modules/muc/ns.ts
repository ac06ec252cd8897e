/** Namespaces of multi-user chat (XEP-0045) and the protocols around it. */
export const MUC_NS = {
  MUC: 'http://jabber.org/protocol/muc',
  USER: 'http://jabber.org/protocol/muc#user',
  ADMIN: 'http://jabber.org/protocol/muc#admin',
  OWNER: 'http://jabber.org/protocol/muc#owner',
  ROOMCONFIG: 'http://jabber.org/protocol/muc#roomconfig',
  ROOMINFO: 'http://jabber.org/protocol/muc#roominfo',
  REQUEST: 'http://jabber.org/protocol/muc#request',
  STABLE_ID: 'http://jabber.org/protocol/muc#stable_id',
  SELF_PING: 'http://jabber.org/protocol/muc#self-ping-optimization',
  DIRECT_INVITE: 'jabber:x:conference',
  ACTIVITY: 'urn:parley:muc:activity:0',
  /** Message moderation (XEP-0425): the current version, and version 0 with XEP-0422 fastening and XEP-0424 version 0 that slixmpp 1.8 speaks. */
  MODERATE: 'urn:xmpp:message-moderate:1',
  MODERATE_0: 'urn:xmpp:message-moderate:0',
  FASTEN_0: 'urn:xmpp:fasten:0',
  RETRACT_0: 'urn:xmpp:message-retract:0',
  OCCUPANT_ID: 'urn:xmpp:occupant-id:0',
} as const;
