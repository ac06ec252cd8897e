import { type JID, parseFrame } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import { presenceOfType, readdress } from './stanzas.js';

/** Sends the last presence of each of the user's available resources to `to` (RFC 6121 3.1.5 and 4.3.2). */
export async function sendAvailableResources(server: ServerContext, user: JID, to: JID): Promise<void> {
  for (const session of server.sessions.available(user.bare())) {
    const from = session.jid!;
    await server.router.route(readdress(session.presence!, from, to), from, to);
  }
  for (const remote of server.cluster?.available(user) ?? []) {
    if (remote.presence === undefined) continue;
    const presence = parseFrame(remote.presence, { maxStanzaBytes: server.config.sessions.max_stanza_bytes * 2 });
    await server.router.route(readdress(presence, remote.jid, to), remote.jid, to);
  }
}

/** Sends unavailable presence from each of the user's available resources to `to` (RFC 6121 3.2.2 and 3.3.3). */
export async function sendUnavailableResources(server: ServerContext, user: JID, to: JID): Promise<void> {
  for (const session of server.sessions.available(user.bare())) {
    const from = session.jid!;
    await server.router.route(presenceOfType('unavailable', from, to), from, to);
  }
  for (const remote of server.cluster?.available(user) ?? []) {
    await server.router.route(presenceOfType('unavailable', remote.jid, to), remote.jid, to);
  }
}
