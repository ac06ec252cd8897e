/** Inbox entries as XML: the XEP-0430 result of MongooseIM's dialect, with Parley's `<conversation/>`. */
import { type Element, type JID, NS, x } from '@parley/xmpp';
import type { InboxEntry } from '../../storage/index.js';
import { parseStored } from '../mam/stored.js';
import { NS_INBOX, NS_PARLEY_INBOX } from './ns.js';

/** `muted_until` of an entry muted with no end: the largest time a JavaScript Date holds. */
export const MUTED_FOREVER = 8_640_000_000_000_000;

/** Returns the `<mute/>` text: '0' when not muted, 'forever', or the XEP-0082 time the mute ends. */
export function muteText(mutedUntil: number | null, now: number): string {
  if (mutedUntil === null || mutedUntil <= now) return '0';
  if (mutedUntil >= MUTED_FOREVER) return 'forever';
  return new Date(mutedUntil).toISOString();
}

/** Builds Parley's `<conversation/>` of an entry. */
export function conversationElement(entry: InboxEntry): Element {
  return x('conversation', NS_PARLEY_INBOX, {
    jid: entry.conversation,
    kind: entry.kind,
    'last-id': entry.lastStanzaId ?? undefined,
    'read-id': entry.readId ?? undefined,
    pinned: entry.pinned ? 'true' : 'false',
  });
}

/** Builds the entry's properties: `<archive/>`, `<read/>` and `<mute/>`, in `ns`. */
export function propertyElements(entry: InboxEntry, ns: string, now: number): Element[] {
  return [
    x('archive', ns, {}, entry.archived ? 'true' : 'false'),
    x('read', ns, {}, entry.unread === 0 ? 'true' : 'false'),
    x('mute', ns, {}, muteText(entry.mutedUntil, now)),
  ];
}

/** Builds the `<result/>` of one entry; `queryId` is absent in pushes. */
export function entryResult(entry: InboxEntry, now: number, queryId?: string): Element {
  const result = x('result', NS_INBOX, { unread: String(entry.unread), queryid: queryId });
  const forwarded = x('forwarded', NS.FORWARD, {}, x('delay', NS.DELAY, { stamp: new Date(entry.lastAt).toISOString() }));
  if (entry.lastMessage !== null) forwarded.append(parseStored(entry.lastMessage));
  result.append(forwarded);
  result.append(x('box', NS_INBOX, {}, entry.archived ? 'archive' : 'inbox'));
  result.append(...propertyElements(entry, NS_INBOX, now));
  return result.append(conversationElement(entry));
}

/**
 * Builds the message that carries one entry result to `to`, from the account's bare JID.
 * Its `<no-store/>` hint (XEP-0334) keeps it out of offline storage when the session ends
 * before acknowledging it, because a later session would get stale counts.
 */
export function entryMessage(owner: JID, to: JID, id: string, result: Element): Element {
  return x('message', NS.CLIENT, { from: owner.bare().toString(), to: to.toString(), id }, result, x('no-store', NS.HINTS));
}
