/** PEP notifications to sessions on other cluster nodes, which check their own clients' caps. */
import { type Element, JID, parseFrame, serialize } from '@parley/xmpp';
import type { ServerContext } from '../../core/context.js';
import type { PepService } from './service.js';

/** The cluster event that carries a notification to the recipients on one node. */
export const PEP_NOTIFY_EVENT = 'pep/notify';

/** A session on another node that may get a notification, and whether it may see the publisher's resource. */
export interface RemoteRecipient {
  node: string;
  jid: string;
  subscriber: boolean;
}

interface RelayedNotification {
  node: string;
  content: string;
  replyTo?: string;
  targets: { jid: string; subscriber: boolean }[];
}

/** Returns the available resources of `account` on other nodes as recipients. */
export function remoteRecipients(server: ServerContext, account: JID, subscriber: boolean): RemoteRecipient[] {
  return (server.cluster?.available(account) ?? []).map((resource) => ({ node: resource.node, jid: resource.jid.toString(), subscriber }));
}

/** Sends the notification of `owner`'s node `node` to each node that has recipients, one event per node. */
export async function relayNotification(server: ServerContext, owner: JID, node: string, content: Element, replyTo: string | undefined, recipients: RemoteRecipient[]): Promise<void> {
  const { cluster } = server;
  if (!cluster || recipients.length === 0) return;

  const byNode = new Map<string, RemoteRecipient[]>();
  for (const recipient of recipients) byNode.set(recipient.node, [...(byNode.get(recipient.node) ?? []), recipient]);
  const xml = serialize(content);
  for (const [target, list] of byNode) {
    const relayed: RelayedNotification = { node, content: xml, replyTo, targets: list.map(({ jid, subscriber }) => ({ jid, subscriber })) };
    await cluster.relayToNodes(PEP_NOTIFY_EVENT, [target], owner, JSON.stringify(relayed));
  }
}

/** Delivers a notification another node relayed to the sessions here whose clients want it. */
export async function receiveRelayedNotification(service: PepService, owner: JID, data: string): Promise<void> {
  const relayed = JSON.parse(data) as RelayedNotification;
  const { server } = service;
  const content = parseFrame(relayed.content, { maxStanzaBytes: server.config.sessions.max_stanza_bytes * 2 });
  for (const target of relayed.targets) {
    const session = server.sessions.get(JID.parse(target.jid));
    if (session) await service.deliver(owner, relayed.node, session, content.clone(), target.subscriber ? relayed.replyTo : undefined);
  }
}
