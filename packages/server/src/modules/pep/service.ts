/** The shared state of the PEP module: limits, stored nodes, client caps and notification delivery. */
import { type Element, JID, parseFrame, x } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import type { StoredPepItem } from '../../storage/index.js';
import { BlockList } from '../blocking/match.js';
import { mergeShared, sharedContactsOf } from '../roster/overlay.js';
import { KeyedQueue } from '../offline/keyed-queue.js';
import { type Relation, accessError, relationFromRoster } from './access.js';
import type { ClientCaps } from './client-caps.js';
import { type NodeConfig, type PepLimits, parseStoredConfig } from './config.js';
import { eventItem, notificationMessage } from './events.js';
import { NS_PUBSUB_EVENT } from './ns.js';
import { type RemoteRecipient, relayNotification, remoteRecipients } from './remote.js';

/** A node with its parsed configuration. */
export interface PepNode {
  name: string;
  config: NodeConfig;
}

/** Server limits of PEP (config section `pep`). */
export interface PepServiceLimits extends PepLimits {
  maxItemBytes: number;
  maxNodesPerAccount: number;
}

/** A session that gets a notification, and whether it may see the publisher's resource. */
interface Recipient {
  session: ClientSession;
  subscriber: boolean;
}

/** Parses payload XML this server serialized; a UTF-16 unit takes at most 3 bytes in UTF-8. */
export function parsePayload(xml: string): Element[] {
  if (xml === '') return [];
  return [parseFrame(xml, { maxStanzaBytes: xml.length * 3 + 1 })];
}

/** Code that follows changes to nodes, such as the bookmarks synchronisation of XEP-0402. */
export interface PepListener {
  published?(owner: JID, node: string, item: StoredPepItem): Promise<void>;
  retracted?(owner: JID, node: string, ids: string[]): Promise<void>;
  /** The node lost all its items: purged or deleted. */
  purged?(owner: JID, node: string): Promise<void>;
}

export class PepService {
  /** Notifications of one owner go out in the order of the changes that caused them. */
  private readonly queue = new KeyedQueue();
  readonly listeners: PepListener[] = [];

  constructor(
    readonly server: ServerContext,
    readonly caps: ClientCaps,
    readonly limits: PepServiceLimits,
  ) {}

  /** Returns the node of the account `owner`, or undefined when it does not exist. */
  async node(owner: JID, name: string): Promise<PepNode | undefined> {
    const stored = await this.server.storage.pep.getNode(owner.domain, owner.local, name);
    return stored === null ? undefined : { name, config: parseStoredConfig(name, stored.config) };
  }

  /** Returns every node of the account `owner`. */
  async nodes(owner: JID): Promise<PepNode[]> {
    const stored = await this.server.storage.pep.listNodes(owner.domain, owner.local);
    return stored.map((row) => ({ name: row.node, config: parseStoredConfig(row.node, row.config) }));
  }

  /** Runs the listeners of a stored item. */
  async afterPublish(owner: JID, node: string, item: StoredPepItem): Promise<void> {
    for (const listener of this.listeners) await listener.published?.(owner, node, item);
  }

  /** Runs the listeners of retracted items. */
  async afterRetract(owner: JID, node: string, ids: string[]): Promise<void> {
    for (const listener of this.listeners) await listener.retracted?.(owner, node, ids);
  }

  /** Runs the listeners of a purged or deleted node. */
  async afterPurge(owner: JID, node: string): Promise<void> {
    for (const listener of this.listeners) await listener.purged?.(owner, node);
  }

  /**
   * Queues notifications about `node` to every session that should get them: each
   * available resource of the owner and of the contacts the node's access model allows,
   * whose client announced `node+notify` (XEP-0163 sections 4.2 and 4.3). `build` makes
   * the `<event/>` content for one recipient. Resolves once the recipients are chosen, so
   * that a session that comes online after the caller replied is not among them. Delivery
   * runs later, because it may wait for a client's caps.
   */
  async notify(owner: JID, node: PepNode, build: () => Element, replyTo?: string): Promise<void> {
    if (!node.config.deliverNotifications) return;
    const candidates = this.candidates(owner, node);
    void this.queue
      .run(owner.bare().toString(), async () => {
        const { local, remote } = await candidates;
        for (const { session, subscriber } of local) await this.deliver(owner, node.name, session, build(), subscriber ? replyTo : undefined);
        await relayNotification(this.server, owner, node.name, build(), replyTo, remote);
      })
      .catch((err: unknown) => this.server.log.error({ err, owner: owner.bare().toString(), node: node.name }, 'sending PEP notifications failed'));
    await candidates.catch(() => undefined);
  }

