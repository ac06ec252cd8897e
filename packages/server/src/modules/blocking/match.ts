/** JID matching of blocklist items (XEP-0191 section 4, the order of XEP-0016). */
import { JID } from '@parley/xmpp';

/**
 * Tells whether the blocklist item `item` covers `address`:
 * user@domain/resource matches only itself, user@domain any of its resources,
 * domain/resource only itself, and domain the domain, every address at it and every
 * address at a subdomain of it.
 */
export function itemMatches(item: JID, address: JID): boolean {
  if (item.local !== '') {
    if (item.local !== address.local || item.domain !== address.domain) return false;
    return item.resource === '' || item.resource === address.resource;
  }
  if (item.resource !== '') return address.local === '' && address.domain === item.domain && address.resource === item.resource;
  return address.domain === item.domain || address.domain.endsWith(`.${item.domain}`);
}

/** The blocked JIDs of one account, indexed so that a check costs a few set lookups whatever the list's size. */
export class BlockList {
  private readonly keys: ReadonlySet<string>;

  constructor(readonly items: readonly JID[]) {
    this.keys = new Set(items.map((item) => item.toString()));
  }

  /** Tells whether any item covers `address`; the keys tried follow itemMatches. */
  blocks(address: JID): boolean {
    if (this.keys.size === 0) return false;
    if (this.keys.has(address.toString()) || this.keys.has(address.bare().toString())) return true;
    let domain = address.domain;
    for (;;) {
      if (this.keys.has(domain)) return true;
      const dot = domain.indexOf('.');
      if (dot === -1) return false;
      domain = domain.slice(dot + 1);
    }
  }

  /** Builds a list from stored JID strings, skipping any that no longer parse. */
  static fromStored(jids: string[]): BlockList {
    const items: JID[] = [];
    for (const text of jids) {
      const item = JID.parseOrNull(text);
      if (item) items.push(item);
    }
    return new BlockList(items);
  }
}
