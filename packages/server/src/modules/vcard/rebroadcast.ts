/** Sends a user's presence again when the server-stamped avatar hash (XEP-0153) changed. */
import { JID, NS, x } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import { publishAvailable } from '../presence/broadcast.js';

/**
 * Re-publishes the last presence of each available resource of the account with
 * `<x xmlns='vcard-temp:x:update'><photo>hash</photo></x>`, so that contacts and the
 * account's other resources learn the new avatar at once (XEP-0153 section 4.3 asks
 * clients to do this; the server does it for changes that no client made).
 */
export async function rebroadcastPhotoHash(server: ServerContext, username: string, hash: string): Promise<void> {
  const user = JID.fromParts(username, server.config.domain);
  for (const session of server.sessions.available(user)) {
    const presence = session.presence!.clone();
    presence.removeChildren((child) => child.name === 'x' && child.ns === NS.VCARD_UPDATE);
    presence.append(x('x', NS.VCARD_UPDATE, {}, x('photo', NS.VCARD_UPDATE, {}, hash || undefined)));
    await publishAvailable(server, session, presence);
  }
}
