import { x, type XElement } from '../xmpp/index.js';
import type { ChatState, MarkerKind } from './parse.js';
import { NS } from './ns.js';
import type { ConversationKind } from './types.js';

/** Builds outgoing stanzas. Every message has an origin-id equal to its 'id', so either name finds it. */

const RETRACT_FALLBACK = 'This person attempted to retract a previous message, but your client does not support it.';

function base(to: string, kind: ConversationKind, id: string, ...children: (XElement | false)[]): XElement {
  return x('message', NS.CLIENT, { to, type: kind, id }, ...children, x('origin-id', NS.SID, { id }));
}

/** `extra` carries elements such as a shared file's (see oob.ts). */
export function chatMessage(to: string, kind: ConversationKind, id: string, body: string, extra: XElement[] = []): XElement {
  return base(
    to,
    kind,
    id,
    x('body', NS.CLIENT, {}, body),
    ...extra,
    x('active', NS.CHAT_STATES),
    kind === 'chat' && x('request', NS.RECEIPTS),
    x('markable', NS.MARKERS),
  );
}

/** XEP-0308: `ref` is the original's origin-id. */
export function correctionMessage(to: string, kind: ConversationKind, id: string, ref: string, body: string): XElement {
  return base(to, kind, id, x('body', NS.CLIENT, {}, body), x('replace', NS.CORRECT, { id: ref }));
}

/** XEP-0424: `ref` is the original's origin-id. */
export function retractionMessage(to: string, kind: ConversationKind, id: string, ref: string): XElement {
  return base(
    to,
    kind,
    id,
    x('retract', NS.RETRACT, { id: ref }),
    x('fallback', NS.FALLBACK, { for: NS.RETRACT }),
    x('body', NS.CLIENT, {}, RETRACT_FALLBACK),
    x('store', NS.HINTS),
  );
}

/** XEP-0333: in a room `ref` is the room's stanza id, in a chat the message's 'id'. */
export function markerMessage(to: string, kind: ConversationKind, id: string, marker: MarkerKind, ref: string): XElement {
  return x('message', NS.CLIENT, { to, type: kind, id }, x(marker, NS.MARKERS, { id: ref }), x('store', NS.HINTS));
}

/** XEP-0184: the receipt for the message `ref`. */
export function receiptMessage(to: string, id: string, ref: string): XElement {
  return x('message', NS.CLIENT, { to, id }, x('received', NS.RECEIPTS, { id: ref }));
}

export function chatStateMessage(to: string, kind: ConversationKind, state: ChatState): XElement {
  return x('message', NS.CLIENT, { to, type: kind }, x(state, NS.CHAT_STATES), x('no-store', NS.HINTS));
}

/** Inbox entry properties (docs/protocol.md): pin, mute seconds, read. */
export function inboxProperties(jid: string, changes: { pinned?: boolean; muteSeconds?: number | 'forever'; read?: boolean }): XElement {
  const query = x('query', NS.INBOX_CONVERSATION, { jid });
  if (changes.pinned !== undefined) query.append(x('pin', NS.PARLEY_INBOX, {}, String(changes.pinned)));
  if (changes.muteSeconds !== undefined) query.append(x('mute', NS.INBOX_CONVERSATION, {}, String(changes.muteSeconds)));
  if (changes.read !== undefined) query.append(x('read', NS.INBOX_CONVERSATION, {}, String(changes.read)));
  return x('iq', NS.CLIENT, { type: 'set' }, query);
}

/** `urn:parley:group-receipts:0`: who has read the room message `stanzaId`. */
export function groupReceiptsQuery(room: string, stanzaId: string): XElement {
  return x('iq', NS.CLIENT, { type: 'get' }, x('query', NS.GROUP_RECEIPTS, { room, id: stanzaId }));
}
