/** Removal of the claims only the room may make from occupants' messages, before the room passes them on. */
import { type Element, NS } from '@parley/xmpp';
import { MUC_NS } from './ns.js';

/** True for a `<retract/>` or `<apply-to/>` that claims a moderator's action (XEP-0425), which only the room may send. */
function claimsModeration(child: Element): boolean {
  if (child.name === 'retract' && child.ns === NS.RETRACT) return child.getChild('moderated', MUC_NS.MODERATE) !== undefined;
  if (child.name === 'apply-to' && child.ns === MUC_NS.FASTEN_0) return child.getChild('moderated', MUC_NS.MODERATE_0) !== undefined;
  return false;
}

/**
 * Removes from an occupant's message every child that speaks for the room: muc#user
 * payloads (they state real JIDs and status codes), stanza ids and delays by an entity of
 * this server (`isOurs`), occupant ids (XEP-0421) and moderation notices (XEP-0425).
 */
export function removeRoomClaims(message: Element, isOurs: (jid: string) => boolean): void {
  message.removeChildren(
    (child) =>
      (child.name === 'x' && child.ns === MUC_NS.USER) ||
      (child.name === 'stanza-id' && child.ns === NS.STANZA_ID && isOurs(child.attr('by') ?? '')) ||
      (child.name === 'delay' && child.ns === NS.DELAY && isOurs(child.attr('from') ?? '')) ||
      (child.name === 'occupant-id' && child.ns === MUC_NS.OCCUPANT_ID) ||
      claimsModeration(child),
  );
}
