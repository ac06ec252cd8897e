/** Namespaces of chat markers and of Parley's group read receipts. */
export { NS_CHAT_MARKERS } from '../carbons/ns.js';

/** Parley's group read receipts query (docs/protocol.md). */
export const NS_GROUP_RECEIPTS = 'urn:parley:group-receipts:0';
