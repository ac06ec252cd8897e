/**
 * Anonymous users (RFC 4505) on `[anonymous] domain`: the domain's routing, its service
 * discovery, and the removal at start of anonymous accounts a previous run left behind.
 * The login itself is part of the session (`c2s/anonymous.ts`).
 */
import { type Element, NS, StanzaError, errorReply, x } from '@parley/xmpp';
import { anonymousDomain, sweepAnonymous } from '../../c2s/anonymous.js';
import type { ServerContext } from '../../core/context.js';
import type { StanzaEvent } from '../../core/events.js';
import { defineModule } from '../../core/module.js';
import { validateRequest } from '../../core/iq.js';
import { hostItems } from '../disco/info.js';

const HOST_FEATURES = [NS.DISCO_INFO, NS.DISCO_ITEMS, NS.PING];

/** Answers the stanzas sent to the anonymous domain itself: disco#info, disco#items (the server's services) and ping. */
function handleHostStanza(server: ServerContext, event: StanzaEvent): void {
  const { stanza } = event;
  const type = stanza.attr('type');
  if (stanza.name === 'presence' || type === 'error' || type === 'result') return;
  if (stanza.name !== 'iq') {
    server.router.bounce(stanza, new StanzaError('service-unavailable', 'The anonymous domain does not accept messages.'));
    return;
  }

  const invalid = validateRequest(stanza);
  const answer = invalid ?? hostAnswer(server, stanza.elements()[0]!, type);
  const reply = answer instanceof StanzaError ? errorReply(stanza, answer) : x('iq', NS.CLIENT, { type: 'result', id: stanza.attr('id') }, answer ?? undefined);
  reply.attrs.from = event.to.toString();
  reply.attrs.to = event.from.toString();
  void server.router.route(reply, event.to, event.from).catch((err: unknown) => server.log.error({ err }, 'routing a reply failed'));
}

function hostAnswer(server: ServerContext, payload: Element, type: string | undefined): Element | StanzaError | null {
  if (type !== 'get' || payload.attr('node') !== undefined) return new StanzaError('service-unavailable');
  if (payload.ns === NS.PING && payload.name === 'ping') return null;
  if (payload.ns === NS.DISCO_ITEMS && payload.name === 'query') return hostItems(server.disco);
  if (payload.ns !== NS.DISCO_INFO || payload.name !== 'query') return new StanzaError('service-unavailable');
  return x(
    'query',
    NS.DISCO_INFO,
    {},
    x('identity', NS.DISCO_INFO, { category: 'server', type: 'im', name: 'Parley (anonymous users)' }),
    ...HOST_FEATURES.map((feature) => x('feature', NS.DISCO_INFO, { var: feature })),
  );
}

export const anonymousModule = defineModule({
  name: 'anonymous',
  specs: [{ spec: 'RFC 4505', status: 'complete', note: 'on [anonymous] domain only; accounts last as long as their session' }],
  async setup(ctx) {
    const { server } = ctx;
    const domain = anonymousDomain(server);
    if (domain === undefined) return;

    const swept = await sweepAnonymous(server);
    if (swept > 0) ctx.log.info({ accounts: swept }, 'anonymous accounts of an earlier run removed');
    server.router.addEphemeralDomain(domain, (event) => handleHostStanza(server, event));
  },
});
