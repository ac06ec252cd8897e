import { randomBytes } from 'node:crypto';
import { type Element, type JID, NS, x } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';

/** Sends a roster push (RFC 6121 2.1.6) carrying `item` to every interested resource of `user`. */
export function pushToInterested(server: ServerContext, user: JID, item: Element, version: number | string): void {
  for (const session of server.sessions.resources(user.bare())) {
    if (session.rosterInterested) pushToSession(session, item, version);
  }
}

/** Sends one roster push to one session; `version` goes into the 'ver' attribute (RFC 6121 2.6.3). */
export function pushToSession(session: ClientSession, item: Element, version: number | string): void {
  const id = `push-${randomBytes(6).toString('hex')}`;
  const query = x('query', NS.ROSTER, { ver: String(version) }, item);
  session.send(x('iq', NS.CLIENT, { type: 'set', id, to: session.jid?.toString() }, query));
}
