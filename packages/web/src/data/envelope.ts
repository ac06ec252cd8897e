import { bareOf, resourceOf } from './jid.js';
import type { ParsedMessage } from './parse.js';
import type { ConversationKind, Direction } from './types.js';

/** The path by which a message reached the client. */
export type Source = 'live' | 'carbon-sent' | 'carbon-received' | 'archive';

/** A parsed message placed in its conversation. */
export interface Envelope {
  conversation: string;
  kind: ConversationKind;
  direction: Direction;
  /** A bare JID in 1:1 chats, the occupant's nick in rooms. */
  from: string;
  stanzaId?: string;
  timestamp: number;
  parsed: ParsedMessage;
}

export interface EnvelopeContext {
  /** The account's bare JID. */
  own: string;
  now: number;
  /** The archive result's id, for messages from MAM. */
  archiveId?: string;
  /** The forwarding delay stamp (carbons, MAM). */
  delay?: number;
  /** The account's nick in the room, for groupchat messages. */
  ownNick?: string;
}

/**
 * Places a message in its conversation, or returns undefined for messages the store does
 * not keep (errors, headlines, private messages through rooms, messages to oneself).
 */
export function envelope(parsed: ParsedMessage, source: Source, context: EnvelopeContext): Envelope | undefined {
  const timestamp = context.delay ?? parsed.delay ?? context.now;
  if (parsed.type === 'groupchat') return roomEnvelope(parsed, context, timestamp);
  if (parsed.type !== 'chat' && parsed.type !== 'normal') return undefined;

  const fromBare = bareOf(parsed.from || context.own);
  const outgoing = source === 'carbon-sent' || fromBare === context.own;
  const conversation = outgoing ? bareOf(parsed.to) : fromBare;
  if (!conversation || conversation === context.own) return undefined;
  // A private message through a room is not a 1:1 conversation with the room.
  // TODO: keep private messages through rooms as their own conversations.
  if (parsed.mucUser) return undefined;

  const stanzaId = context.archiveId ?? parsed.stanzaIds.get(context.own);
  return { conversation, kind: 'chat', direction: outgoing ? 'out' : 'in', from: outgoing ? context.own : fromBare, stanzaId, timestamp, parsed };
}

function roomEnvelope(parsed: ParsedMessage, context: EnvelopeContext, timestamp: number): Envelope | undefined {
  const conversation = bareOf(parsed.from);
  if (!conversation.includes('@')) return undefined;
  const nick = resourceOf(parsed.from) ?? '';
  const own = (context.ownNick !== undefined && nick === context.ownNick) || (parsed.realJid !== undefined && bareOf(parsed.realJid) === context.own);
  const stanzaId = context.archiveId ?? parsed.stanzaIds.get(conversation);
  return { conversation, kind: 'groupchat', direction: own ? 'out' : 'in', from: nick, stanzaId, timestamp, parsed };
}
