/** Namespaces of XEP-0191, which the shared NS table does not list yet. */

/** XEP-0191 blocking command. */
export const NS_BLOCKING = 'urn:xmpp:blocking';
/** XEP-0191 application error condition `<blocked/>`. */
export const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';
