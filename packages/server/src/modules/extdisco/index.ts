/** External service discovery (XEP-0215) on the server's domain: STUN and TURN servers, and the upload service. */
import { defineModule } from '../../core/module.js';
import { NS_EXTDISCO, credentialsResult, servicesResult } from './services.js';

export const extdiscoModule = defineModule({
  name: 'extdisco',
  depends: ['disco'],
  specs: [{ spec: 'XEP-0215', version: '1.0.0', status: 'complete', note: 'configured services, TURN credentials per the TURN REST scheme, no pushes' }],
  setup(ctx) {
    const { server } = ctx;
    server.disco.addHostFeature(NS_EXTDISCO);
    ctx.iq('get', 'host', NS_EXTDISCO, 'services', (request) => servicesResult(server, request));
    ctx.iq('get', 'host', NS_EXTDISCO, 'credentials', (request) => credentialsResult(server, request));
  },
});
