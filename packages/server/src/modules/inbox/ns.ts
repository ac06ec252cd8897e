/** Namespaces of the inbox: MongooseIM's XEP-0430 dialect, and Parley's additions. */
export const NS_INBOX = 'erlang-solutions.com:xmpp:inbox:0';
/** Entry properties (archive, mute, read) of one conversation. */
export const NS_INBOX_CONVERSATION = 'erlang-solutions.com:xmpp:inbox:0#conversation';
/** Parley's additions: the conversation's JID, kind, positions and pinned flag, and push subscriptions. */
export const NS_PARLEY_INBOX = 'urn:parley:inbox:0';
