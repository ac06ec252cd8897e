/**
 * User avatars (XEP-0084) kept in step with the vCard PHOTO and the account profile
 * (XEP-0398). A metadata item a client publishes names the image in the data node; the
 * module passes it on as 'avatar/changed'. An avatar that changed elsewhere is published
 * to both nodes on the owner's behalf, and contacts get the metadata notification.
 */
import { createHash } from 'node:crypto';
import { type Element, JID, serialize, x } from '@parley/xmpp';
import type { AvatarChangedEvent } from '../../core/events.js';
import type { ModuleContext } from '../../core/module.js';
import type { StoredPepItem } from '../../storage/index.js';
import { defaultConfig, effectiveMaxItems } from './config.js';
import { type PepNode, type PepService, eventItems, parsePayload } from './service.js';

export const NS_AVATAR_DATA = 'urn:xmpp:avatar:data';
export const NS_AVATAR_METADATA = 'urn:xmpp:avatar:metadata';

/** The image a metadata item names: its first `<info/>` with the id of an item of the data node. */
interface AvatarInfo {
  id: string;
  type: string;
}

/** Reads the first `<info/>` of a metadata payload; null for an empty `<metadata/>`, which disables the avatar (XEP-0084 section 4.5). */
function readMetadata(payload: Element | undefined): AvatarInfo | null | undefined {
  if (payload?.name !== 'metadata' || payload.ns !== NS_AVATAR_METADATA) return undefined;
  const info = payload.getChild('info', NS_AVATAR_METADATA);
  const id = info?.attr('id');
  if (info === undefined || !id) return null;
  return { id: id.toLowerCase(), type: info.attr('type') || 'image/png' };
}

/** Turns a client's metadata publish into 'avatar/changed' when the data node holds the image it names. */
async function metadataPublished(ctx: ModuleContext, service: PepService, owner: JID, item: StoredPepItem): Promise<void> {
  const info = readMetadata(parsePayload(item.payload)[0]);
  if (info === undefined) return;
  const host = owner.domain;
  const username = owner.local;
  if (info === null) {
    await ctx.server.hooks.fire('avatar/changed', { host, username, avatar: null, source: 'pep' });
    return;
  }

  const [dataItem] = await service.server.storage.pep.itemsById(host, username, NS_AVATAR_DATA, [info.id]);
  const base64 = dataItem === undefined ? undefined : parsePayload(dataItem.payload)[0]?.text();
  const data = Buffer.from((base64 ?? '').replace(/\s+/g, ''), 'base64');
  const sha1 = createHash('sha1').update(data).digest('hex');
  if (data.length === 0 || sha1 !== info.id) {
    ctx.log.debug({ owner: owner.toString(), id: info.id }, 'avatar metadata names no matching image in the data node; vCard left as it is');
    return;
  }
  await ctx.server.hooks.fire('avatar/changed', { host, username, avatar: { type: info.type, sha1, data }, source: 'pep' });
}

/** Publishes the avatar of an 'avatar/changed' from elsewhere, unless the metadata node names it already. */
async function publishAvatar(ctx: ModuleContext, service: PepService, event: AvatarChangedEvent): Promise<void> {
  const owner = JID.fromParts(event.username, event.host);
  const current = await service.server.storage.pep.lastItem(owner.domain, owner.local, NS_AVATAR_METADATA);
  const currentInfo = current === null ? undefined : readMetadata(parsePayload(current.payload)[0]);
  if ((currentInfo?.id ?? null) === (event.avatar?.sha1 ?? null) && current !== null) return;
  if (current === null && event.avatar === null) return;

  const { avatar } = event;
  if (avatar === null) {
    await publishItem(ctx, service, owner, NS_AVATAR_METADATA, 'current', x('metadata', NS_AVATAR_METADATA));
    return;
  }
  const dataPayload = x('data', NS_AVATAR_DATA, {}, avatar.data.toString('base64'));
  const bytes = Buffer.byteLength(serialize(dataPayload), 'utf8');
  if (bytes > service.limits.maxItemBytes) {
    ctx.log.warn({ owner: owner.toString(), bytes, maxItemBytes: service.limits.maxItemBytes }, 'avatar not published to PEP: the image exceeds pep.max_item_bytes');
    return;
  }
  if (!(await publishItem(ctx, service, owner, NS_AVATAR_DATA, avatar.sha1, dataPayload))) return;
  const info = x('info', NS_AVATAR_METADATA, { bytes: String(avatar.data.length), id: avatar.sha1, type: avatar.type });
  await publishItem(ctx, service, owner, NS_AVATAR_METADATA, avatar.sha1, x('metadata', NS_AVATAR_METADATA, {}, info));
}

/** Stores one item on the owner's behalf and notifies; false when the account has no room for a new node. */
async function publishItem(ctx: ModuleContext, service: PepService, owner: JID, name: string, id: string, payload: Element): Promise<boolean> {
  const { pep } = service.server.storage;
  const existing = await service.node(owner, name);
  if (existing === undefined && (await pep.countNodes(owner.domain, owner.local)) >= service.limits.maxNodesPerAccount) {
    ctx.log.warn({ owner: owner.toString(), node: name }, 'avatar not published to PEP: the account has as many PEP nodes as allowed');
    return false;
  }
  const node: PepNode = existing ?? { name, config: defaultConfig(name) };
  const item = { id, payload: serialize(payload), publisher: owner.toString(), publishedAt: Date.now() };
  const options = { createConfig: JSON.stringify(node.config), maxItems: effectiveMaxItems(node.config, service.limits), persist: node.config.persistItems };
  await pep.publish(owner.domain, owner.local, name, item, options);
  await service.notify(owner, node, () => eventItems(name, [item], node.config.deliverPayloads));
  return true;
}

/** Registers both directions of the avatar synchronisation. */
export function syncAvatars(ctx: ModuleContext, service: PepService): void {
  service.listeners.push({
    published: async (owner, node, item) => {
      if (node !== NS_AVATAR_METADATA) return;
      try {
        await metadataPublished(ctx, service, owner, item);
      } catch (err) {
        // The item is stored; a failing vCard update must not turn the publish into an error.
        ctx.log.error({ err, owner: owner.toString() }, 'updating the vCard avatar after a PEP publish failed');
      }
    },
  });
  ctx.on('avatar/changed', (event) => (event.source === 'pep' || event.host !== ctx.server.config.domain ? undefined : publishAvatar(ctx, service, event)));
}
