import { XmppSessionLostError } from '../xmpp/client.js';
import { XmppAuthError, XmppStanzaError, XmppStreamError, XmppTimeoutError } from '../xmpp/errors.js';
import { parseFrame } from '../xmpp/xml-parser.js';
import type { WireError } from './protocol.js';

export function toWire(err: unknown): WireError {
  if (err instanceof XmppStanzaError) return { name: err.name, message: err.message, condition: err.condition, xml: err.stanza.toString() };
  if (err instanceof XmppAuthError || err instanceof XmppStreamError) return { name: err.name, message: err.message, condition: err.condition };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

/** Rebuilds the error classes of src/xmpp, so that `instanceof` works the same on both sides. */
export function fromWire(wire: WireError): Error {
  switch (wire.name) {
    case 'XmppStanzaError':
      return new XmppStanzaError(parseFrame(wire.xml ?? '<iq xmlns="jabber:client" type="error"/>'));
    case 'XmppAuthError':
      return new XmppAuthError(wire.condition ?? 'not-authorized');
    case 'XmppStreamError':
      return new XmppStreamError(wire.condition ?? 'undefined-condition');
    case 'XmppSessionLostError':
      return new XmppSessionLostError(wire.message);
    case 'XmppTimeoutError':
      return new XmppTimeoutError(wire.message);
    default:
      return Object.assign(new Error(wire.message), { name: wire.name });
  }
}
