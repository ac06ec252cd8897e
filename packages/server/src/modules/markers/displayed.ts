/**
 * A displayed or acknowledged marker (XEP-0333) that a user sends says that the user read
 * the conversation up to the marked message. This turns such a marker into the reader's
 * position: the marked message's stanza id in the reader's own archive for a 1:1 chat, the
 * room's stanza id for a group.
 */
import type { Element, JID } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { OutboundEvent } from '../../core/events.js';
import { NS_CHAT_MARKERS } from './ns.js';
import { findMarkedMessage, isInRoomArchive, isLocalAccount, isLocalRoom } from './positions.js';

/** A read position a marker gives: `conversation` is a bare JID, `stanzaId` in that conversation's archive. */
export interface MarkerPosition {
  owner: JID;
  conversation: JID;
  stanzaId: string;
}

/** Returns the id of the message a displayed or acknowledged marker marks. A `<received/>` marker does not report reading. */
export function readMarkerId(message: Element): string | undefined {
  const marker = message.getChild('displayed', NS_CHAT_MARKERS) ?? message.getChild('acknowledged', NS_CHAT_MARKERS);
  const id = marker?.attr('id');
  return id === undefined || id === '' ? undefined : id;
}

/**
 * Resolves the marker in a message a user sent to the read position it stands for, or
 * undefined when it marks no message in the archives. A groupchat marker carries the
 * room's stanza id (XEP-0333 section 4). A 1:1 marker carries the marked message's 'id'
 * or origin-id, and some clients send its stanza id instead.
 */
export async function markerPosition(server: ServerContext, event: OutboundEvent): Promise<MarkerPosition | undefined> {
  const { stanza, session } = event;
  const ref = readMarkerId(stanza);
  if (ref === undefined || event.to === undefined || session.jid === undefined) return undefined;
  const owner = session.jid.bare();
  const conversation = event.to.bare();
  const type = stanza.attr('type') ?? 'normal';

  if (type === 'groupchat') {
    if (!isLocalRoom(server, conversation) || !(await isInRoomArchive(server, conversation, ref))) return undefined;
    return { owner, conversation, stanzaId: ref };
  }
  if (type !== 'chat' && type !== 'normal') return undefined;
  // TODO: positions for conversations with other domains once the server has server-to-server connections.
  if (!isLocalAccount(server, conversation) || conversation.equals(owner)) return undefined;
  const stanzaId = await findMarkedMessage(server, owner, conversation, ref);
  return stanzaId === undefined ? undefined : { owner, conversation, stanzaId };
}

/** Handles `message/sent`: fires `read/position` for a displayed or acknowledged marker. */
export async function onMessageSent(server: ServerContext, event: OutboundEvent): Promise<void> {
  if (readMarkerId(event.stanza) === undefined) return;
  try {
    const position = await markerPosition(server, event);
    if (position === undefined) return;
    await server.hooks.fire('read/position', { ...position, source: 'marker' });
  } catch (err) {
    event.session.log.error({ err, to: event.to?.toString() }, 'moving the read position to a chat marker failed');
  }
}
