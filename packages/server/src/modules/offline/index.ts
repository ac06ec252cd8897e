/** Offline message storage (XEP-0160) with delayed delivery stamps (XEP-0203). */
import { defineModule } from '../../core/module.js';
import { OfflineMessages } from './messages.js';

/**
 * Priority of the hook that keeps live messages back while stored ones are delivered. It must
 * run after every other `message/bare` and `message/full` handler, right before the router
 * delivers, so that no handler can await between the check and the delivery.
 */
const HOLD_PRIORITY = -1000;

export const offlineModule = defineModule({
  name: 'offline',
  specs: [
    { spec: 'XEP-0160', version: '1.0.1', status: 'complete', note: 'chat-state-only messages are dropped; <no-store/> (XEP-0334) is bounced, or dropped when the server generated the message for the account' },
    { spec: 'XEP-0203', version: '2.0', status: 'complete' },
  ],
  setup(ctx) {
    const { server } = ctx;
    const messages = new OfflineMessages(server, ctx.log);
    server.disco.addHostFeature('msgoffline');

    ctx.on('message/offline', (event) => messages.store(event));
    ctx.on('message/bare', (event) => messages.holdBehindStored(event), HOLD_PRIORITY);
    ctx.on('message/full', (event) => messages.holdBehindStored(event), HOLD_PRIORITY);
    ctx.on('session/initial-presence', ({ session }) => messages.sessionAvailable(session));
  },
});
