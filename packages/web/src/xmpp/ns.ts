/** Namespaces the connection layer speaks. */
export const NS = {
  CLIENT: 'jabber:client',
  FRAMING: 'urn:ietf:params:xml:ns:xmpp-framing',
  STREAM: 'http://etherx.jabber.org/streams',
  STREAMS_ERR: 'urn:ietf:params:xml:ns:xmpp-streams',
  STANZAS: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  SASL: 'urn:ietf:params:xml:ns:xmpp-sasl',
  BIND: 'urn:ietf:params:xml:ns:xmpp-bind',
  SESSION: 'urn:ietf:params:xml:ns:xmpp-session',
  SM: 'urn:xmpp:sm:3',
  PING: 'urn:xmpp:ping',
  SASL2: 'urn:xmpp:sasl:2',
  BIND2: 'urn:xmpp:bind:0',
  FAST: 'urn:xmpp:fast:0',
  CARBONS: 'urn:xmpp:carbons:2',
  CSI: 'urn:xmpp:csi:0',
} as const;
