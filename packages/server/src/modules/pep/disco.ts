/** Service discovery of PEP (XEP-0163 section 6): the account's nodes and the info of each node. */
import { type Element, NS, buildForm, x } from '@parley/xmpp';
import type { AccountNodeProvider } from '../../core/disco-registry.js';
import type { IqRequest } from '../../core/iq.js';
import { accessError, loadRelation } from './access.js';
import { NS_PUBSUB, pubsubFeature } from './ns.js';
import type { PepNode, PepService } from './service.js';

/** The XEP-0060 features this PEP service supports, announced on the account and the domain. */
export const PEP_FEATURES = [
  NS_PUBSUB,
  ...[
    'access-open',
    'access-presence',
    'access-roster',
    'access-whitelist',
    'auto-create',
    'auto-subscribe',
    'config-node',
    'create-and-configure',
    'create-nodes',
    'delete-nodes',
    'filtered-notifications',
    'item-ids',
    'last-published',
    'persistent-items',
    'presence-notifications',
    'publish',
    'publish-options',
    'purge-nodes',
    'retract-items',
    'retrieve-affiliations',
    'retrieve-default',
    'retrieve-items',
  ].map(pubsubFeature),
];

/** Builds the disco#info of a node (XEP-0060 section 5.3): a leaf node with its title in the meta-data form. */
function nodeInfo(node: PepNode): Element {
  const metadata = buildForm({
    type: 'result',
    fields: [
      { var: 'FORM_TYPE', type: 'hidden', values: ['http://jabber.org/protocol/pubsub#meta-data'] },
      { var: 'pubsub#access_model', values: [node.config.accessModel] },
      { var: 'pubsub#title', values: [node.config.title] },
    ],
  });
  return x(
    'query',
    NS.DISCO_INFO,
    { node: node.name },
    x('identity', NS.DISCO_INFO, { category: 'pubsub', type: 'leaf' }),
    x('feature', NS.DISCO_INFO, { var: NS_PUBSUB }),
    metadata,
  );
}

/** Lists to each requester the nodes it may read, as XEP-0163 section 6.2 requires. */
export function pepDiscoProvider(service: PepService): AccountNodeProvider {
  const visible = async (request: IqRequest): Promise<PepNode[]> => {
    const relation = await loadRelation(service.server, request.to, request.from);
    const nodes = await service.nodes(request.to);
    return nodes.filter((node) => accessError(node.config, relation) === undefined);
  };

  return {
    async items(request) {
      const jid = request.to.bare().toString();
      return (await visible(request)).map((node) => x('item', NS.DISCO_ITEMS, { jid, node: node.name, name: node.config.title || undefined }));
    },
    async info(request, name) {
      const node = (await visible(request)).find((candidate) => candidate.name === name);
      return node === undefined ? undefined : nodeInfo(node);
    },
  };
}
