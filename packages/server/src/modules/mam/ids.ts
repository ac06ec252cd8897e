/** Unique and stable stanza ids (XEP-0359): the archive ids the server assigns, and the client's origin-id. */
import { type Element, JID, NS, x } from '@parley/xmpp';
import { pooledRandomBytes } from '../../core/random.js';

/** Crockford's base32 alphabet in lower case: digits sort before letters, so fixed-width strings sort like numbers. */
const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
/** 64 bits take 13 base32 characters. */
const TIME_CHARS = 13;
/** Random characters after the ordered part: 30 bits, so ids are not predictable (XEP-0313 section 2). */
const RANDOM_CHARS = 6;
const SEQUENCE_BITS = 16n;
const SEQUENCE_MAX = 0xffff;

/** An id handed out for one archived message, with the time it stands for. */
export interface IssuedId {
  id: string;
  /** Milliseconds since the Unix epoch; never less than an earlier id's. */
  stamp: number;
}

/**
 * Issues archive ids that sort in the order they were issued: 13 base32 characters for a
 * 64-bit value (milliseconds << 16 | sequence within the millisecond), then random ones.
 * The clock never goes back for the generator; more than 65536 ids in a millisecond
 * borrow the next millisecond.
 */
export class StanzaIdGenerator {
  private lastMs = 0;
  private sequence = 0;

  constructor(private readonly now: () => number = Date.now) {}

  /** Makes later ids sort after `id`, one issued before a restart. */
  advancePast(id: string): void {
    const ms = decodeTime(id);
    if (ms === undefined || ms < this.lastMs) return;
    this.lastMs = ms;
    this.sequence = SEQUENCE_MAX;
  }

  /** Returns the next id. */
  next(): IssuedId {
    const now = this.now();
    if (now > this.lastMs) {
      this.lastMs = now;
      this.sequence = 0;
    } else if (this.sequence < SEQUENCE_MAX) {
      this.sequence++;
    } else {
      this.lastMs++;
      this.sequence = 0;
    }
    const value = (BigInt(this.lastMs) << SEQUENCE_BITS) | BigInt(this.sequence);
    return { id: encodeBase32(value, TIME_CHARS) + randomChars(RANDOM_CHARS), stamp: this.lastMs };
  }
}

function encodeBase32(value: bigint, width: number): string {
  let text = '';
  for (let i = 0; i < width; i++) {
    text = ALPHABET[Number(value & 31n)]! + text;
    value >>= 5n;
  }
  return text;
}

function randomChars(count: number): string {
  const bytes = pooledRandomBytes(count);
  let text = '';
  for (const byte of bytes) text += ALPHABET[byte & 31]!;
  return text;
}

/** Returns the millisecond time encoded in an id of this generator, or undefined for another format. */
export function decodeTime(id: string): number | undefined {
  if (id.length !== TIME_CHARS + RANDOM_CHARS) return undefined;
  let value = 0n;
  for (const char of id.slice(0, TIME_CHARS)) {
    const digit = ALPHABET.indexOf(char);
    if (digit < 0) return undefined;
    value = (value << 5n) | BigInt(digit);
  }
  return Number(value >> SEQUENCE_BITS);
}

/** Returns the client's `<origin-id/>` value, if the message has a usable one. */
export function originIdOf(message: Element): string | undefined {
  const id = message.getChild('origin-id', NS.STANZA_ID)?.attr('id');
  return id === undefined || id === '' ? undefined : id;
}

/**
 * Removes `<stanza-id/>` elements whose 'by' names an entity of this server (XEP-0359
 * section 4: a client must not be able to forge the ids our archives assign).
 */
export function removeForgedStanzaIds(message: Element, isOurs: (by: string) => boolean): void {
  message.removeChildren((child) => child.name === 'stanza-id' && child.ns === NS.STANZA_ID && isOurs(child.attr('by') ?? ''));
}

/** True when `by` names `domain` or an entity on it or on one of its subdomains, whose stanza ids a client cannot set. */
export function isServerEntity(by: string, domain: string): boolean {
  const jid = JID.parseOrNull(by);
  if (!jid) return false;
  return jid.domain === domain || jid.domain.endsWith(`.${domain}`);
}

/** Adds `<stanza-id by id/>`, replacing one with the same 'by' (XEP-0359 allows one per 'by'). */
export function addStanzaId(message: Element, by: string, id: string): void {
  message.removeChildren((child) => child.name === 'stanza-id' && child.ns === NS.STANZA_ID && child.attr('by') === by);
  message.append(x('stanza-id', NS.STANZA_ID, { by, id }));
}

/** The archive ids given to a stanza, by archive (bare JID), for modules that run later on the same stanza. */
const assigned = new WeakMap<Element, Map<string, string>>();

/** Records that `archive` stored `message` under `id`. */
export function recordArchiveId(message: Element, archive: string, id: string): void {
  let ids = assigned.get(message);
  if (!ids) {
    ids = new Map();
    assigned.set(message, ids);
  }
  ids.set(archive, id);
}

/**
 * Returns the id under which the archive of `archive` (a bare JID) stores `message`, when
 * the archive module stored it. Carbons (XEP-0280) use it for the sender's copies.
 */
export function archiveIdOf(message: Element, archive: string): string | undefined {
  return assigned.get(message)?.get(archive);
}
