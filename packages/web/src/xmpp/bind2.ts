import { x, type XElement } from './element.js';
import { NS } from './ns.js';

/** The inline stream management state in a Bind 2 `<bound/>`. */
export interface BoundResult {
  /** Stream management was enabled: the resumption id, or undefined when the server will not resume. */
  sm?: { resumeId: string | undefined };
}

/** Returns the Bind 2 inline feature of the SASL2 `<authentication/>` feature, when offered. */
export function bind2Feature(authentication: XElement): XElement | undefined {
  return authentication.getChild('inline', NS.SASL2)?.getChild('bind', NS.BIND2);
}

/**
 * Builds the Bind 2 request (XEP-0386) with `tag` and, for each feature the server lists as
 * inline, its request: stream management with resumption, carbons, and the client state active.
 */
export function bind2Request(feature: XElement, tag: string): XElement {
  const inline = new Set(feature.getChild('inline', NS.BIND2)?.getChildren('feature', NS.BIND2).map((item) => item.attr('var')));
  return x(
    'bind',
    NS.BIND2,
    {},
    x('tag', NS.BIND2, {}, tag),
    inline.has(NS.SM) && x('enable', NS.SM, { resume: 'true' }),
    inline.has(NS.CARBONS) && x('enable', NS.CARBONS),
    inline.has(NS.CSI) && x('active', NS.CSI),
  );
}

/** Reads the `<bound/>` of a SASL2 `<success/>`; undefined when the server did not bind. */
export function parseBound(success: XElement): BoundResult | undefined {
  const bound = success.getChild('bound', NS.BIND2);
  if (!bound) return undefined;
  const enabled = bound.getChild('enabled', NS.SM);
  if (!enabled) return {};
  const resumable = enabled.attr('resume') === 'true' || enabled.attr('resume') === '1';
  return { sm: { resumeId: resumable ? enabled.attr('id') : undefined } };
}
