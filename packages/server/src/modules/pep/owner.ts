/** Node creation and the owner use cases of XEP-0060 section 8: configure, default options, purge and delete. */
import { type DataForm, type Element, NS, StanzaError, buildForm, getFormType, parseForm, x } from '@parley/xmpp';
import type { IqRequest } from '../../core/iq.js';
import { applyConfigForm, buildConfigForm, defaultConfig, effectiveMaxItems } from './config.js';
import { nodeNotFound, ownerOnly, pubsubError } from './errors.js';
import { FORM_NODE_CONFIG, NS_PUBSUB, NS_PUBSUB_EVENT, NS_PUBSUB_OWNER } from './ns.js';
import { requireNode } from './publish.js';
import type { PepNode, PepService } from './service.js';

/** Reads the submitted form of `<configure/>`; undefined when there is none or the owner cancelled. */
function readConfigForm(configure: Element | undefined): DataForm | undefined {
  const element = configure?.getChild('x', NS.DATA_FORMS);
  if (element === undefined) return undefined;
  const form = parseForm(element);
  if (form.type === 'cancel') return undefined;
  const formType = getFormType(form);
  if (formType !== undefined && formType !== FORM_NODE_CONFIG) throw pubsubError('bad-request', 'invalid-options', `The configuration form needs FORM_TYPE ${FORM_NODE_CONFIG}.`);
  return form;
}

async function requireOwnedNode(service: PepService, request: IqRequest, element: Element, action: string): Promise<PepNode> {
  if (!request.self) throw ownerOnly(action);
  const name = requireNode(element);
  const node = await service.node(request.to, name);
  if (node === undefined) throw nodeNotFound(name);
  return node;
}

/** Handles `<create/>` with an optional `<configure/>` (XEP-0060 section 8.1). PEP has no instant nodes. */
export async function createNode(service: PepService, request: IqRequest, create: Element): Promise<void> {
  if (!request.self) throw ownerOnly('create');
  const name = requireNode(create);
  const owner = request.to;
  const form = readConfigForm(request.payload.getChild('configure', NS_PUBSUB));
  const config = form === undefined ? defaultConfig(name) : applyConfigForm(defaultConfig(name), form, service.limits);

  const count = await service.server.storage.pep.countNodes(owner.domain, owner.local);
  if (count >= service.limits.maxNodesPerAccount) {
    throw pubsubError('not-allowed', 'max-nodes-exceeded', `The account has ${count} nodes, the limit; delete one to create "${name}".`);
  }
  if (!(await service.server.storage.pep.createNode(owner.domain, owner.local, name, JSON.stringify(config)))) {
    throw new StanzaError('conflict', `The node "${name}" exists already.`);
  }
}

/** Handles `<configure/>` in the owner namespace: a get returns the form, a set applies it (XEP-0060 sections 8.2.1 and 8.2.4). */
export async function configureNode(service: PepService, request: IqRequest, configure: Element, type: 'get' | 'set'): Promise<Element | undefined> {
  const node = await requireOwnedNode(service, request, configure, 'configure');
  if (type === 'get') {
    return x('pubsub', NS_PUBSUB_OWNER, {}, x('configure', NS_PUBSUB_OWNER, { node: node.name }, buildForm(buildConfigForm(node.config))));
  }

  const form = readConfigForm(configure);
  if (form === undefined) {
    if (configure.getChild('x', NS.DATA_FORMS) === undefined) throw new StanzaError('bad-request', 'A configuration request needs a data form.');
    return undefined;
  }
  const config = applyConfigForm(node.config, form, service.limits);
  const keep = config.persistItems ? effectiveMaxItems(config, service.limits) : 0;
  await service.server.storage.pep.configureNode(request.to.domain, request.to.local, node.name, JSON.stringify(config), keep);
  return undefined;
}

/** Handles `<default/>` (XEP-0060 section 8.3): the configuration a new node gets. */
export function defaultOptions(element: Element): Element {
  const name = element.attr('node') ?? '';
  return x('pubsub', NS_PUBSUB_OWNER, {}, x('default', NS_PUBSUB_OWNER, {}, buildForm(buildConfigForm(defaultConfig(name)))));
}

/** Handles `<purge/>` (XEP-0060 section 8.5) and notifies with `<purge/>`. */
export async function purgeNode(service: PepService, request: IqRequest, purge: Element): Promise<void> {
  const node = await requireOwnedNode(service, request, purge, 'purge');
  await service.server.storage.pep.purge(request.to.domain, request.to.local, node.name);
  await service.afterPurge(request.to, node.name);
  await service.notify(request.to, node, () => x('purge', NS_PUBSUB_EVENT, { node: node.name }));
}

/** Handles `<delete/>` (XEP-0060 section 8.4) and notifies with `<delete/>` when the node is configured to. */
export async function deleteNode(service: PepService, request: IqRequest, element: Element): Promise<void> {
  const node = await requireOwnedNode(service, request, element, 'delete');
  await service.server.storage.pep.deleteNode(request.to.domain, request.to.local, node.name);
  await service.afterPurge(request.to, node.name);
  if (node.config.notifyDelete) await service.notify(request.to, node, () => x('delete', NS_PUBSUB_EVENT, { node: node.name }));
}
