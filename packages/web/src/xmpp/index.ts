/*
 * The connection layer of the web client (no Vue).
 *
 * Element model decision: src/xmpp has its own `XElement`, shaped like @parley/xmpp's
 * `Element` (name, ns, attrs, children, attr(), getChild(), getChildText(), c(), x() builder,
 * toString()), with its own frame parser. The toolkit's element class would work in a browser.
 * But the toolkit's index also exports the parser and JIDs, which import node:buffer, node:net
 * and node:url, so a bundle cannot import it, and the toolkit's parser needs Buffer.
 * Elements cross worker ports as strings (`toString()` / `parseFrame()`).
 */
export { XElement, x, serialize, escapeXml, type XNode, type XAttrs } from './element.js';
export { parseFrame, XmlParseError } from './xml-parser.js';
export { NS } from './ns.js';
export { XmppClient, XmppSessionLostError, type ConnectionStatus, type XmppClientOptions, type ClientEvents } from './client.js';
export { XmppStanzaError, XmppTimeoutError, XmppAuthError, XmppStreamError } from './errors.js';
export type { WebSocketLike, WebSocketConstructor } from './framed-socket.js';
export type { IqHandler } from './iq-handlers.js';
export type { ScramKeys } from './scram.js';
export type { FastToken } from './fast.js';
export type { UserAgent } from './user-agent.js';
export type { XmppClientLike } from './client-like.js';
