import { x, type XmppClientLike } from '../../xmpp/index.js';
import { submitForm } from './data-form.js';
import { bare } from './jid.js';
import { NS } from './ns.js';

/** A room bookmark (XEP-0402), which is how the account remembers its groups on every device. */
export interface Bookmark {
  room: string;
  name?: string;
  nick?: string;
  autojoin: boolean;
}

export async function fetchBookmarks(client: XmppClientLike): Promise<Bookmark[]> {
  const request = x('iq', NS.CLIENT, { type: 'get' }, x('pubsub', NS.PUBSUB, {}, x('items', NS.PUBSUB, { node: NS.BOOKMARKS })));
  const result = await client.iq(request).catch(() => undefined);
  const items = result?.getChild('pubsub', NS.PUBSUB)?.getChild('items', NS.PUBSUB)?.getChildren('item', NS.PUBSUB) ?? [];
  return items.flatMap((item) => {
    const conference = item.getChild('conference', NS.BOOKMARKS);
    if (!conference || !item.attr('id')) return [];
    return [{ room: bare(item.attr('id') ?? ''), name: conference.attr('name'), nick: conference.getChildText('nick', NS.BOOKMARKS), autojoin: ['true', '1'].includes(conference.attr('autojoin') ?? '') }];
  });
}

export async function publishBookmark(client: XmppClientLike, bookmark: Bookmark): Promise<void> {
  const conference = x('conference', NS.BOOKMARKS, { name: bookmark.name, autojoin: bookmark.autojoin ? 'true' : 'false' }, bookmark.nick && x('nick', NS.BOOKMARKS, {}, bookmark.nick));
  const options = submitForm({ 'pubsub#persist_items': 'true', 'pubsub#max_items': 'max', 'pubsub#send_last_published_item': 'never', 'pubsub#access_model': 'whitelist' }, 'http://jabber.org/protocol/pubsub#publish-options');
  const pubsub = x('pubsub', NS.PUBSUB, {}, x('publish', NS.PUBSUB, { node: NS.BOOKMARKS }, x('item', NS.PUBSUB, { id: bare(bookmark.room) }, conference)), x('publish-options', NS.PUBSUB, {}, options));
  await client.iq(x('iq', NS.CLIENT, { type: 'set' }, pubsub));
}

export async function retractBookmark(client: XmppClientLike, room: string): Promise<void> {
  const retract = x('retract', NS.PUBSUB, { node: NS.BOOKMARKS, notify: 'true' }, x('item', NS.PUBSUB, { id: bare(room) }));
  await client.iq(x('iq', NS.CLIENT, { type: 'set' }, x('pubsub', NS.PUBSUB, {}, retract)));
}