  /** Sends the newest item of each of `nodes` of `owner` to `session`, when its configuration and access allow (XEP-0163 section 4.3.2). */
  async sendLastItems(owner: JID, session: ClientSession, nodes: string[], relation: Relation): Promise<void> {
    for (const name of nodes) {
      const node = await this.node(owner, name);
      if (node === undefined || node.config.sendLastPublished !== 'on_sub_and_presence' || !node.config.deliverNotifications) continue;
      if (accessError(node.config, relation) !== undefined) continue;

      const item = await this.server.storage.pep.lastItem(owner.domain, owner.local, name);
      if (item === null || session.jid === undefined) continue;
      const content = eventItems(name, [item], node.config.deliverPayloads);
      const message = notificationMessage(owner, session.jid, content, { delay: item.publishedAt, replyTo: relation.owner ? undefined : item.publisher });
      await this.server.router.route(message, owner.bare(), session.jid);
    }
  }

  /** Sends a notification to a session of this node whose client wants notifications of `node`. */
  async deliver(owner: JID, node: string, session: ClientSession, content: Element, replyTo: string | undefined): Promise<void> {
    if (!session.jid || !(await this.wantsNotifications(session, node))) return;
    await this.server.router.route(notificationMessage(owner, session.jid, content, { replyTo }), owner.bare(), session.jid);
  }

  /** Tells whether the session's client wants notifications of `node` (XEP-0115 `node+notify`). */
  async wantsNotifications(session: ClientSession, node: string): Promise<boolean> {
    return (await this.caps.features(session)).has(`${node}+notify`);
  }

  /** Returns the available sessions of the owner, and of the contacts the node's access model allows, here and on other nodes. */
  private async candidates(owner: JID, node: PepNode): Promise<{ local: Recipient[]; remote: RemoteRecipient[] }> {
    const local: Recipient[] = this.server.sessions.available(owner).map((session) => ({ session, subscriber: false }));
    const remote = remoteRecipients(this.server, owner, false);
    if (node.config.accessModel === 'whitelist') return { local, remote };

    for (const contact of await this.allowedContacts(owner, node)) {
      for (const session of this.server.sessions.available(contact)) local.push({ session, subscriber: true });
      remote.push(...remoteRecipients(this.server, contact, true));
    }
    return { local, remote };
  }

  /** Returns the local contacts that the owner shares presence with and that the node's access model allows. */
  private async allowedContacts(owner: JID, node: PepNode): Promise<JID[]> {
    const blocked = BlockList.fromStored(await this.server.storage.blocklist.list(owner.domain, owner.local));
    const subscribers = await this.server.storage.roster.listSubscribers(owner.domain, owner.local);
    // Shared contacts (shared roster groups) receive the owner's presence, so they count as subscribers.
    const shared = await sharedContactsOf(this.server, owner);
    const records = new Map(subscribers.map((record) => [record.contact, record]));
    for (const contact of shared.values()) records.set(contact.contact, mergeShared(records.get(contact.contact) ?? null, contact));
    const contacts: JID[] = [];
    for (const record of records.values()) {
      const contact = JID.parseOrNull(record.contact);
      // TODO: notify contacts on other domains once the server has server-to-server connections.
      if (contact === null || contact.domain !== this.server.config.domain || contact.local === '') continue;
      // XEP-0163 section 4.3.1: no notifications to an entity the owner blocked.
      if (blocked.blocks(contact)) continue;
      if (accessError(node.config, relationFromRoster(record)) !== undefined) continue;
      contacts.push(contact);
    }
    return contacts;
  }
}

/** Builds `<items node/>` of an event with `items`. */
export function eventItems(node: string, items: StoredPepItem[], withPayload: boolean): Element {
  return x('items', NS_PUBSUB_EVENT, { node }, ...items.map((item) => eventItem(item.id, parsePayload(item.payload), withPayload)));
}
