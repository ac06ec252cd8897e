/** Tombstones of messages a moderator retracted (XEP-0425) in a room's archive. */
import { Element, NS, x } from '@parley/xmpp';
import type { ModerationTarget } from '../host.js';
import { MUC_NS } from '../ns.js';

/**
 * Builds the tombstone of a moderated message: the original's attributes and origin-id,
 * no content, and the moderation in both versions. Version 1 is a `<retracted/>` holding
 * `<moderated/>`; version 0 (XEP-0425 0.2) is a `<moderated/>` holding `<retracted/>`.
 */
export function moderatedTombstone(original: Element, target: ModerationTarget, stamp: number): Element {
  const iso = new Date(stamp).toISOString();
  const reason = (ns: string): Element | undefined => (target.reason === undefined ? undefined : x('reason', ns, {}, target.reason));
  const result = new Element(original.name, original.ns, { ...original.attrs });
  result.append(x('retracted', NS.RETRACT, { stamp: iso }, x('moderated', MUC_NS.MODERATE, { by: target.by }), reason(NS.RETRACT)));
  result.append(x('moderated', MUC_NS.MODERATE_0, { by: target.by }, x('retracted', MUC_NS.RETRACT_0, { stamp: iso }), reason(MUC_NS.MODERATE_0)));
  result.append(original.getChild('origin-id', NS.STANZA_ID)?.clone());
  return result;
}
