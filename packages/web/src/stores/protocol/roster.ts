import { x, type XmppClientLike } from '../../xmpp/index.js';
import { bare } from './jid.js';
import { NS } from './ns.js';

/** Adds or renames a contact (RFC 6121 section 2.3); the data layer stores the server's push. */
export async function setRosterItem(client: XmppClientLike, jid: string, name?: string, groups: string[] = []): Promise<void> {
  const item = x('item', NS.ROSTER, { jid: bare(jid), name: name || undefined }, ...groups.map((group) => x('group', NS.ROSTER, {}, group)));
  await client.iq(x('iq', NS.CLIENT, { type: 'set' }, x('query', NS.ROSTER, {}, item)));
}

/** Removes a contact (RFC 6121 section 2.5), which also cancels both subscriptions. */
export async function removeRosterItem(client: XmppClientLike, jid: string): Promise<void> {
  await client.iq(x('iq', NS.CLIENT, { type: 'set' }, x('query', NS.ROSTER, {}, x('item', NS.ROSTER, { jid: bare(jid), subscription: 'remove' }))));
}
