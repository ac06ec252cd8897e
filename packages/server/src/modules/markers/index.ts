/**
 * Chat markers (XEP-0333) as read positions, and Parley's group read receipts. The router
 * and the archive handle markers like any message. This module turns the displayed and
 * acknowledged markers a user sends into `read/position` events, and reports which
 * members have read a room message.
 */
import { defineModule } from '../../core/module.js';
import { onMessageSent } from './displayed.js';
import { handleGroupReceipts } from './group-receipts.js';
import { NS_GROUP_RECEIPTS } from './ns.js';

export const markersModule = defineModule({
  name: 'markers',
  depends: ['mam'],
  specs: [
    { spec: 'XEP-0333', version: '0.4', status: 'complete', note: 'markers are routed, carbon-copied and archived; displayed and acknowledged markers move the read position' },
  ],
  setup(ctx) {
    const { server } = ctx;
    server.disco.addAccountFeature(NS_GROUP_RECEIPTS);
    ctx.on('message/sent', (event) => onMessageSent(server, event));
    ctx.iq('get', 'account', NS_GROUP_RECEIPTS, 'query', (request) => handleGroupReceipts(server, request));
  },
});
