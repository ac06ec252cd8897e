/** Sizes and limits of the data layer, named so that nothing grows without a bound. */

/** Messages per page when the chat view gives no size. */
export const DEFAULT_PAGE_SIZE = 50;
/** The largest page any read returns, local or from the archive. */
export const MAX_PAGE_SIZE = 250;
/** Archive results per MAM request during catch-up (the server caps a page at 250). */
export const MAM_PAGE_SIZE = 100;
/** Catch-up pages per conversation in one sync; a longer gap is left for the next sync. */
export const MAX_CATCHUP_PAGES = 20;
/** Inbox entries per request, the protocol's maximum. */
export const INBOX_PAGE_SIZE = 100;
/** Inbox pages in one start-up sync (100 x 100 conversations). */
export const MAX_INBOX_PAGES = 100;
/** Conversations the store keeps in step with the archive at the same time. */
export const MAX_OPEN_CONVERSATIONS = 16;
/** Own messages one marker or receipt walks back through to move their states. */
export const MAX_STATE_WALK = 500;
/** Index entries a local search reads before it gives up on filling a page. */
export const MAX_SEARCH_SCAN = 20_000;
/** Search hits per page. */
export const DEFAULT_SEARCH_LIMIT = 50;
/** Characters of a message kept as the conversation list's preview. */
export const PREVIEW_LENGTH = 120;
/** Outbox rows sent per flush; the rest follow when those are acknowledged. */
export const OUTBOX_BATCH = 100;
/** Time allowed for one archive or inbox request. */
export const QUERY_TIMEOUT_MS = 30_000;
