import { NS, x } from '@parley/xmpp';
import { defineModule } from '../../core/module.js';
import { handleRosterGet } from './get.js';
import { ROSTER_PUSH_EVENT, receiveRelayedPush } from './push.js';
import { handleRosterSet } from './set.js';

export { isRosterItem, rosterItems } from './records.js';
export { updateRecord } from './store.js';
export type { RecordChange, RecordEdit } from './store.js';

/** Roster management (RFC 6121 section 2) with roster versioning (section 2.6). */
export const rosterModule = defineModule({
  name: 'roster',
  specs: [{ spec: 'RFC 6121', status: 'complete', note: 'section 2: roster get, set, remove, pushes and versioning' }],
  setup(ctx) {
    const { server } = ctx;
    ctx.iq('get', 'account', NS.ROSTER, 'query', (request) => handleRosterGet(server, request));
    ctx.iq('set', 'account', NS.ROSTER, 'query', (request) => handleRosterSet(server, request));
    server.streamFeatures.addPostAuth(() => x('ver', NS.ROSTER_VER));
    server.cluster?.onAccountEvent(ROSTER_PUSH_EVENT, (user, data) => receiveRelayedPush(server, user, data));
  },
});
