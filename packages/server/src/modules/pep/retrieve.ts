/** Retrieving items (XEP-0060 section 6.5) and the requester's own affiliations and subscriptions. */
import { type Element, StanzaError, x } from '@parley/xmpp';
import type { IqRequest } from '../../core/iq.js';
import type { StoredPepItem } from '../../storage/index.js';
import { accessError, loadRelation } from './access.js';
import { nodeNotFound } from './errors.js';
import { NS_PUBSUB } from './ns.js';
import { requireNode } from './publish.js';
import { type PepService, parsePayload } from './service.js';

/** Reads max_items: a positive integer, or undefined when absent. */
function readMaxItems(element: Element): number | undefined {
  const text = element.attr('max_items');
  if (text === undefined) return undefined;
  if (!/^\d{1,9}$/.test(text) || Number(text) < 1) throw new StanzaError('bad-request', `max_items must be a positive integer; "${text}" is not.`);
  return Number(text);
}

function itemElement(item: StoredPepItem): Element {
  return x('item', NS_PUBSUB, { id: item.id }, ...parsePayload(item.payload));
}

/**
 * Handles `<items/>`: all items, the newest max_items, or the items with the ids asked
 * for, after the node's access check. Items come in publication order, oldest first.
 */
export async function getItems(service: PepService, request: IqRequest, element: Element): Promise<Element> {
  const name = requireNode(element);
  const owner = request.to.bare();
  const node = await service.node(owner, name);
  if (node === undefined) throw nodeNotFound(name);

  const denied = accessError(node.config, await loadRelation(service.server, owner, request.from));
  if (denied) throw denied;

  const { pep } = service.server.storage;
  const ids = element.getChildren('item', NS_PUBSUB).flatMap((item) => item.attr('id') ?? []);
  let items: StoredPepItem[];
  if (ids.length > 0) {
    items = await pep.itemsById(owner.domain, owner.local, name, ids);
    if (items.length === 0) throw new StanzaError('item-not-found', `The node "${name}" has no item with id ${ids.join(', ')}.`);
  } else {
    // TODO: page with result set management (XEP-0059) as XEP-0060 section 6.5.4 allows.
    items = await pep.items(owner.domain, owner.local, name, readMaxItems(element));
  }
  return x('pubsub', NS_PUBSUB, {}, x('items', NS_PUBSUB, { node: name }, ...items.map(itemElement)));
}

/** Handles `<affiliations/>` (XEP-0060 section 5.7): the owner owns every node, others have no affiliation. */
export async function getAffiliations(service: PepService, request: IqRequest, element: Element): Promise<Element> {
  const affiliations = x('affiliations', NS_PUBSUB);
  if (!request.self) return x('pubsub', NS_PUBSUB, {}, affiliations);

  const only = element.attr('node');
  for (const node of await service.nodes(request.to)) {
    if (only === undefined || only === node.name) affiliations.append(x('affiliation', NS_PUBSUB, { node: node.name, affiliation: 'owner' }));
  }
  return x('pubsub', NS_PUBSUB, {}, affiliations);
}

/** Handles `<subscriptions/>` (XEP-0060 section 5.6): PEP subscriptions are implicit, so the list is empty. */
export function getSubscriptions(): Element {
  return x('pubsub', NS_PUBSUB, {}, x('subscriptions', NS_PUBSUB));
}
