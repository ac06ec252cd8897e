import type { XElement } from '../xmpp/index.js';
import { MAM_PAGE_SIZE, MAX_CATCHUP_PAGES } from './limits.js';
import type { MamPage, MamQueries, MamRequest } from './mam.js';
import { newConversation } from './message-store.js';
import type { ParleyDb } from './schema.js';
import type { Conversation, ConversationKind } from './types.js';

/** Stores the results of one archive page, oldest first. */
export type StoreResults = (conversation: string, results: XElement[]) => Promise<void>;

/**
 * Keeps each conversation's fetched range of the archive (newestFetched .. oldestFetched) and
 * fills it: forwards after the newest stored stanza id, backwards before the oldest.
 */
export class ArchiveSync {
  constructor(
    private readonly db: ParleyDb,
    private readonly mam: MamQueries,
    private readonly store: StoreResults,
  ) {}

  /** Fetches what the archive has after the newest stored stanza id, page by page. */
  async catchUp(jid: string, kind: ConversationKind): Promise<void> {
    const conversation = (await this.db.conversations.get(jid)) ?? newConversation(jid, kind);
    if (conversation.newestFetched === undefined) {
      await this.fetchLastPage(conversation, MAM_PAGE_SIZE);
      return;
    }
    let after = conversation.newestFetched;
    for (let page = 0; page < MAX_CATCHUP_PAGES; page++) {
      const result = await this.query(conversation, { afterId: after, max: MAM_PAGE_SIZE });
      await this.store(jid, result.results);
      if (result.last !== undefined) {
        after = result.last;
        await this.updateRange(jid, kind, { newestFetched: after });
      }
      if (result.complete || result.results.length === 0) return;
    }
    // TODO: a gap longer than MAX_CATCHUP_PAGES pages stays until the next sync continues it.
  }

  /** Fetches up to `max` messages older than the stored range; returns false when there are none. */
  async fetchOlder(jid: string, kind: ConversationKind, max: number): Promise<boolean> {
    const conversation = (await this.db.conversations.get(jid)) ?? newConversation(jid, kind);
    if (conversation.reachedBeginning) return false;
    if (conversation.oldestFetched === undefined) return (await this.fetchLastPage(conversation, max)) > 0;

    const result = await this.query(conversation, { beforeId: conversation.oldestFetched, before: '', max });
    await this.store(jid, result.results);
    const patch: Partial<Conversation> = { reachedBeginning: result.complete || result.results.length === 0 };
    if (result.first !== undefined) patch.oldestFetched = result.first;
    await this.updateRange(jid, kind, patch);
    return result.results.length > 0;
  }

  /**
   * Stores the archived message `stanzaId` with up to `max` messages on each side. They stay
   * outside the fetched range, so the gaps around them are fetched again when paged into.
   */
  async fetchAround(jid: string, kind: ConversationKind, stanzaId: string, max: number): Promise<void> {
    const conversation = (await this.db.conversations.get(jid)) ?? newConversation(jid, kind);
    const older = await this.query(conversation, { beforeId: stanzaId, before: '', max });
    await this.store(jid, older.results);
    // after-id leaves the message itself out, so start after its older neighbour (or at the beginning).
    const start = older.last === undefined ? {} : { afterId: older.last };
    const newer = await this.query(conversation, { ...start, max: max + 1 });
    await this.store(jid, newer.results);
  }

  /** Stores up to `max` archived messages next to `stanzaId` (older with `before-id`, newer with `after-id`). */
  async fetchNextTo(jid: string, kind: ConversationKind, stanzaId: string, side: 'older' | 'newer', max: number): Promise<void> {
    const conversation = (await this.db.conversations.get(jid)) ?? newConversation(jid, kind);
    const request = side === 'older' ? { beforeId: stanzaId, before: '', max } : { afterId: stanzaId, max };
    const result = await this.query(conversation, request);
    await this.store(jid, result.results);
  }

  private async fetchLastPage(conversation: Conversation, max: number): Promise<number> {
    const result = await this.query(conversation, { before: '', max });
    await this.store(conversation.jid, result.results);
    const patch: Partial<Conversation> = { reachedBeginning: result.complete || result.results.length === 0 };
    if (result.first !== undefined) patch.oldestFetched = result.first;
    if (result.last !== undefined) patch.newestFetched = result.last;
    await this.updateRange(conversation.jid, conversation.kind, patch);
    return result.results.length;
  }

  private query(conversation: Conversation, request: Omit<MamRequest, 'archive' | 'with'>): Promise<MamPage> {
    const scope = conversation.kind === 'groupchat' ? { archive: conversation.jid } : { with: conversation.jid };
    return this.mam.query({ ...scope, ...request });
  }

  private updateRange(jid: string, kind: ConversationKind, patch: Partial<Conversation>): Promise<void> {
    return this.db.transaction('rw', this.db.conversations, async () => {
      const row = (await this.db.conversations.get(jid)) ?? newConversation(jid, kind);
      await this.db.conversations.put({ ...row, ...patch });
    });
  }
}
