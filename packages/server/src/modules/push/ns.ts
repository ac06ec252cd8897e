/** Namespaces and form types of push notifications (XEP-0357). */
export const NS_PUSH = 'urn:xmpp:push:0';
export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const PUSH_SUMMARY_FORM = 'urn:xmpp:push:summary';
export const PUBLISH_OPTIONS_FORM = 'http://jabber.org/protocol/pubsub#publish-options';
