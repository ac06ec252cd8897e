/**
 * The archive the "archive" scenario queries: one account's one-to-one messages with ten
 * partners, one per second from a fixed date, generated the same way for every server so
 * that each loads identical content in its own storage format.
 */

/** First message time: 2025-12-01T00:00:00Z. One message per second follows. */
export const ARCHIVE_START_MS = Date.UTC(2025, 11, 1);
export const ARCHIVE_STEP_MS = 1000;
/** The word of the full-text query; one message in a hundred contains it. */
export const SEARCH_WORD = 'heliotrope';
/** Resource of the partners' messages and of the owner's. */
export const ARCHIVE_RESOURCE = 'bench';

const WORDS = (
  'the a of to and in is it you that he was for on are with as his they be at one have this from or had by hot word but what ' +
  'some we can out other were all there when up use your how said an each she which do their time if will way about many then'
).split(' ');
const WORDS_PER_BODY = 8;

/** Whose archive, with whom, and how many messages, on a server's domain. */
export interface ArchiveSpec {
  domain: string;
  /** Local part of the archive's owner. */
  owner: string;
  /** Local parts of the partners; message i is with partner i mod partners.length. */
  partners: string[];
  count: number;
}

/** An ArchiveSpec before the server adds its domain. */
export type ArchiveContent = Omit<ArchiveSpec, 'domain'>;

/** One generated message of the archive. */
export interface ArchiveItem {
  index: number;
  /** Milliseconds since the epoch. */
  time: number;
  /** True when the owner sent it, false when the partner did. */
  outgoing: boolean;
  /** Bare JID of the partner. */
  partner: string;
  /** Full JIDs of sender and recipient. */
  from: string;
  to: string;
  /** Message id attribute. */
  id: string;
  body: string;
}

/** Returns message `index` of the archive. */
export function archiveItem(spec: ArchiveSpec, index: number): ArchiveItem {
  const partner = `${spec.partners[index % spec.partners.length]!}@${spec.domain}`;
  const owner = `${spec.owner}@${spec.domain}/${ARCHIVE_RESOURCE}`;
  const outgoing = index % 2 === 0;
  return {
    index,
    time: timeOf(index),
    outgoing,
    partner,
    from: outgoing ? owner : `${partner}/${ARCHIVE_RESOURCE}`,
    to: outgoing ? partner : owner,
    id: `a${index}`,
    body: bodyOf(index),
  };
}

/** Time of message `index`. */
export function timeOf(index: number): number {
  return ARCHIVE_START_MS + index * ARCHIVE_STEP_MS;
}

/** Eight common words picked by a hash of the index; every hundredth message also has SEARCH_WORD. */
function bodyOf(index: number): string {
  const words: string[] = [];
  let state = (index * 2654435761) >>> 0;
  for (let i = 0; i < WORDS_PER_BODY; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    words.push(WORDS[(state >>> 16) % WORDS.length]!);
  }
  if (index % 100 === 7) words.splice(3, 0, SEARCH_WORD);
  return `${words.join(' ')} #${index}`;
}
