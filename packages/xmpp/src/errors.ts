import { Element, x } from './xml/element.js';
import { NS } from './ns.js';

/** Stanza error conditions of RFC 6120 section 8.3.3. */
export type StanzaErrorCondition =
  | 'bad-request'
  | 'conflict'
  | 'feature-not-implemented'
  | 'forbidden'
  | 'gone'
  | 'internal-server-error'
  | 'item-not-found'
  | 'jid-malformed'
  | 'not-acceptable'
  | 'not-allowed'
  | 'not-authorized'
  | 'policy-violation'
  | 'recipient-unavailable'
  | 'redirect'
  | 'registration-required'
  | 'remote-server-not-found'
  | 'remote-server-timeout'
  | 'resource-constraint'
  | 'service-unavailable'
  | 'subscription-required'
  | 'undefined-condition'
  | 'unexpected-request';

export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** Stream error conditions of RFC 6120 section 4.9.3. */
export type StreamErrorCondition =
  | 'bad-format'
  | 'bad-namespace-prefix'
  | 'conflict'
  | 'connection-timeout'
  | 'host-gone'
  | 'host-unknown'
  | 'improper-addressing'
  | 'internal-server-error'
  | 'invalid-from'
  | 'invalid-namespace'
  | 'invalid-xml'
  | 'not-authorized'
  | 'not-well-formed'
  | 'policy-violation'
  | 'remote-connection-failed'
  | 'reset'
  | 'resource-constraint'
  | 'restricted-xml'
  | 'see-other-host'
  | 'system-shutdown'
  | 'undefined-condition'
  | 'unsupported-encoding'
  | 'unsupported-feature'
  | 'unsupported-stanza-type'
  | 'unsupported-version';

/** The error type RFC 6120 section 8.3.3 suggests for each condition. */
const DEFAULT_TYPES: Record<StanzaErrorCondition, StanzaErrorType> = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
};

/**
 * A stanza-level failure. Handlers throw it, and the dispatcher turns it into an
 * error reply to the stanza that caused it.
 */
export class StanzaError extends Error {
  readonly condition: StanzaErrorCondition;
  readonly type: StanzaErrorType;
  readonly text: string | undefined;
  readonly extra: Element | undefined;

  constructor(condition: StanzaErrorCondition, text?: string, options: { type?: StanzaErrorType; extra?: Element } = {}) {
    super(text ?? condition);
    this.name = 'StanzaError';
    this.condition = condition;
    this.type = options.type ?? DEFAULT_TYPES[condition];
    this.text = text;
    this.extra = options.extra;
  }

  /** Builds the `<error/>` child element. */
  toElement(by?: string): Element {
    const error = x('error', NS.CLIENT, { type: this.type, by }, x(this.condition, NS.STANZAS));
    if (this.text !== undefined) error.append(x('text', NS.STANZAS, { 'xml:lang': 'en' }, this.text));
    if (this.extra) error.append(this.extra);
    return error;
  }
}

/**
 * Builds the error reply to `stanza` (RFC 6120 section 8.3.1): the same kind and id,
 * addresses swapped, type "error", and the original payload left out.
 */
export function errorReply(stanza: Element, error: StanzaError): Element {
  return x(
    stanza.name,
    stanza.ns,
    { type: 'error', id: stanza.attr('id'), from: stanza.attr('to'), to: stanza.attr('from') },
    error.toElement(),
  );
}

/** A stream-level failure: the session sends `<stream:error/>` and closes the stream. */
export class StreamError extends Error {
  readonly condition: StreamErrorCondition;
  readonly text: string | undefined;
  readonly extra: Element | undefined;

  constructor(condition: StreamErrorCondition, text?: string, extra?: Element) {
    super(text ?? condition);
    this.name = 'StreamError';
    this.condition = condition;
    this.text = text;
    this.extra = extra;
  }

  /** Builds the `<stream:error/>` element, in the streams namespace. */
  toElement(): Element {
    const error = x('error', NS.STREAM, {}, x(this.condition, NS.STREAMS));
    if (this.text !== undefined) error.append(x('text', NS.STREAMS, { 'xml:lang': 'en' }, this.text));
    if (this.extra) error.append(this.extra);
    return error;
  }
}

/** Reads the defined condition out of a received `<error/>` element. */
export function readStanzaErrorCondition(error: Element): StanzaErrorCondition | undefined {
  return error.getChildByNs(NS.STANZAS)?.name as StanzaErrorCondition | undefined;
}
