import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import { publishUnavailable } from './broadcast.js';
import { presenceOfType } from './stanzas.js';

/**
 * Sends unavailable presence for a session that ended without sending it, whether the
 * stream was closed, the connection dropped or a stream error ended it (RFC 6121 4.5.2
 * and 4.6.3).
 */
export async function endSession(server: ServerContext, session: ClientSession): Promise<void> {
  if (!session.jid) return;
  if (session.presence === undefined && session.directedPresence.size === 0) return;
  await publishUnavailable(server, session, presenceOfType('unavailable', session.jid));
}
