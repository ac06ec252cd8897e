/** Block lists by account: the stored lists with an in-memory cache in front. */
import type { JID } from '@parley/xmpp';
import type { BlocklistRepository } from '../../storage/index.js';
import { BlockList } from './match.js';

/** Accounts whose lists stay cached; the least recently used one goes first. */
const DEFAULT_MAX_CACHED = 10_000;

/**
 * Reads and changes block lists. Every routed stanza checks one or two lists, so lists are
 * cached. A change writes the database first and then drops the cached list, so that the
 * next check reads it again. The database runs queries in the order they were issued, so a
 * read issued after the write sees it.
 */
export class BlockLists {
  private readonly cache = new Map<string, Promise<BlockList>>();

  constructor(
    private readonly repository: BlocklistRepository,
    private readonly maxCached = DEFAULT_MAX_CACHED,
  ) {}

  /** Returns the block list of the account `user`. */
  get(user: JID): Promise<BlockList> {
    const key = user.bare().toString();
    const cached = this.cache.get(key);
    if (cached) {
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    const loading = this.repository.list(user.domain, user.local).then((jids) => BlockList.fromStored(jids));
    loading.catch(() => {
      if (this.cache.get(key) === loading) this.cache.delete(key);
    });
    this.cache.set(key, loading);
    this.evictOverflow();
    return loading;
  }

  /** Tells whether the account `user` blocks `address`. */
  async blocks(user: JID, address: JID): Promise<boolean> {
    return (await this.get(user)).blocks(address);
  }

  /** Blocks `items` for `user` and returns those that were not blocked before. */
  async block(user: JID, items: JID[], now = Date.now()): Promise<JID[]> {
    const byText = byString(items);
    const added = await this.repository.add(user.domain, user.local, [...byText.keys()], now);
    this.forget(user);
    return added.map((text) => byText.get(text)!);
  }

  /** Unblocks `items` for `user` and returns those that were blocked. */
  async unblock(user: JID, items: JID[]): Promise<JID[]> {
    const byText = byString(items);
    const removed = await this.repository.remove(user.domain, user.local, [...byText.keys()]);
    this.forget(user);
    return removed.map((text) => byText.get(text)!);
  }

  /** Unblocks everything for `user` and returns what was blocked. */
  async unblockAll(user: JID): Promise<JID[]> {
    const removed = await this.repository.clear(user.domain, user.local);
    this.forget(user);
    return BlockList.fromStored(removed).items.slice();
  }

  /** Drops the cached list of `user`, after a change or the account's deletion. */
  forget(user: JID): void {
    this.cache.delete(user.bare().toString());
  }

  private evictOverflow(): void {
    while (this.cache.size > this.maxCached) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) return;
      this.cache.delete(oldest);
    }
  }
}

/** Indexes JIDs by their text, which also drops repeats. */
function byString(items: JID[]): Map<string, JID> {
  return new Map(items.map((item) => [item.toString(), item]));
}
