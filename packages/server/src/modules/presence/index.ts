import { NS, x } from '@parley/xmpp';
import { defineModule } from '../../core/module.js';
import { announceLostSessions } from './lost-node.js';
import { cancelAllSubscriptions, cancelSubscriptions } from './cancel.js';
import { handleInbound } from './inbound.js';
import { handleOutbound } from './outbound.js';
import { endSession } from './session-end.js';

/** Presence broadcast, directed presence, probes and subscriptions (RFC 6121 sections 3 and 4). */
export const presenceModule = defineModule({
  name: 'presence',
  depends: ['roster'],
  specs: [
    {
      spec: 'RFC 6121',
      status: 'partial',
      note: 'sections 3 and 4, Appendix A; contacts on other domains get no probes or presence because there is no server-to-server support',
    },
  ],
  setup(ctx) {
    const { server } = ctx;
    server.cluster?.onNodeLost((jids) => {
      announceLostSessions(server, jids).catch((err: unknown) => ctx.log.error({ err }, 'announcing the sessions of a lost node failed'));
    });
    ctx.on('presence/outbound', (event) => handleOutbound(server, event));
    ctx.on('presence/bare', (event) => handleInbound(server, event));
    ctx.on('presence/full', (event) => handleInbound(server, event));
    ctx.on('session/closed', async ({ session }) => {
      await endSession(server, session);
    });
    ctx.on('roster/removed', async ({ user, item }) => {
      await cancelSubscriptions(server, user, item);
    });
    ctx.on('account/deleted', async ({ host, username }) => {
      await cancelAllSubscriptions(server, host, username);
    });
    // RFC 6121 3.4: pre-approval is always on.
    server.streamFeatures.addPostAuth(() => x('sub', NS.PRE_APPROVAL));
  },
});
