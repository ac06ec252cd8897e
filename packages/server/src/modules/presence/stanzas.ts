import { type Element, type JID, NS, x } from '@parley/xmpp';

/** Returns a copy of `stanza` sent from `from` to `to`; without `to` the copy has no 'to' attribute. */
export function readdress(stanza: Element, from: JID, to: JID | undefined): Element {
  const copy = stanza.clone();
  copy.attrs.from = from.toString();
  if (to) copy.attrs.to = to.toString();
  else delete copy.attrs.to;
  return copy;
}

/** Builds a presence stanza of `type` (such as 'unavailable' or 'subscribed') that the server sends on a user's behalf. */
export function presenceOfType(type: string, from: JID, to?: JID): Element {
  return x('presence', NS.CLIENT, { type, from: from.toString(), to: to?.toString() });
}

/** Reads `<priority/>` (RFC 6121 4.7.2.3): an integer from -128 to 127, and 0 when absent or invalid. */
export function readPriority(presence: Element): number {
  const text = presence.getChildText('priority', NS.CLIENT)?.trim();
  if (text === undefined || !/^[+-]?\d{1,3}$/.test(text)) return 0;
  const value = Number(text);
  return value >= -128 && value <= 127 ? value : 0;
}
