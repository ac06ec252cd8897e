/**
 * The rule for messages that warrant a push notification: those a user would want to be woken for. A
 * body counts, and so does an end-to-end encrypted payload or a call proposal, which carry
 * no readable body. Chat states, receipts, markers, corrections, retractions and carbon
 * copies do not, and neither do error and headline messages.
 */
import { type Element, NS } from '@parley/xmpp';
import { isCarbonCopy } from '../carbons/eligibility.js';
import { editOf } from '../mam/edits.js';

/** Maximum length of a body in a notification, in Unicode code points. A longer body is cut and ends with an ellipsis. */
export const MAX_BODY_CODE_POINTS = 256;

/** The part of a push summary that one message contributes. */
export interface PushContent {
  /** The plain text body, absent for encrypted messages and call proposals. */
  body: string | undefined;
}

/** End-to-end encryption payloads: OMEMO (legacy and version 2), legacy OpenPGP (XEP-0027) and OpenPGP for XMPP (XEP-0373). */
const ENCRYPTED: readonly { name: string; ns: string }[] = [
  { name: 'encrypted', ns: 'eu.siacs.conversations.axolotl' },
  { name: 'encrypted', ns: 'urn:xmpp:omemo:2' },
  { name: 'x', ns: 'jabber:x:encrypted' },
  { name: 'openpgp', ns: 'urn:xmpp:openpgp:0' },
];
/** A Jingle Message Initiation call proposal (XEP-0353). */
const CALL_PROPOSAL = { name: 'propose', ns: 'urn:xmpp:jingle-message:0' };

/**
 * True when `message` carries an encrypted message. An OMEMO element without `<payload/>`
 * only transports keys, so it does not count.
 */
function isEncrypted(message: Element): boolean {
  return ENCRYPTED.some(({ name, ns }) => {
    const payload = message.getChild(name, ns);
    if (payload === undefined) return false;
    if (name !== 'encrypted') return true;
    return payload.getChild('payload', ns) !== undefined;
  });
}

/** Cuts `body` to MAX_BODY_CODE_POINTS without splitting a surrogate pair. */
function shorten(body: string): string {
  const points = Array.from(body);
  return points.length <= MAX_BODY_CODE_POINTS ? body : `${points.slice(0, MAX_BODY_CODE_POINTS).join('')}…`;
}

/** Returns what `message` adds to a push summary, or undefined when it warrants no push. */
export function pushContentOf(message: Element): PushContent | undefined {
  const type = message.attr('type') ?? 'normal';
  if (type === 'error' || type === 'headline') return undefined;
  if (isCarbonCopy(message) || editOf(message) !== undefined) return undefined;

  if (isEncrypted(message)) return { body: undefined };
  const body = message.getChildText('body', NS.CLIENT);
  if (body !== undefined && body.trim() !== '') return { body: shorten(body) };
  if (message.getChild(CALL_PROPOSAL.name, CALL_PROPOSAL.ns)) return { body: undefined };
  return undefined;
}
