/** In-band registration (XEP-0077): new accounts by `registration.policy`, password change and removal. */
import { NS, x } from '@parley/xmpp';
import { defineModule } from '../../core/module.js';
import { registeredInfo, updateRegistration } from './account.js';
import { handlePreAuthRegister, registrationChannelAllowed } from './pre-auth.js';
import { registrationOf } from './registration.js';

export const registerModule = defineModule({
  name: 'register',
  specs: [
    {
      spec: 'XEP-0077',
      version: '2.4',
      status: 'complete',
      note: 'invite tokens in a data form field "token" or in <key/>; no cancellation or password change forms in error replies',
    },
  ],
  setup(ctx) {
    const { server } = ctx;
    const { registration } = server.config;
    // Password change and removal stay available under every policy.
    server.disco.addHostFeature(NS.REGISTER);

    ctx.preAuthIq(NS.REGISTER, (session, iq) => handlePreAuthRegister(server, registrationOf(server), session, iq));
    // XEP-0077 section 8; not offered before TLS where TLS must come first (RFC 6120 section 5.3.1).
    server.streamFeatures.addPreAuth((session) =>
      registration.policy !== 'closed' && registrationChannelAllowed(session) ? x('register', NS.REGISTER_FEATURE) : undefined,
    );

    for (const target of ['host', 'account'] as const) {
      ctx.iq('get', target, NS.REGISTER, 'query', (request) => registeredInfo(request));
      ctx.iq('set', target, NS.REGISTER, 'query', (request) => updateRegistration(server, ctx.log, request));
    }
  },
});
