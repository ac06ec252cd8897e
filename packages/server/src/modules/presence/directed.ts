import type { Element, JID } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import { isSharedContact } from '../roster/overlay.js';
import { hasFrom } from '../roster/records.js';

/**
 * Routes directed presence (RFC 6121 4.6). The session's directed-presence set records
 * each JID that got available presence and does not get broadcasts anyway, so that it
 * receives unavailable presence when the session ends (RFC 6121 4.6.3). Directed
 * unavailable presence removes the JID from the set.
 */
export async function sendDirected(server: ServerContext, session: ClientSession, stanza: Element, to: JID): Promise<void> {
  const target = to.toString();
  if (stanza.attr('type') === 'unavailable') session.directedPresence.delete(target);
  else if (!(await receivesBroadcasts(server, session, to))) session.directedPresence.add(target);

  await server.router.route(stanza, session.jid!, to, session);
}

/** Tells whether `to` gets the session's broadcast presence: the session is available and `to` is its own account or a subscriber. */
async function receivesBroadcasts(server: ServerContext, session: ClientSession, to: JID): Promise<boolean> {
  if (session.presence === undefined) return false;
  const user = session.jid!;
  if (to.bare().equals(user.bare())) return true;

  const record = await server.storage.roster.get(user.domain, user.local, to.bare().toString());
  return (record !== null && hasFrom(record.subscription)) || (await isSharedContact(server, user, to));
}
