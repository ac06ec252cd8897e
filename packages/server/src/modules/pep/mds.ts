/**
 * Message Displayed Synchronization (XEP-0490): each item of the node
 * `urn:xmpp:mds:displayed:0` in a user's PEP contains the user's read position in one
 * conversation, and the item id is the conversation's bare JID. A position a client publishes
 * moves the server's read position (`read/position`). A position the server moved by
 * other means (`inbox/read`) is published on the owner's behalf, so that the owner's other
 * devices get the notification now and find the item when they fetch the node on login.
 */
import { type Element, JID, NS, serialize, x } from '@parley/xmpp';
import type { ModuleContext } from '../../core/module.js';
import type { StoredPepItem } from '../../storage/index.js';
import { isKnownPosition, isLocalRoom, parseConversation } from '../markers/positions.js';
import { KeyedQueue } from '../offline/keyed-queue.js';
import { defaultConfig, effectiveMaxItems } from './config.js';
import { NS_MDS } from './ns.js';
import { type PepService, eventItems, parsePayload } from './service.js';

/** A read position as an item stores it: the stanza id and the archive that issued it. */
export interface DisplayedPosition {
  stanzaId: string;
  by: string;
}

/** Reads `<displayed><stanza-id id by/></displayed>`, or returns undefined for any other payload. */
export function readDisplayed(payload: Element | undefined): DisplayedPosition | undefined {
  if (payload?.name !== 'displayed' || payload.ns !== NS_MDS) return undefined;
  const stanzaId = payload.getChild('stanza-id', NS.STANZA_ID);
  const id = stanzaId?.attr('id');
  const by = stanzaId?.attr('by');
  if (!id || !by) return undefined;
  return { stanzaId: id, by };
}

export function displayedElement(position: DisplayedPosition): Element {
  return x('displayed', NS_MDS, {}, x('stanza-id', NS.STANZA_ID, { id: position.stanzaId, by: position.by }));
}

/** Returns the archive whose ids name positions in `conversation`: the room's for a room, the owner's own otherwise (XEP-0490 section 4). */
function archiveOf(service: PepService, owner: JID, conversation: JID): string {
  return (isLocalRoom(service.server, conversation) ? conversation : owner.bare()).toString();
}

/** Fires `read/position` for an item a client published, when it names a message of that conversation. */
async function positionPublished(service: PepService, owner: JID, item: StoredPepItem): Promise<void> {
  const { server } = service;
  const conversation = parseConversation(item.id);
  const position = readDisplayed(parsePayload(item.payload)[0]);
  if (conversation === undefined || position === undefined) return;
  if (position.by !== archiveOf(service, owner, conversation)) return;
  if (!(await isKnownPosition(server, owner.bare(), conversation, position.stanzaId))) return;
  await server.hooks.fire('read/position', { owner: owner.bare(), conversation, stanzaId: position.stanzaId, source: 'mds' });
}

/** True when the node already contains `position` or a later one for `conversation`. */
async function holdsPosition(service: PepService, owner: JID, conversation: JID, position: DisplayedPosition): Promise<boolean> {
  const [item] = await service.server.storage.pep.itemsById(owner.domain, owner.local, NS_MDS, [conversation.toString()]);
  const current = item === undefined ? undefined : readDisplayed(parsePayload(item.payload)[0]);
  return current !== undefined && current.by === position.by && current.stanzaId >= position.stanzaId;
}

/** Publishes `stanzaId` as the owner's position in `conversation` and notifies the owner's sessions, unless the node contains it already. */
export async function publishPosition(service: PepService, owner: JID, conversation: JID, stanzaId: string): Promise<void> {
  const position = { stanzaId, by: archiveOf(service, owner, conversation) };
  if (await holdsPosition(service, owner, conversation, position)) return;

  const { pep } = service.server.storage;
  const existing = await service.node(owner, NS_MDS);
  if (existing === undefined && (await pep.countNodes(owner.domain, owner.local)) >= service.limits.maxNodesPerAccount) {
    service.server.log.warn({ owner: owner.toString() }, 'no room for the displayed synchronization node: the account has as many PEP nodes as allowed');
    return;
  }
  const node = existing ?? { name: NS_MDS, config: defaultConfig(NS_MDS) };
  const item = { id: conversation.toString(), payload: serialize(displayedElement(position)), publisher: owner.toString(), publishedAt: Date.now() };
  const options = {
    createConfig: JSON.stringify(node.config),
    maxItems: effectiveMaxItems(node.config, service.limits),
    persist: node.config.persistItems,
    nodeExists: existing !== undefined,
  };
  await pep.publish(owner.domain, owner.local, NS_MDS, item, options);
  await service.notify(owner, node, () => eventItems(NS_MDS, [item], node.config.deliverPayloads));
}

/** Registers both directions of the synchronisation. */
export function syncDisplayed(ctx: ModuleContext, service: PepService): void {
  service.listeners.push({
    published: async (owner, node, item) => {
      if (node !== NS_MDS) return;
      try {
        await positionPublished(service, owner, item);
      } catch (err) {
        // The item is stored; a failing read position must not turn the publish into an error.
        ctx.log.error({ err, owner: owner.toString() }, 'moving the read position to a published displayed position failed');
      }
    },
  });

  // One owner's positions are published one at a time, so that a slower earlier publish cannot overwrite a later position.
  const queue = new KeyedQueue();
  const waiting = new Map<string, WaitingPublish>();
  ctx.on('inbox/read', ({ owner, conversation, stanzaId }) => {
    const account = owner.bare();
    const peer = conversation.bare();
    const key = `${account.toString()} ${peer.toString()}`;

    // Each reply in a busy chat moves the position, so a publish that is still waiting takes the newest one instead of queueing another.
    const queued = waiting.get(key);
    if (queued) {
      queued.stanzaId = stanzaId;
      return queued.published;
    }

    const publish: WaitingPublish = { stanzaId, published: Promise.resolve() };
    publish.published = queue.run(account.toString(), () => {
      waiting.delete(key);
      return publishPosition(service, account, peer, publish.stanzaId);
    });
    waiting.set(key, publish);
    return publish.published;
  });
}

/** A position publish queued behind the owner's earlier ones, with the newest requested position. */
interface WaitingPublish {
  stanzaId: string;
  published: Promise<void>;
}
