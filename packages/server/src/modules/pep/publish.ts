/** Publishing an item (XEP-0060 section 7.1) to a PEP node, with auto-create and publish options. */
import { randomUUID } from 'node:crypto';
import { type DataForm, type Element, type JID, NS, StanzaError, getFormType, parseForm, serialize, x } from '@parley/xmpp';
import type { IqRequest } from '../../core/iq.js';
import { type NodeConfig, checkPreconditions, configFromPublishOptions, effectiveMaxItems } from './config.js';
import { nodeNotFound, ownerOnly, pubsubError } from './errors.js';
import { retractEvent } from './events.js';
import { FORM_PUBLISH_OPTIONS, NS_PUBSUB } from './ns.js';
import { type PepService, eventItems } from './service.js';

/** An item that a publish request carries. */
export interface PublishedItem {
  id: string;
  payload: Element;
}

/** Reads the node attribute of a pubsub request element; throws bad-request with nodeid-required when it is missing. */
export function requireNode(element: Element): string {
  const node = element.attr('node');
  if (!node) throw pubsubError('bad-request', 'nodeid-required', `<${element.name}/> needs a node attribute.`);
  return node;
}

/** Reads the single `<item/>` of `<publish/>` with its single payload (XEP-0060 sections 7.1.3.5 to 7.1.3.7). */
export function readPublishedItem(service: PepService, publish: Element): PublishedItem {
  const items = publish.getChildren('item', NS_PUBSUB);
  if (items.length === 0) throw pubsubError('bad-request', 'item-required', 'A PEP publish needs an <item/> with a payload.');
  if (items.length > 1) throw pubsubError('bad-request', 'invalid-payload', 'A publish may carry one item only.');

  const item = items[0]!;
  const payloads = item.elements();
  if (payloads.length === 0) throw pubsubError('bad-request', 'payload-required', 'The item needs a payload element.');
  if (payloads.length > 1) throw pubsubError('bad-request', 'invalid-payload', 'An item may carry one payload element only.');

  const payload = payloads[0]!;
  const bytes = Buffer.byteLength(serialize(payload), 'utf8');
  if (bytes > service.limits.maxItemBytes) {
    throw pubsubError('not-acceptable', 'payload-too-big', `The payload has ${bytes} bytes, more than the limit of ${service.limits.maxItemBytes}.`);
  }
  return { id: item.attr('id') || randomUUID(), payload };
}

/** Reads `<publish-options/>`; a form with another FORM_TYPE is invalid (XEP-0060 section 7.1.5). */
function readPublishOptions(pubsub: Element): DataForm | undefined {
  const element = pubsub.getChild('publish-options', NS_PUBSUB)?.getChild('x', NS.DATA_FORMS);
  if (element === undefined) return undefined;
  const form = parseForm(element);
  if (getFormType(form) !== FORM_PUBLISH_OPTIONS) throw pubsubError('bad-request', 'invalid-options', `The publish options need FORM_TYPE ${FORM_PUBLISH_OPTIONS}.`);
  return form;
}

/** Finds the node's configuration, or the one that auto-create would give it; checks the preconditions and the node limit. */
async function configForPublish(service: PepService, owner: JID, node: string, options: DataForm | undefined): Promise<{ config: NodeConfig; exists: boolean }> {
  const existing = await service.node(owner, node);
  if (existing !== undefined) {
    if (options !== undefined) checkPreconditions(existing.config, options, service.limits);
    return { config: existing.config, exists: true };
  }

  const count = await service.server.storage.pep.countNodes(owner.domain, owner.local);
  if (count >= service.limits.maxNodesPerAccount) {
    throw pubsubError('not-allowed', 'max-nodes-exceeded', `The account has ${count} nodes, the limit; delete one to create "${node}".`);
  }
  return { config: configFromPublishOptions(node, options, service.limits), exists: false };
}

/** Handles `<publish/>` and returns the result payload with the item id (XEP-0060 section 7.1.2). */
export async function publish(service: PepService, request: IqRequest, element: Element): Promise<Element> {
  if (!request.self) throw ownerOnly('publish to');
  const node = requireNode(element);
  const item = readPublishedItem(service, element);
  const options = readPublishOptions(request.payload);
  const owner = request.to.bare();
  const { config } = await configForPublish(service, owner, node, options);

  const stored = { id: item.id, payload: serialize(item.payload), publisher: request.from.toString(), publishedAt: Date.now() };
  await service.server.storage.pep.publish(owner.domain, owner.local, node, stored, {
    createConfig: JSON.stringify(config),
    maxItems: effectiveMaxItems(config, service.limits),
    persist: config.persistItems,
  });
  await service.afterPublish(owner, node, stored);

  await service.notify(owner, { name: node, config }, () => eventItems(node, [stored], config.deliverPayloads), request.from.toString());
  return x('pubsub', NS_PUBSUB, {}, x('publish', NS_PUBSUB, { node }, x('item', NS_PUBSUB, { id: item.id })));
}

/** Handles `<retract/>` (XEP-0060 section 7.2): deletes items and notifies when the node configuration or the request's notify attribute requires it. */
export async function retract(service: PepService, request: IqRequest, element: Element): Promise<void> {
  if (!request.self) throw ownerOnly('retract items from');
  const name = requireNode(element);
  const ids = element.getChildren('item', NS_PUBSUB).map((item) => item.attr('id'));
  if (ids.length === 0 || ids.some((id) => !id)) throw pubsubError('bad-request', 'item-required', 'A retract needs <item/> elements with an id.');

  const owner = request.to.bare();
  const node = await service.node(owner, name);
  if (node === undefined) throw nodeNotFound(name);

  const retracted: string[] = [];
  for (const id of ids as string[]) {
    if (await service.server.storage.pep.retract(owner.domain, owner.local, name, id)) retracted.push(id);
  }
  if (retracted.length === 0) throw new StanzaError('item-not-found', `The node "${name}" has no item with id ${ids.join(', ')}.`);
  await service.afterRetract(owner, name, retracted);

  const notifyAttr = element.attr('notify');
  if (!node.config.notifyRetract && notifyAttr !== 'true' && notifyAttr !== '1') return;
  for (const id of retracted) await service.notify(owner, node, () => retractEvent(name, id));
}
