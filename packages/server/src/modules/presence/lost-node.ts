/** Unavailable presence for the sessions of a cluster node that died, which cannot send it itself. */
import { JID } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import { sharedContactsOf } from '../roster/overlay.js';
import { presenceOfType } from './stanzas.js';

/**
 * Sends unavailable presence from each lost session to the available sessions on this node
 * of its account, its subscribers and its shared contacts (RFC 6121 4.5.2 has the server do
 * this when a session ends without it). Each node covers its own sessions, so no one gets it
 * twice. A node that stops cleanly has sent it already and leaves no sessions.
 */
export async function announceLostSessions(server: ServerContext, lost: JID[]): Promise<void> {
  for (const jid of lost) {
    if (jid.domain !== server.config.domain || jid.resource === '') continue;
    // The client bound the same resource again, here or on a node that lives.
    if (server.sessions.get(jid) || server.cluster?.locate(jid)) continue;
    for (const contact of await presenceAudience(server, jid)) {
      for (const session of server.sessions.available(contact)) {
        const to = session.jid!;
        await server.router.route(presenceOfType('unavailable', jid, to), jid, to);
      }
    }
  }
}

/** Returns the account itself and the bare JIDs that receive its presence. */
async function presenceAudience(server: ServerContext, jid: JID): Promise<JID[]> {
  const subscribers = await server.storage.roster.listSubscribers(jid.domain, jid.local);
  const shared = await sharedContactsOf(server, jid);
  const bare = new Set([jid.bare().toString(), ...subscribers.map((item) => item.contact), ...shared.keys()]);
  return [...bare].flatMap((contact) => JID.parseOrNull(contact) ?? []);
}
