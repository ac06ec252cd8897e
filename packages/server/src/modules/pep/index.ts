/** Personal eventing (XEP-0163) over publish-subscribe (XEP-0060), with native bookmarks (XEP-0402) and displayed synchronization (XEP-0490). */
import { type Element, StanzaError } from '@parley/xmpp';
import type { IqRequest } from '../../core/iq.js';
import { defineModule } from '../../core/module.js';
import { ClientCaps } from './client-caps.js';
import { PEP_FEATURES, pepDiscoProvider } from './disco.js';
import { pubsubError } from './errors.js';
import { NOTIFICATION_ID_PREFIX } from './events.js';
import { NS_BOOKMARKS_COMPAT, NS_PUBSUB, NS_PUBSUB_OWNER, pubsubFeature } from './ns.js';
import { configureNode, createNode, defaultOptions, deleteNode, purgeNode } from './owner.js';
import { PresenceTracker } from './presence.js';
import { PEP_NOTIFY_EVENT, receiveRelayedNotification } from './remote.js';
import { publish, retract } from './publish.js';
import { getAffiliations, getItems, getSubscriptions } from './retrieve.js';
import { PepService } from './service.js';
import { syncBookmarks } from './bookmarks.js';
import { syncDisplayed } from './mds.js';
import { syncAvatars } from './avatar.js';

/** Caps replies and notification errors are claimed after blocking (1000) has seen them. */
const HOOK_PRIORITY = 500;

/** Returns the one element of a pubsub request that names the action, leaving out options that go with it. */
function actionOf(request: IqRequest, options: string[]): Element {
  const actions = request.payload.elements().filter((child) => !options.includes(child.name));
  if (actions.length !== 1) throw new StanzaError('bad-request', `A <${request.payload.name}/> request needs exactly one action element.`);
  return actions[0]!;
}

function unsupported(action: string): StanzaError {
  return pubsubError('feature-not-implemented', 'unsupported', `This PEP service does not support <${action}/>.`, pubsubFeature(action));
}

async function handlePubsubSet(service: PepService, request: IqRequest): Promise<Element | undefined> {
  const action = actionOf(request, ['publish-options', 'configure']);
  if (action.ns !== NS_PUBSUB) throw new StanzaError('bad-request', 'Unknown pubsub action.');
  switch (action.name) {
    case 'publish':
      return publish(service, request, action);
    case 'retract':
      await retract(service, request, action);
      return undefined;
    case 'create':
      await createNode(service, request, action);
      return undefined;
    default:
      // TODO: explicit subscriptions (XEP-0060 section 6.1) for entities without a presence subscription.
      throw unsupported(action.name);
  }
}

async function handlePubsubGet(service: PepService, request: IqRequest): Promise<Element> {
  const action = actionOf(request, []);
  switch (action.name) {
    case 'items':
      return getItems(service, request, action);
    case 'affiliations':
      return getAffiliations(service, request, action);
    case 'subscriptions':
      return getSubscriptions();
    default:
      throw unsupported(action.name);
  }
}

async function handleOwner(service: PepService, request: IqRequest, type: 'get' | 'set'): Promise<Element | undefined> {
  const action = actionOf(request, []);
  if (action.name === 'configure') return configureNode(service, request, action, type);
  if (action.name === 'default' && type === 'get') return defaultOptions(action);
  if (action.name === 'delete' && type === 'set') {
    await deleteNode(service, request, action);
    return undefined;
  }
  if (action.name === 'purge' && type === 'set') {
    await purgeNode(service, request, action);
    return undefined;
  }
  throw unsupported(action.name);
}

export const pepModule = defineModule({
  name: 'pep',
  depends: ['disco', 'roster', 'presence', 'private'],
  specs: [
    { spec: 'XEP-0163', version: '1.2.2', status: 'partial', note: 'no explicit subscriptions; local contacts only' },
    { spec: 'XEP-0060', version: '1.26.0', status: 'partial', note: 'the PEP subset: publish, retract, items, create, configure, delete, purge; the whitelist is the owner alone' },
    { spec: 'XEP-0223', version: '1.1.1', status: 'complete' },
    { spec: 'XEP-0402', version: '1.2.0', status: 'complete', note: 'with #compat: XEP-0048 private storage bookmarks kept in sync' },
    { spec: 'XEP-0084', version: '1.1.4', status: 'complete', note: 'through generic PEP; the server publishes avatars set through the profile or the vCard (XEP-0398)' },
    { spec: 'XEP-0172', version: '1.1', status: 'complete', note: 'through generic PEP' },
    { spec: 'XEP-0490', version: '1.0.1', status: 'complete', note: 'client positions move the read position; the server publishes positions moved by chat markers and the inbox' },
  ],
  setup(ctx) {
    const { server } = ctx;
    const { pep } = server.config;
    const service = new PepService(server, new ClientCaps(server), {
      maxItemBytes: pep.max_item_bytes,
      maxItemsPerNode: pep.max_items_per_node,
      maxNodesPerAccount: pep.max_nodes_per_account,
    });
    const presence = new PresenceTracker(service);
    server.cluster?.onAccountEvent(PEP_NOTIFY_EVENT, (owner, data) => receiveRelayedNotification(service, owner, data));

    server.disco.accountIdentities.push({ category: 'pubsub', type: 'pep' });
    server.disco.addAccountFeature(...PEP_FEATURES, NS_BOOKMARKS_COMPAT);
    server.disco.hostIdentities.push({ category: 'pubsub', type: 'pep' });
    server.disco.addHostFeature(...PEP_FEATURES);
    server.disco.accountNodeProviders.push(pepDiscoProvider(service));

    ctx.iq('set', 'account', NS_PUBSUB, 'pubsub', (request) => handlePubsubSet(service, request));
    ctx.iq('get', 'account', NS_PUBSUB, 'pubsub', (request) => handlePubsubGet(service, request));
    ctx.iq('set', 'account', NS_PUBSUB_OWNER, 'pubsub', (request) => handleOwner(service, request, 'set'));
    ctx.iq('get', 'account', NS_PUBSUB_OWNER, 'pubsub', (request) => handleOwner(service, request, 'get'));

    ctx.on('presence/outbound', (event) => presence.observe(event), HOOK_PRIORITY);
    ctx.on('iq/outbound', ({ session, stanza, to }) => to?.local === '' && to.domain === server.config.domain && service.caps.handleReply(session, stanza), HOOK_PRIORITY);
    ctx.on('session/closed', ({ session }) => service.caps.forget(session));
    // XEP-0163 section 4.3.1: errors about a notification go to the owner's bare JID, and the service takes them.
    ctx.on('message/bare', ({ stanza }) => stanza.attr('type') === 'error' && (stanza.attr('id') ?? '').startsWith(NOTIFICATION_ID_PREFIX), HOOK_PRIORITY);
    ctx.on('account/deleted', async ({ host, username }) => {
      await server.storage.pep.deleteAccount(host, username);
    });

    syncBookmarks(ctx, service);
    syncDisplayed(ctx, service);
    syncAvatars(ctx, service);
  },
});
