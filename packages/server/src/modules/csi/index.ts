/** Client state indication (XEP-0352): an inactive client gets only what it needs at once. */
import { NS, StreamError, x } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import { defineModule } from '../../core/module.js';
import { ClientState } from './state.js';

/** Session data key of a session's ClientState, created at its first indication. */
const STATE_KEY = 'csi.state';

function stateOf(session: ClientSession): ClientState {
  // XEP-0352 section 4: the client indicates its state only after authentication.
  if (!session.authenticated) throw new StreamError('not-authorized', 'Client state indication needs an authenticated stream.');
  let state = session.data.get(STATE_KEY) as ClientState | undefined;
  if (!state) {
    state = new ClientState(session);
    session.data.set(STATE_KEY, state);
  }
  return state;
}

export const csiModule = defineModule({
  name: 'csi',
  specs: [
    {
      spec: 'XEP-0352',
      version: '1.0.0',
      status: 'complete',
      note: 'while inactive, presence updates and chat states wait (the latest per sender); messages with content, receipts and IQs go out at once',
    },
  ],
  setup(ctx) {
    const { server } = ctx;
    server.streamFeatures.addPostAuth(() => x('csi', NS.CSI));
    server.streamElements.register(NS.CSI, 'inactive', (session) => stateOf(session).setInactive());
    server.streamElements.register(NS.CSI, 'active', (session) => stateOf(session).setActive());
    // XEP-0352 section 5.2: a resumed stream starts active again.
    ctx.on('session/resumed', ({ session }) => {
      (session.data.get(STATE_KEY) as ClientState | undefined)?.setActive();
    });
  },
});
