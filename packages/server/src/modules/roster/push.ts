import { randomBytes } from 'node:crypto';
import { type Element, type JID, NS, parseFrame, serialize, x } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';

/** The cluster event that carries a roster push to the account's sessions on other nodes. */
export const ROSTER_PUSH_EVENT = 'roster/push';

/** Sends a roster push (RFC 6121 2.1.6) carrying `item` to every interested resource of `user`, on this node and the others. */
export function pushToInterested(server: ServerContext, user: JID, item: Element, version: number | string): void {
  pushToLocal(server, user, item, version);
  server.cluster
    ?.relayToAccount(ROSTER_PUSH_EVENT, user, JSON.stringify({ item: serialize(item), version }))
    .catch((err: unknown) => server.log.warn({ err, user: user.toString() }, 'relaying a roster push to other nodes failed'));
}

/** Sends a roster push to the interested resources of `user` on this node. */
export function pushToLocal(server: ServerContext, user: JID, item: Element, version: number | string): void {
  for (const session of server.sessions.resources(user.bare())) {
    if (session.rosterInterested) pushToSession(session, item, version);
  }
}

/** Handles a roster push another node relayed. */
export function receiveRelayedPush(server: ServerContext, user: JID, data: string): void {
  const { item, version } = JSON.parse(data) as { item: string; version: number | string };
  pushToLocal(server, user, parseFrame(item, { maxStanzaBytes: server.config.sessions.max_stanza_bytes * 2 }), version);
}

/** Sends one roster push to one session; `version` goes into the 'ver' attribute (RFC 6121 2.6.3). */
export function pushToSession(session: ClientSession, item: Element, version: number | string): void {
  const id = `push-${randomBytes(6).toString('hex')}`;
  const query = x('query', NS.ROSTER, { ver: String(version) }, item);
  session.send(x('iq', NS.CLIENT, { type: 'set', id, to: session.jid?.toString() }, query));
}
