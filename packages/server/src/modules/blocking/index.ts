/** Blocking command (XEP-0191): a user stops all communication with chosen addresses. */
import { JID } from '@parley/xmpp';
import { defineModule } from '../../core/module.js';
import type { ModuleContext } from '../../core/module.js';
import { BLOCK_CHANGE_EVENT, type BlockingContext, block, getBlocklist, receiveRelayedChange, unblock } from './commands.js';
import { BlockFilter } from './filter.js';
import { BlockLists } from './lists.js';
import { NS_BLOCKING } from './ns.js';

/** Blocking runs before every other routing handler, so that no other module handles a blocked stanza. */
const BLOCKING_PRIORITY = 1000;

function registerFilter(ctx: ModuleContext, filter: BlockFilter): void {
  for (const name of ['message/outbound', 'presence/outbound', 'iq/outbound'] as const) {
    ctx.on(name, (event) => filter.outbound(event), BLOCKING_PRIORITY);
  }
  for (const name of ['message/bare', 'message/full', 'presence/bare', 'presence/full', 'iq/bare', 'iq/full'] as const) {
    ctx.on(name, (event) => filter.inbound(event), BLOCKING_PRIORITY);
  }
  ctx.on('stored/deliver', (event) => filter.stored(event), BLOCKING_PRIORITY);
}

export const blockingModule = defineModule({
  name: 'blocking',
  depends: ['roster', 'presence'],
  specs: [
    {
      spec: 'XEP-0191',
      version: '1.3',
      status: 'complete',
      note: 'local accounts only; no privacy lists (XEP-0016); presence is withdrawn from local subscribers and directed-presence addresses',
    },
  ],
  setup(ctx) {
    const { server } = ctx;
    const lists = new BlockLists(server.storage.blocklist);
    const blocking: BlockingContext = { server, lists, filter: new BlockFilter(server, lists) };
    server.disco.addHostFeature(NS_BLOCKING);

    ctx.iq('get', 'account', NS_BLOCKING, 'blocklist', (request) => getBlocklist(blocking, request));
    ctx.iq('set', 'account', NS_BLOCKING, 'block', (request) => block(blocking, request));
    ctx.iq('set', 'account', NS_BLOCKING, 'unblock', (request) => unblock(blocking, request));
    registerFilter(ctx, blocking.filter);
    server.cluster?.onAccountEvent(BLOCK_CHANGE_EVENT, (user, data) => receiveRelayedChange(blocking, user, data));
    ctx.on('account/deleted', ({ host, username }) => {
      lists.forget(JID.fromParts(username, host));
    });
  },
});
