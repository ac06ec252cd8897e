/**
 * Message moderation (XEP-0425): a moderator retracts an occupant's message. The current
 * version ('urn:xmpp:message-moderate:1') names the message in `<moderate id/>`; version 0,
 * which slixmpp 1.8 speaks, wraps `<moderate/>` in a XEP-0422 `<apply-to id/>`. The room's
 * notice carries both forms, so clients of either version apply it.
 */
import { type Element, type JID, NS, StanzaError, x } from '@parley/xmpp';
import { requesterOf } from './admin.js';
import { MUC_NS } from './ns.js';
import type { Room } from './room.js';

interface ModerationRequest {
  stanzaId: string;
  reason?: string;
}

function readRequest(id: string | undefined, moderate: Element | undefined, retract: Element | undefined, ns: string): ModerationRequest {
  if (!moderate) throw new StanzaError('feature-not-implemented', 'Unsupported apply-to payload: the room supports only <moderate/>.');
  if (!id) throw new StanzaError('bad-request', 'Missing id: name the message by the stanza id the room gave it.');
  if (!retract) throw new StanzaError('feature-not-implemented', 'Unsupported moderation: the room can only retract messages; add <retract/>.');
  const reason = moderate.getChildText('reason', ns);
  return { stanzaId: id, reason: reason === undefined || reason === '' ? undefined : reason };
}

/** Reads a moderation request of either version from the IQ payload. */
export function readModeration(payload: Element): ModerationRequest {
  if (payload.ns === MUC_NS.FASTEN_0) {
    const moderate = payload.getChild('moderate', MUC_NS.MODERATE_0);
    return readRequest(payload.attr('id'), moderate, moderate?.getChild('retract', MUC_NS.RETRACT_0), MUC_NS.MODERATE_0);
  }
  return readRequest(payload.attr('id'), payload, payload.getChild('retract', NS.RETRACT), MUC_NS.MODERATE);
}

/** Builds the room's notice of a moderated message in both versions (XEP-0425 section 3.1, and version 0.2 with XEP-0422). */
export function moderationNotice(room: JID, request: ModerationRequest, by: JID): Element {
  const reason = (ns: string): Element | undefined => (request.reason === undefined ? undefined : x('reason', ns, {}, request.reason));
  const current = x('retract', NS.RETRACT, { id: request.stanzaId }, x('moderated', MUC_NS.MODERATE, { by: by.toString() }), reason(NS.RETRACT));
  const legacy = x('apply-to', MUC_NS.FASTEN_0, { id: request.stanzaId }, x('moderated', MUC_NS.MODERATE_0, { by: by.toString() }, x('retract', MUC_NS.RETRACT_0), reason(MUC_NS.MODERATE_0)));
  return x('message', NS.CLIENT, { type: 'groupchat', from: room.toString(), id: `moderation-${Date.now().toString(36)}` }, current, legacy);
}

/**
 * Handles a moderation IQ: only a moderator may retract, and only a message the room
 * archived. The archive keeps a tombstone, and every occupant session gets the notice.
 * A message retracted already gets a result and no second notice.
 */
export async function moderate(room: Room, from: JID, payload: Element): Promise<undefined> {
  const request = readModeration(payload);
  const moderator = requesterOf(room, from);
  if (moderator.role !== 'moderator' || moderator.nick === undefined) throw new StanzaError('forbidden', 'Only moderators may retract the messages of others.');

  const by = room.occupantJid(moderator.nick);
  const notice = moderationNotice(room.jid, request, by);
  const noticeId = await room.host.archive.moderate(room.jid, { stanzaId: request.stanzaId, by: by.toString(), reason: request.reason }, notice);
  if (noticeId === undefined) return undefined;
  for (const { session } of room.occupants.sessions()) room.sendTo(session, room.jid, notice);
  return undefined;
}
