import { x, type XElement } from './element.js';
import { XmppStanzaError } from './errors.js';
import { NS } from './ns.js';

/** Handler of an IQ get or set: it returns the payload of the result (or nothing for an empty result). */
export type IqHandler = (request: XElement) => XElement | undefined | Promise<XElement | undefined>;

/**
 * Sends the reply to one incoming IQ request: XEP-0199 pings directly, registered payloads through their
 * handler, anything else with service-unavailable (RFC 6120 section 8.4).
 */
export async function answerIq(request: XElement, handlers: Map<string, IqHandler>, send: (reply: XElement) => void): Promise<void> {
  const payload = request.elements()[0];
  const base = { id: request.attr('id'), to: request.attr('from') };
  if (!payload) return send(errorReply(base, 'modify', 'bad-request'));
  if (payload.name === 'ping' && payload.ns === NS.PING) return send(x('iq', NS.CLIENT, { ...base, type: 'result' }));

  const handler = handlers.get(`${payload.ns} ${payload.name}`);
  if (!handler) return send(errorReply(base, 'cancel', 'service-unavailable'));
  try {
    const result = await handler(request);
    send(x('iq', NS.CLIENT, { ...base, type: 'result' }, result));
  } catch (err) {
    const condition = err instanceof XmppStanzaError ? err.condition : 'internal-server-error';
    send(errorReply(base, err instanceof XmppStanzaError ? err.type : 'wait', condition));
  }
}

function errorReply(base: Record<string, string | undefined>, type: string, condition: string): XElement {
  return x('iq', NS.CLIENT, { ...base, type: 'error' }, x('error', NS.CLIENT, { type }, x(condition, NS.STANZAS)));
}
