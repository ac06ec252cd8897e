/** Service discovery (XEP-0030) for the server and its accounts, with the server's entity capabilities (XEP-0115). */
import { NS, StanzaError, x } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { Disco } from '../../core/disco-registry.js';
import type { IqRequest } from '../../core/iq.js';
import { defineModule } from '../../core/module.js';
import { maySeeAccount } from './access.js';
import { CAPS_NODE, capsElement, capsHash } from './caps.js';
import { accountInfo, hostInfo, hostItems } from './info.js';

/** The last 'ver' of each registry, with the registry's state it was computed from. */
const capsCache = new WeakMap<Disco, { state: string; ver: string }>();

/**
 * Returns the server's current XEP-0115 'ver', computed from the disco#info it returns.
 * Every stream's features carry it, so it is computed again only when a feature, an
 * identity or an extension form changed.
 */
export function hostCapsVer(server: ServerContext): string {
  const { disco } = server;
  const forms = disco.hostExtensions.map((build) => build());
  const state = [[...disco.hostFeatures].join('\n'), JSON.stringify(disco.hostIdentities), forms.join('')].join('\u0000');
  const cached = capsCache.get(disco);
  if (cached?.state === state) return cached.ver;

  const ver = capsHash(hostInfo(disco));
  capsCache.set(disco, { state, ver });
  return ver;
}

function answerHostInfo(server: ServerContext, { payload }: IqRequest) {
  const node = payload.attr('node');
  if (node === undefined) return hostInfo(server.disco);
  if (node === `${CAPS_NODE}#${hostCapsVer(server)}`) return hostInfo(server.disco, node);
  throw new StanzaError('item-not-found', `The server has no disco node "${node}".`);
}

function answerHostItems(server: ServerContext, { payload }: IqRequest) {
  const node = payload.attr('node');
  if (node !== undefined) throw new StanzaError('item-not-found', `The server has no disco node "${node}".`);
  return hostItems(server.disco);
}

async function answerAccountInfo(server: ServerContext, request: IqRequest) {
  // The same error as for an account that does not exist, so that nothing is revealed.
  if (!(await maySeeAccount(server, request))) throw new StanzaError('service-unavailable');
  const node = request.payload.attr('node');
  if (node === undefined) return accountInfo(server.disco);
  for (const provider of server.disco.accountNodeProviders) {
    const info = await provider.info(request, node);
    if (info !== undefined) return info;
  }
  throw new StanzaError('item-not-found', `The account has no disco node "${node}".`);
}

/** Lists the account's nodes that the requester may see; strangers get at most the nodes open to everyone (XEP-0030 section 8). */
async function answerAccountItems(server: ServerContext, request: IqRequest) {
  const node = request.payload.attr('node');
  if (node !== undefined) throw new StanzaError('item-not-found', `The account has no disco node "${node}".`);
  const query = x('query', NS.DISCO_ITEMS);
  for (const provider of server.disco.accountNodeProviders) query.append(...(await provider.items(request)));
  return query;
}

export const discoModule = defineModule({
  name: 'disco',
  specs: [
    { spec: 'XEP-0030', version: '2.5.0', status: 'complete', note: 'accounts answer strangers with service-unavailable (info) and an empty list (items)' },
    { spec: 'XEP-0115', version: '1.6.0', status: 'partial', note: 'the server advertises its own caps; the pep module learns and caches the caps of clients' },
    { spec: 'XEP-0128', version: '1.0.1', status: 'complete' },
  ],
  setup(ctx) {
    const { server } = ctx;
    server.disco.addHostFeature(NS.DISCO_INFO, NS.DISCO_ITEMS, NS.CAPS);
    server.disco.addAccountFeature(NS.DISCO_INFO, NS.DISCO_ITEMS);

    ctx.iq('get', 'host', NS.DISCO_INFO, 'query', (request) => answerHostInfo(server, request));
    ctx.iq('get', 'host', NS.DISCO_ITEMS, 'query', (request) => answerHostItems(server, request));
    ctx.iq('get', 'account', NS.DISCO_INFO, 'query', (request) => answerAccountInfo(server, request));
    ctx.iq('get', 'account', NS.DISCO_ITEMS, 'query', (request) => answerAccountItems(server, request));

    // XEP-0115 section 6.3: the caps of the server, so that clients can skip a disco#info request.
    server.streamFeatures.addPostAuth(() => capsElement(hostCapsVer(server)));
  },
});
