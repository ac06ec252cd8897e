import { x, type XElement } from './element.js';
import { XmppStanzaError } from './errors.js';
import type { FramedSocket } from './framed-socket.js';
import { NS } from './ns.js';
import type { StreamManagement } from './stream-management.js';

/** Binds a resource (RFC 6120 section 7); returns the full JID the server assigned. */
export async function bindResource(socket: FramedSocket, resource: string | undefined): Promise<string> {
  const id = `bind-${Date.now().toString(36)}`;
  const bind = x('bind', NS.BIND, {}, resource ? x('resource', NS.BIND, {}, resource) : undefined);
  socket.write(x('iq', NS.CLIENT, { type: 'set', id }, bind));

  const answer = await nextIq(socket, id);
  if (answer.attr('type') === 'error') throw new XmppStanzaError(answer);
  const jid = answer.getChild('bind', NS.BIND)?.getChildText('jid', NS.BIND)?.trim();
  if (!jid) throw new Error('the bind result has no JID');
  return jid;
}

/** Asks for stream management with resumption (XEP-0198 section 3); a refusal leaves it off. */
export async function enableStreamManagement(socket: FramedSocket, sm: StreamManagement): Promise<void> {
  socket.write(x('enable', NS.SM, { resume: 'true' }));
  const answer = await nextSm(socket);
  if (answer.name !== 'enabled') return;
  const resumable = answer.attr('resume') === 'true' || answer.attr('resume') === '1';
  sm.enable(resumable ? answer.attr('id') : undefined);
}

/**
 * Resumes the previous session (XEP-0198 section 5). On `<resumed/>` the server's `h` settles
 * what it had received; the caller re-sends the rest. On `<failed/>` returns false, after
 * settling what the final `h`, when given, says arrived.
 */
export async function resumeSession(socket: FramedSocket, sm: StreamManagement): Promise<boolean> {
  socket.write(x('resume', NS.SM, { previd: sm.resumeId, h: sm.inbound }));
  const answer = await nextSm(socket);
  const h = answer.attr('h');
  if (answer.name === 'resumed') {
    if (h === undefined || !sm.acknowledge(Number(h))) throw new Error('the server resumed with a bad h');
    return true;
  }
  if (h !== undefined) sm.acknowledge(Number(h));
  return false;
}

async function nextIq(socket: FramedSocket, id: string): Promise<XElement> {
  for (;;) {
    const element = await socket.next();
    if (element.name === 'iq' && element.attr('id') === id) return element;
  }
}

async function nextSm(socket: FramedSocket): Promise<XElement> {
  for (;;) {
    const element = await socket.next();
    if (element.ns === NS.SM && element.name !== 'r' && element.name !== 'a') return element;
  }
}
