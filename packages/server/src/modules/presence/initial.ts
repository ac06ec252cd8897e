import { type Element, JID, parseFrame } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import { probeContacts } from './probe.js';

/**
 * Runs the steps that follow a session's initial presence. It fetches the contacts'
 * presence (RFC 6121 4.2.2) and delivers the subscription requests that the user has not
 * approved or denied yet (RFC 6121 3.1.3). Then it fires 'session/initial-presence', where
 * offline messages are delivered.
 */
export async function startSession(server: ServerContext, session: ClientSession): Promise<void> {
  await probeContacts(server, session);
  await deliverPendingRequests(server, session);
  try {
    await server.hooks.fire('session/initial-presence', { session });
  } catch (err) {
    session.log.error({ err }, 'session/initial-presence hook failed');
  }
}

/** Sends each stored inbound subscription request to the session (RFC 6121 3.1.3). */
async function deliverPendingRequests(server: ServerContext, session: ClientSession): Promise<void> {
  const user = session.jid!;
  const records = await server.storage.roster.list(user.domain, user.local);
  // The stored copy declares its namespace and carries addresses, so it may be a little
  // longer than the stanza the contact sent within the limit.
  const maxStanzaBytes = server.config.sessions.max_stanza_bytes * 2;

  for (const record of records) {
    if (!record.pendingIn || record.pendingInStanza === null) continue;
    let request: Element;
    try {
      request = parseFrame(record.pendingInStanza, { maxStanzaBytes });
    } catch (err) {
      session.log.warn({ err, contact: record.contact }, 'skipped a stored subscription request that could not be parsed');
      continue;
    }
    const event = { stanza: request, from: JID.parse(record.contact), to: user, session };
    if (!(await server.hooks.fire('stored/deliver', event))) session.send(request);
  }
}
