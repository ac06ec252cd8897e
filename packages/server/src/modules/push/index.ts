/**
 * Push notifications (XEP-0357): a client enables an app server's pubsub node, and the
 * server publishes a summary there for messages its session cannot receive now, because
 * the session hibernates (XEP-0198) or is gone. Which messages and devices are notified is
 * described in importance.ts and triggers.ts.
 */
import { defineModule } from '../../core/module.js';
import { NS_PUSH } from './ns.js';
import { PushPublisher } from './publisher.js';
import { disablePush, enablePush, remoteDisable } from './registration.js';
import { PushRegistry } from './registry.js';
import { PushSummaries } from './summaries.js';
import { PushTriggers } from './triggers.js';

/** Priority of the handler that claims app server replies; only blocking (1000) runs before it. */
const REPLY_PRIORITY = 500;
/** Claims an app server's affiliation notice before it reaches the account's sessions or offline storage. */
const NOTICE_PRIORITY = 500;

export const pushModule = defineModule({
  name: 'push',
  specs: [
    {
      spec: 'XEP-0357',
      version: '0.4.1',
      status: 'complete',
      note: 'summary form with message-count and last-message-sender, last-message-body only with [push] include_body; no pending-subscription-count',
    },
  ],
  depends: ['offline'],
  async setup(ctx) {
    const { server } = ctx;
    const config = server.config.push;
    if (!config.enabled) return;

    const registry = new PushRegistry(server);
    await registry.load();
    // NOTE: the server has no stop hook for modules; waiting notifications use unref'ed timers and are lost at shutdown.
    const publisher = new PushPublisher(server, ctx.log, registry, { timeoutMs: config.timeout_ms, maxFailures: config.max_failures });
    const summaries = new PushSummaries({ minIntervalMs: config.min_interval_ms, includeBody: config.include_body }, (account, registration, summary) =>
      publisher.publish(account, registration, summary),
    );
    registry.onRemoved((account, key) => summaries.forget(account, key));
    const triggers = new PushTriggers(registry, summaries, ctx.log);
    server.disco.addAccountFeature(NS_PUSH);

    const domain = server.config.domain;
    ctx.iq('set', 'account', NS_PUSH, 'enable', (request) => enablePush(registry, summaries, request, domain, config.max_registrations));
    ctx.iq('set', 'account', NS_PUSH, 'disable', (request) => disablePush(registry, request));

    ctx.on('message/routed', (event) => triggers.routed(event));
    ctx.on('muc/message', (event) => triggers.group(event));
    ctx.on('session/hibernated', ({ session, unacked }) => triggers.hibernated(session, unacked));
    ctx.on('iq/bare', (event) => publisher.handleReply(event), REPLY_PRIORITY);
    ctx.on('message/bare', (event) => remoteDisable(registry, event), NOTICE_PRIORITY);
    ctx.on('session/resumed', ({ session }) => {
      for (const key of registry.devicesOf(session)) summaries.reset(session.jid!.bare(), key);
    });
    ctx.on('account/deleted', (event) => registry.accountDeleted(event.username));
  },
});
