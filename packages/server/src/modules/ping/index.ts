/** XMPP Ping (XEP-0199): the server replies to pings sent to itself and, on an account's behalf, to bare JIDs. */
import { NS, StanzaError } from '@parley/xmpp';
import { defineModule } from '../../core/module.js';
import { maySeeAccount } from '../disco/access.js';

export const pingModule = defineModule({
  name: 'ping',
  specs: [{ spec: 'XEP-0199', version: '2.0.1', status: 'complete' }],
  setup(ctx) {
    const { server } = ctx;
    server.disco.addHostFeature(NS.PING);

    ctx.iq('get', 'host', NS.PING, 'ping', () => undefined);

    // XEP-0199 section 4.2: the server replies to a ping sent to a bare JID. Strangers get the
    // error of a missing account, as for disco#info, so that a ping does not reveal the account.
    ctx.iq('get', 'account', NS.PING, 'ping', async (request) => {
      if (!(await maySeeAccount(server, request))) throw new StanzaError('service-unavailable');
      return undefined;
    });
  },
});
