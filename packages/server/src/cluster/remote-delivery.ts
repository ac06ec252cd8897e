import { type Element, JID, parseFrame, serialize } from '@parley/xmpp';
import type { ClientSession } from '../c2s/session.js';
import type { ServerContext } from '../core/context.js';
import type { StanzaEvent } from '../core/events.js';
import { sendCopies } from '../modules/carbons/copies.js';
import type { ClusterBus } from './bus.js';
import type { DeliveryMode, NodeMessage } from './messages.js';
import type { RemoteResource } from './registry.js';

/**
 * Stanzas between nodes. The node that routes a stanza publishes it, with the addresses it
 * was routed with, on the channel of each node that has a target resource. That node writes
 * it to its local sessions as local routing would.
 */
export class RemoteDelivery {
  constructor(
    private readonly server: ServerContext,
    private readonly bus: ClusterBus,
  ) {}

  /**
   * Sends `event.stanza` to `targets`, one publish per node. 'reroute' becomes 'copy' when
   * more than one node gets it, so that only a sole target may route it again. Returns the
   * full JIDs on nodes that took the stanza.
   */
  async forward(event: StanzaEvent, targets: RemoteResource[], mode: DeliveryMode, hops: number): Promise<string[]> {
    const byNode = new Map<string, string[]>();
    for (const target of targets) byNode.set(target.node, [...(byNode.get(target.node) ?? []), target.jid.toString()]);
    const effective = mode === 'reroute' && byNode.size > 1 ? 'copy' : mode;
    const xml = serialize(event.stanza);

    const sends = [...byNode].map(async ([node, jids]) => {
      const message: NodeMessage = { t: 'stanza', xml, from: event.from.toString(), to: event.to.toString(), targets: jids, mode: effective, hops };
      return (await this.bus.sendToNode(node, message)) ? jids : [];
    });
    return (await Promise.all(sends)).flat();
  }

  /** Sends carbon copies of `original` to the resources of `user` on other nodes, except `exclude` (full JIDs). */
  async relayCarbons(direction: 'sent' | 'received', original: Element, user: JID, nodes: string[], exclude: string[]): Promise<void> {
    const xml = serialize(original);
    const message: NodeMessage = { t: 'carbons', direction, xml, user: user.bare().toString(), exclude };
    await Promise.all(nodes.map((node) => this.bus.sendToNode(node, message)));
  }

  /** Handles a message from another node. */
  async receive(message: Extract<NodeMessage, { t: 'stanza' | 'carbons' }>): Promise<void> {
    const stanza = parseFrame(message.xml, { maxStanzaBytes: this.server.config.sessions.max_stanza_bytes * 2 });
    if (message.t === 'carbons') return this.receiveCarbons(stanza, message.direction, JID.parse(message.user), message.exclude);

    const event: StanzaEvent = { stanza, from: JID.parse(message.from), to: JID.parse(message.to) };
    const sessions = message.targets.map((target) => this.server.sessions.get(JID.parse(target))).filter((session) => session !== undefined);
    for (const session of sessions) this.server.router.deliver(session, event);
    if (sessions.length > 0 || message.mode === 'copy') return;

    // The resources left this node after the sender's node looked them up.
    if (message.mode === 'reroute') await this.server.router.deliverMessageToBare({ ...event, to: event.to.bare() }, message.hops + 1);
    else await this.server.router.noSuchResource(event, message.hops + 1);
  }

  private receiveCarbons(original: Element, direction: 'sent' | 'received', user: JID, exclude: string[]): void {
    const skip = new Set(exclude);
    const sessions = this.server.sessions.resources(user).filter((session: ClientSession) => !skip.has(session.jid!.toString()));
    sendCopies(direction, original, user, sessions);
  }
}
