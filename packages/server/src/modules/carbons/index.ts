/** Message carbons (XEP-0280): every resource of a user sees both sides of its conversations. */
import { StanzaError } from '@parley/xmpp';
import type { IqRequest } from '../../core/iq.js';
import { defineModule } from '../../core/module.js';
import { Carbons } from './carbons.js';
import { setCarbons } from './copies.js';
import { NS_CARBONS } from './ns.js';

/** Runs before archiving and carbons see a forged copy; blocking (1000) still runs first. */
const REJECT_PRIORITY = 900;
/** Runs after blocking and other handlers that may claim the message, before offline storage holds it (-1000). */
const STRIP_PRIVATE_PRIORITY = -500;

/** Enables or disables carbons for the session that sent `request` (XEP-0280 sections 4 and 5). */
function switchCarbons(request: IqRequest, enabled: boolean): void {
  if (!request.self || !request.session) throw new StanzaError('not-allowed', 'Carbons are switched for the sending session only.');
  setCarbons(request.session, enabled);
}

export const carbonsModule = defineModule({
  name: 'carbons',
  specs: [
    {
      spec: 'XEP-0280',
      version: '1.0.1',
      status: 'complete',
      note: 'section 6 rules: chat, and normal with body, chat state, receipt or marker; no copies of errors, of messages within one account, or to the recipient of messages with a muc#user element',
    },
  ],
  setup(ctx) {
    const { server } = ctx;
    const carbons = new Carbons(server);
    server.disco.addHostFeature(NS_CARBONS);

    ctx.iq('set', 'account', NS_CARBONS, 'enable', (request) => switchCarbons(request, true));
    ctx.iq('set', 'account', NS_CARBONS, 'disable', (request) => switchCarbons(request, false));
    ctx.on('message/outbound', (event) => carbons.rejectForged(event), REJECT_PRIORITY);
    ctx.on('message/bare', (event) => carbons.stripPrivate(event), STRIP_PRIVATE_PRIORITY);
    ctx.on('message/full', (event) => carbons.stripPrivate(event), STRIP_PRIVATE_PRIORITY);
    ctx.on('message/sent', (event) => carbons.copySent(event));
    ctx.on('message/routed', (event) => carbons.copyReceived(event));
  },
});
