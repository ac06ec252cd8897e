import { x, type XElement, type XmppClientLike } from '../xmpp/index.js';
import { bareOf } from './jid.js';
import { NS } from './ns.js';
import type { ParleyDb } from './schema.js';
import type { Contact } from './types.js';

const ROSTER_VERSION_KEY = 'roster-ver';

function readItem(item: XElement): Contact | undefined {
  const jid = item.attr('jid');
  if (!jid) return undefined;
  const contact: Contact = { jid: bareOf(jid), subscription: item.attr('subscription') ?? 'none', groups: item.getChildren('group').map((group) => group.text()) };
  const name = item.attr('name');
  if (name) contact.name = name;
  return contact;
}

/** Fetches the roster (RFC 6121), with versioning so that an unchanged roster costs one empty result. */
export async function syncRoster(db: ParleyDb, client: XmppClientLike): Promise<void> {
  const ver = (await db.kv.get(ROSTER_VERSION_KEY))?.value;
  const reply = await client.iq(x('iq', NS.CLIENT, { type: 'get' }, x('query', NS.ROSTER, { ver: typeof ver === 'string' ? ver : '' })));
  const query = reply.getChild('query', NS.ROSTER);
  if (!query) return;
  const contacts = query.getChildren('item').map(readItem).filter((contact): contact is Contact => contact !== undefined);
  await db.transaction('rw', db.contacts, db.kv, async () => {
    await db.contacts.clear();
    await db.contacts.bulkPut(contacts.filter((contact) => contact.subscription !== 'remove'));
    await db.kv.put({ key: ROSTER_VERSION_KEY, value: query.attr('ver') ?? '' });
  });
}

/** Applies a roster push; the caller has checked it comes from the account. */
export async function applyRosterPush(db: ParleyDb, request: XElement): Promise<void> {
  const query = request.getChild('query', NS.ROSTER);
  if (!query) return;
  await db.transaction('rw', db.contacts, db.kv, async () => {
    for (const contact of query.getChildren('item').map(readItem)) {
      if (!contact) continue;
      if (contact.subscription === 'remove') await db.contacts.delete(contact.jid);
      else await db.contacts.put(contact);
    }
    const ver = query.attr('ver');
    if (ver !== undefined) await db.kv.put({ key: ROSTER_VERSION_KEY, value: ver });
  });
}
