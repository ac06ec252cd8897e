import type { XElement } from './element.js';
import { NS } from './ns.js';

/** An IQ answered with type='error'; `condition` is the RFC 6120 defined condition. */
export class XmppStanzaError extends Error {
  override name = 'XmppStanzaError';
  readonly condition: string;
  readonly type: string;
  readonly text: string | undefined;

  constructor(readonly stanza: XElement) {
    const error = stanza.getChild('error');
    const conditionElement = error?.elements().find((child) => child.ns === NS.STANZAS && child.name !== 'text');
    const condition = conditionElement?.name ?? 'undefined-condition';
    const text = error?.getChildText('text', NS.STANZAS);
    super(text ? `${condition}: ${text}` : condition);
    this.condition = condition;
    this.type = error?.attr('type') ?? 'cancel';
    this.text = text;
  }
}

/** An IQ that got no answer in time, or whose connection ended before the answer. */
export class XmppTimeoutError extends Error {
  override name = 'XmppTimeoutError';
}

/** SASL refused the credentials (or the mechanism); the client stops reconnecting. */
export class XmppAuthError extends Error {
  override name = 'XmppAuthError';
  constructor(readonly condition: string) {
    super(`authentication failed: ${condition}`);
  }
}

/** The server ended the stream with an error; `condition` is the RFC 6120 stream error. */
export class XmppStreamError extends Error {
  override name = 'XmppStreamError';
  constructor(readonly condition: string, readonly text?: string) {
    super(text ? `stream error ${condition}: ${text}` : `stream error ${condition}`);
  }
}
