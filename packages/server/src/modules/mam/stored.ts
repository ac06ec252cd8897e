/** The serialised form of archived stanzas. */
import { type Element, parseFrame, serialize } from '@parley/xmpp';

/** Serialises a stanza for the archive; it declares its own namespace, so it parses alone. */
export function serializeStored(stanza: Element): string {
  return serialize(stanza);
}

/** Parses a stanza the archive stored; throws XmlParseError when the stored text is broken. */
export function parseStored(xml: string): Element {
  // A UTF-16 unit takes at most 3 bytes in UTF-8, so this limit never rejects what was stored.
  return parseFrame(xml, { maxStanzaBytes: xml.length * 3 + 1 });
}
