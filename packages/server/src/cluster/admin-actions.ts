/** Administrators' actions on one node that end sessions on the others. */
import { JID } from '@parley/xmpp';
import { END_SESSION_EVENT, endSession } from '../admin/routes/sessions.js';
import type { ServerContext } from '../core/context.js';
import { END_SESSIONS_EVENT, endLocalSessions } from '../provisioning/accounts-service.js';
import type { Cluster } from './cluster.js';

/** Ends the sessions here that another node's admin API, import or parleyctl ended: a disabled or deleted account's, or one session. */
export function receiveAdminActions(server: ServerContext, cluster: Cluster): void {
  cluster.onAccountEvent(END_SESSIONS_EVENT, (user, reason) => void endLocalSessions(server, user.local, reason));
  cluster.onAccountEvent(END_SESSION_EVENT, (_user, full) => {
    const session = server.sessions.get(JID.parse(full));
    if (session) endSession(session);
  });
}
