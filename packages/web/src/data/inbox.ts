import { x, type XElement, type XmppClientLike } from '../xmpp/index.js';
import { bareOf, randomId } from './jid.js';
import { INBOX_PAGE_SIZE, MAX_INBOX_PAGES, QUERY_TIMEOUT_MS } from './limits.js';
import { NS } from './ns.js';
import { forwardedMessage } from './parse.js';
import type { Attachment } from './attachment-types.js';
import { bodyIsJustUrl } from './attachment-text.js';
import { readAttachment } from './oob.js';
import type { ConversationKind } from './types.js';

/** One inbox entry (docs/protocol.md, Inbox), as a query result or a push carries it. */
export interface InboxEntry {
  jid: string;
  kind: ConversationKind;
  unread: number;
  lastStanzaId?: string;
  readStanzaId?: string;
  pinned: boolean;
  archived: boolean;
  /** 0, a time in milliseconds, or Infinity. */
  mutedUntil: number;
  lastBody?: string;
  /** The last message is a retraction tombstone (XEP-0424). */
  lastRetracted?: boolean;
  /** The last message's file, when its body is just the file's URL. */
  lastAttachment?: Attachment;
  lastFrom?: string;
  lastActivity?: number;
}

/** Reads an inbox `<result/>`; undefined when it lacks Parley's `<conversation/>`. */
export function readInboxEntry(result: XElement): InboxEntry | undefined {
  const conversation = result.getChild('conversation', NS.PARLEY_INBOX);
  const jid = conversation?.attr('jid');
  if (!conversation || !jid) return undefined;
  const forwarded = forwardedMessage(result);
  const entry: InboxEntry = {
    jid: bareOf(jid),
    kind: conversation.attr('kind') === 'groupchat' ? 'groupchat' : 'chat',
    unread: Math.max(0, Number(result.attr('unread')) || 0),
    pinned: conversation.attr('pinned') === 'true',
    archived: result.getChildText('archive') === 'true',
    mutedUntil: muteOf(result.getChildText('mute')),
  };
  const lastId = conversation.attr('last-id');
  if (lastId) entry.lastStanzaId = lastId;
  const readId = conversation.attr('read-id');
  if (readId) entry.readStanzaId = readId;
  const body = forwarded?.message.getChildText('body', NS.CLIENT);
  if (body !== undefined) entry.lastBody = body;
  else if (forwarded?.message.getChild('retracted', NS.RETRACT) !== undefined) entry.lastRetracted = true;
  const attachment = forwarded ? readAttachment(forwarded.message) : undefined;
  if (body !== undefined && bodyIsJustUrl(body, attachment)) entry.lastAttachment = attachment;
  const from = forwarded?.message.attr('from');
  if (from !== undefined) entry.lastFrom = entry.kind === 'groupchat' ? (from.split('/')[1] ?? '') : bareOf(from);
  if (forwarded?.delay !== undefined) entry.lastActivity = forwarded.delay;
  return entry;
}

function muteOf(text: string | undefined): number {
  if (text === undefined || text === '0' || text === '') return 0;
  if (text === 'forever') return Number.POSITIVE_INFINITY;
  const time = Date.parse(text);
  return Number.isNaN(time) ? 0 : time;
}

/** Queries the inbox page by page and collects its entries; results arrive before each IQ reply. */
export class InboxQueries {
  private readonly pending = new Map<string, XElement[]>();

  constructor(private readonly client: XmppClientLike) {}

  /** Takes a result of a running query; returns false for any other stanza (pushes included). */
  handle(stanza: XElement): boolean {
    const result = stanza.name === 'message' ? stanza.getChild('result', NS.INBOX) : undefined;
    const collected = result ? this.pending.get(result.attr('queryid') ?? '') : undefined;
    if (!result || !collected) return false;
    if (isFromOwnAccount(stanza, this.client.bareJid)) collected.push(result);
    return true;
  }

  /** Returns every entry of the inbox, at most MAX_INBOX_PAGES pages. */
  async all(): Promise<InboxEntry[]> {
    const entries: InboxEntry[] = [];
    let after: string | undefined;
    for (let page = 0; page < MAX_INBOX_PAGES; page++) {
      const { results, last, count } = await this.page(after);
      for (const result of results) {
        const entry = readInboxEntry(result);
        if (entry) entries.push(entry);
      }
      if (last === undefined || results.length < INBOX_PAGE_SIZE || entries.length >= count) break;
      after = last;
    }
    return entries;
  }

  private async page(after: string | undefined): Promise<{ results: XElement[]; last?: string; count: number }> {
    const queryid = randomId();
    const results: XElement[] = [];
    this.pending.set(queryid, results);
    try {
      const set = x('set', NS.RSM, {}, x('max', NS.RSM, {}, String(INBOX_PAGE_SIZE)), after === undefined ? undefined : x('after', NS.RSM, {}, after));
      const reply = await this.client.iq(x('iq', NS.CLIENT, { type: 'set' }, x('inbox', NS.INBOX, { queryid }, set)), QUERY_TIMEOUT_MS);
      const fin = reply.getChild('fin', NS.INBOX);
      const last = fin?.getChild('set', NS.RSM)?.getChildText('last', NS.RSM);
      return { results, last, count: Number(fin?.getChildText('count', NS.INBOX) ?? results.length) };
    } finally {
      this.pending.delete(queryid);
    }
  }
}

/** True for a stanza the account's own server sent on its behalf (no from, or the bare JID). */
export function isFromOwnAccount(stanza: XElement, ownJid: string): boolean {
  const from = stanza.attr('from');
  return from === undefined || from.toLowerCase() === bareOf(ownJid);
}

/** Returns the entry of an inbox push, or undefined when `stanza` is not a trusted push. */
export function readInboxPush(stanza: XElement, ownJid: string): InboxEntry | undefined {
  const result = stanza.name === 'message' ? stanza.getChild('result', NS.INBOX) : undefined;
  if (!result || result.attr('queryid') !== undefined || !isFromOwnAccount(stanza, ownJid)) return undefined;
  // A push that waited in offline storage (it has a delay stamp) is older than the last query's result.
  if (stanza.getChild('delay', NS.DELAY)) return undefined;
  return readInboxEntry(result);
}
