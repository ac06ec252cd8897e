/** Reading and writing vCards (XEP-0054) in storage. */
import { type Element, NS, parseFrame, serialize, x } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';

/** Returns the stored vCard of an account, or undefined when it has none. */
export async function loadVcard(server: ServerContext, host: string, username: string): Promise<Element | undefined> {
  const stored = await server.storage.vcards.get(host, username);
  if (stored === null) return undefined;
  // A UTF-16 unit takes at most 3 bytes in UTF-8, so this limit never rejects what was stored.
  return parseFrame(stored.xml, { maxStanzaBytes: stored.xml.length * 3 + 1 });
}

/** Stores the vCard, or deletes the stored one when `vcard` has no child elements. */
export async function saveVcard(server: ServerContext, host: string, username: string, vcard: Element): Promise<void> {
  if (vcard.elements().length === 0) {
    await server.storage.vcards.delete(host, username);
    return;
  }
  await server.storage.vcards.set(host, username, serialize(vcard));
}

/** Returns an empty `<vCard xmlns='vcard-temp'/>`. */
export function emptyVcard(): Element {
  return x('vCard', NS.VCARD);
}
