/** Building and sending carbon copies (XEP-0280 sections 7 and 8). */
import { type Element, type JID, NS, x } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { CarbonDirection } from './eligibility.js';
import { NS_CARBONS, NS_FORWARD } from './ns.js';

/** Session data key: true while the session has carbons enabled. */
const ENABLED = 'carbons.enabled';

/** Turns carbons on or off for `session`. */
export function setCarbons(session: ClientSession, enabled: boolean): void {
  if (enabled) session.data.set(ENABLED, true);
  else session.data.delete(ENABLED);
}

/** Tells whether `session` has carbons enabled. */
export function carbonsEnabled(session: ClientSession): boolean {
  return session.data.get(ENABLED) === true;
}

/**
 * Wraps `message` for the resource `to` of `user`: from the user's bare JID, with the
 * original type, the message inside `<forwarded/>` (XEP-0297) inside `<sent/>` or `<received/>`.
 */
export function carbonCopy(direction: CarbonDirection, message: Element, user: JID, to: JID): Element {
  const forwarded = x('forwarded', NS_FORWARD, {}, message);
  return x('message', NS.CLIENT, { from: user.bare().toString(), to: to.toString(), type: message.attr('type') }, x(direction, NS_CARBONS, {}, forwarded));
}

/**
 * Sends a copy of `original` to each of `sessions` that has carbons enabled. The copies share
 * `original`, so the caller passes an element nothing else changes, such as a clone.
 */
export function sendCopies(direction: CarbonDirection, original: Element, user: JID, sessions: ClientSession[]): void {
  for (const session of sessions) {
    if (session.jid && carbonsEnabled(session)) session.send(carbonCopy(direction, original, user, session.jid));
  }
}

/**
 * Returns the copy of an outgoing message that the sender's other resources see. Archive ids
 * (XEP-0359 `<stanza-id/>`) by anyone but the sender are left out: the archive module stamps
 * the recipient's archive id on the message, which means nothing to the sender. The sender's
 * own archive id, `archiveId`, goes in instead, so that those resources can match the copy
 * with the archive (XEP-0313).
 */
export function sentOriginal(message: Element, sender: JID, archiveId: string | undefined): Element {
  const own = sender.bare().toString();
  const copy = message.clone().removeChildren((child) => child.name === 'stanza-id' && child.ns === NS.STANZA_ID && child.attr('by') !== own);
  if (archiveId === undefined) return copy;
  copy.removeChildren((child) => child.name === 'stanza-id' && child.ns === NS.STANZA_ID);
  return copy.append(x('stanza-id', NS.STANZA_ID, { by: own, id: archiveId }));
}
