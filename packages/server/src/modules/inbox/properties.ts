/**
 * Entry properties (MongooseIM's `#conversation` requests of XEP-0430): archive, mute and
 * read, plus Parley's pinned flag. Marking an entry read moves its read position to its
 * last message; marking it unread is not supported, because the read position never moves
 * back.
 */
import { type Element, JID, StanzaError, parseBoolean, x } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';
import type { InboxEntry, InboxFlags, InboxOwner } from '../../storage/index.js';
import { NS_INBOX_CONVERSATION, NS_PARLEY_INBOX } from './ns.js';
import type { InboxPushes } from './pushes.js';
import { MUTED_FOREVER, conversationElement, propertyElements } from './render.js';

/** Maximum mute duration in seconds other than `forever`: 100 years. */
const MAX_MUTE_SECONDS = 100 * 365 * 24 * 3600;

/** The property change that a set request contains. */
interface PropertyChange {
  flags: InboxFlags;
  read: boolean;
}

function readBooleanChild(query: Element, name: string, ns: string): boolean | undefined {
  const text = query.getChildText(name, ns);
  if (text === undefined) return undefined;
  try {
    return parseBoolean(text);
  } catch {
    throw new StanzaError('bad-request', `<${name}/> must be true or false, not "${text}".`);
  }
}

/** Reads `<mute/>`: seconds from now, 0 to unmute, or 'forever'. */
export function parseMute(text: string, now: number): number | null {
  const value = text.trim();
  if (value === 'forever') return MUTED_FOREVER;
  if (!/^[0-9]+$/.test(value)) throw new StanzaError('bad-request', `<mute/> must be a number of seconds or "forever", not "${text}".`);
  const seconds = Number(value);
  if (seconds === 0) return null;
  if (seconds > MAX_MUTE_SECONDS) throw new StanzaError('bad-request', `<mute/> must be at most ${MAX_MUTE_SECONDS} seconds; use "forever" for no end.`);
  return now + seconds * 1000;
}

/** Reads the changes of a property set. Throws bad-request when the set contains none. */
export function parsePropertyChange(query: Element, now: number): PropertyChange {
  const flags: InboxFlags = {};
  const archived = readBooleanChild(query, 'archive', NS_INBOX_CONVERSATION);
  if (archived !== undefined) flags.archived = archived;
  const pinned = readBooleanChild(query, 'pin', NS_PARLEY_INBOX);
  if (pinned !== undefined) flags.pinned = pinned;
  const mute = query.getChildText('mute', NS_INBOX_CONVERSATION);
  if (mute !== undefined) flags.mutedUntil = parseMute(mute, now);

  const read = readBooleanChild(query, 'read', NS_INBOX_CONVERSATION);
  if (read === false) throw new StanzaError('feature-not-implemented', 'Marking a conversation unread is not supported: read positions only move forward.');
  if (Object.keys(flags).length === 0 && read === undefined) throw new StanzaError('bad-request', 'The request changes no property.');
  return { flags, read: read === true };
}

function conversationOf(query: Element): JID {
  const jid = JID.parseOrNull(query.attr('jid') ?? '');
  if (!jid) throw new StanzaError('jid-malformed', 'The query needs the conversation in a valid jid attribute.');
  return jid.bare();
}

function propertiesElement(entry: InboxEntry, now: number): Element {
  return x('query', NS_INBOX_CONVERSATION, { jid: entry.conversation }, ...propertyElements(entry, NS_INBOX_CONVERSATION, now), conversationElement(entry));
}

/** Handles entry properties: get returns them, set changes them and pushes the entry. */
export class InboxProperties {
  constructor(
    private readonly server: ServerContext,
    private readonly pushes: InboxPushes,
  ) {}

  async get(request: IqRequest): Promise<Element> {
    const { owner, conversation } = this.target(request);
    await this.server.storage.batch.drained();
    const entry = await this.server.storage.inbox.get(owner, conversation.toString());
    if (!entry) throw new StanzaError('item-not-found', `No inbox entry for ${conversation.toString()}.`);
    return propertiesElement(entry, Date.now());
  }

  async set(request: IqRequest): Promise<Element> {
    const { owner, conversation } = this.target(request);
    const change = parsePropertyChange(request.payload, Date.now());
    const { inbox } = this.server.storage;

    await this.server.storage.batch.drained();
    if (!(await inbox.setFlags(owner, conversation.toString(), change.flags)))
      throw new StanzaError('item-not-found', `No inbox entry for ${conversation.toString()}.`);
    const changed = await inbox.get(owner, conversation.toString());
    if (change.read && changed?.lastStanzaId) {
      const event = { owner: request.from.bare(), conversation, stanzaId: changed.lastStanzaId, source: 'inbox' as const };
      await this.server.hooks.fire('read/position', event);
    }

    const entry = await inbox.get(owner, conversation.toString());
    if (!entry) throw new StanzaError('item-not-found', `No inbox entry for ${conversation.toString()}.`);
    // A read change pushed the entry already, with the new flags.
    if (!change.read) this.pushes.push(request.from.bare(), entry);
    return propertiesElement(entry, Date.now());
  }

  private target(request: IqRequest): { owner: InboxOwner; conversation: JID } {
    if (!request.self) throw new StanzaError('forbidden', 'Only the owner may read or change inbox entries.');
    const owner = request.from.bare();
    return { owner: { host: owner.domain, username: owner.local }, conversation: conversationOf(request.payload) };
  }
}
