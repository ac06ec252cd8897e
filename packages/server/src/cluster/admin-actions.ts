/** Administrators' actions on one node that end sessions on the others. */
import { JID, StreamError } from '@parley/xmpp';
import type { ClientSession } from '../c2s/session.js';
import type { ServerContext } from '../core/context.js';
import { END_SESSIONS_EVENT, endLocalSessions } from '../provisioning/accounts-service.js';
import type { Cluster } from './cluster.js';

/** The cluster event that makes the node of a session end it; its data is the full JID. */
export const END_SESSION_EVENT = 'admin/end-session';

/** Ends a session of this node for an administrator. */
export function endSession(session: ClientSession): void {
  session.closeWithError(new StreamError('policy-violation', 'An administrator ended this session.'));
}

/** Ends the sessions here that another node's admin API, import or parleyctl ended: a disabled or deleted account's, or one session. */
export function receiveAdminActions(server: ServerContext, cluster: Cluster): void {
  cluster.onAccountEvent(END_SESSIONS_EVENT, (user, reason) => void endLocalSessions(server, user.local, reason));
  cluster.onAccountEvent(END_SESSION_EVENT, (_user, full) => {
    const session = server.sessions.get(JID.parse(full));
    if (session) endSession(session);
  });
}
