/** Namespaces of publish-subscribe (XEP-0060) as personal eventing (XEP-0163) uses it. */
export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
export const NS_PUBSUB_OWNER = 'http://jabber.org/protocol/pubsub#owner';
export const NS_PUBSUB_ERRORS = 'http://jabber.org/protocol/pubsub#errors';
export const NS_ADDRESS = 'http://jabber.org/protocol/address';

/** FORM_TYPE of node configuration forms (XEP-0060 section 8.2). */
export const FORM_NODE_CONFIG = 'http://jabber.org/protocol/pubsub#node_config';
/** FORM_TYPE of publish options (XEP-0060 section 7.1.5). */
export const FORM_PUBLISH_OPTIONS = 'http://jabber.org/protocol/pubsub#publish-options';

/** Native bookmarks (XEP-0402): the node name and payload namespace. */
export const NS_BOOKMARKS = 'urn:xmpp:bookmarks:1';
/** Feature of XEP-0402 section 3.3: the server keeps XEP-0048 private storage bookmarks in sync with the PEP node. */
export const NS_BOOKMARKS_COMPAT = 'urn:xmpp:bookmarks:1#compat';
/** Message Displayed Synchronization (XEP-0490): the node name and payload namespace. */
export const NS_MDS = 'urn:xmpp:mds:displayed:0';

/** Bookmarks of XEP-0048 in private XML storage (XEP-0049). */
export const NS_LEGACY_BOOKMARKS = 'storage:bookmarks';

/** Returns the XEP-0060 feature URI `pubsub#name`. */
export function pubsubFeature(name: string): string {
  return `${NS_PUBSUB}#${name}`;
}
