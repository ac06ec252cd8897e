/** Namespaces of server-to-server streams beside those in the toolkit's NS. */
export const S2S_NS = {
  /** Server Dialback elements (XEP-0220), written with the `db:` prefix on the wire. */
  DIALBACK: 'jabber:server:dialback',
  /** The stream feature that announces dialback (XEP-0220). */
  DIALBACK_FEATURE: 'urn:xmpp:features:dialback',
} as const;

/** ALPN protocol name for direct TLS between servers (XEP-0368). */
export const ALPN_SERVER = 'xmpp-server';
