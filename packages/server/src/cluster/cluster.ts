import { hostname } from 'node:os';
import { type Element, JID, StreamError, serialize } from '@parley/xmpp';
import type { ClientSession } from '../c2s/session.js';
import type { Config } from '../config.js';
import type { ServerContext } from '../core/context.js';
import type { StanzaEvent } from '../core/events.js';
import type { CarbonDirection } from '../modules/carbons/eligibility.js';
import type { Redis } from 'ioredis';
import { ClusterBus } from './bus.js';
import { Leases } from './leases.js';
import type { ClusterEvent, DeliveryMode, NodeMessage, ResourceEntry } from './messages.js';
import { NodeHealth } from './node-health.js';
import { ClusterRegistry, type RemoteResource } from './registry.js';
import { RemoteDelivery } from './remote-delivery.js';
import { type Relayed, ServiceRelay, type ServiceHandler } from './service-relay.js';
import { SessionMoves, isMoveMessage } from './session-move.js';

// TODO: push notifications (XEP-0357) for devices whose sessions are on other nodes (modules/push/triggers.ts).

/** Handles an account event another node relayed; `data` is what the relaying module encoded. */
export type AccountHandler = (user: JID, data: string) => Promise<void> | void;

/** Time a node waits for another node to confirm the writes of a stanza it passed on, beyond the expiry time. */
const ACK_MARGIN_MS = 5000;

/**
 * This node's part in a cluster of servers that share a database and route through Redis:
 * the session registry of every node, stanzas and carbon copies to resources on other
 * nodes, and resource conflicts between nodes.
 */
export class Cluster {
  private readonly bindTimes = new WeakMap<ClientSession, number>();
  /** This node's own registry writes, one after another, so that their events keep their order. */
  private writes: Promise<void> = Promise.resolve();
  private readonly health: NodeHealth;
  private readonly delivery: RemoteDelivery;
  private readonly registry: ClusterRegistry;
  private readonly relay: ServiceRelay;
  private readonly lostListeners: ((jids: JID[]) => void)[] = [];
  private readonly accountHandlers = new Map<string, AccountHandler>();
  private readonly accountChains = new Map<string, Promise<void>>();
  /** Leases of things one node hosts at a time, such as MUC rooms; they lapse after the expiry time. */
  readonly leases: Leases;
  /** Stream management resumption of sessions that another node has. */
  readonly moves: SessionMoves;
  /** False once `stop` began. */
  running = true;

  private constructor(
    private readonly server: ServerContext,
    private readonly bus: ClusterBus,
    readonly nodeId: string,
  ) {
    const { cluster } = server.config;
    this.registry = new ClusterRegistry(bus, nodeId, cluster.expiry_ms, server.log);
    this.health = new NodeHealth(
      this.registry,
      cluster.heartbeat_ms,
      server.log,
      () => this.republish(),
      (_node, jids) => this.nodeLost(jids),
    );
    this.delivery = new RemoteDelivery(server, bus);
    this.relay = new ServiceRelay(bus, nodeId, cluster.expiry_ms + ACK_MARGIN_MS, server.config.sessions.max_stanza_bytes * 2, server.log);
    this.leases = new Leases(bus.redis, nodeId, cluster.expiry_ms);
    this.moves = new SessionMoves(server, bus, nodeId, { otherNodes: () => this.registry.liveNodes(), settled: () => this.settled() });
  }

  /**
   * Connects to Redis, removes what a crash of this node id left there, loads the other
   * nodes' sessions and starts the heartbeat. Call before the listeners start.
   */
  static async start(server: ServerContext): Promise<Cluster> {
    const nodeId = nodeIdOf(server.config);
    const log = server.log.child({ node: nodeId });
    // What arrives before the object exists (nothing is published to a new node yet) is dropped.
    const ready: { cluster?: Cluster } = {};
    const bus = await ClusterBus.connect(server.config.cluster.redis_url, nodeId, log, {
      event: (event) => ready.cluster?.onEvent(event),
      message: (message) => ready.cluster?.onMessage(message),
    });
    const cluster = new Cluster(server, bus, nodeId);
    ready.cluster = cluster;
    try {
      await cluster.registry.clearOwn();
      await cluster.registry.loadAll();
      await cluster.registry.heartbeat();
      await cluster.moves.start();
    } catch (err) {
      await bus.close();
      throw err;
    }
    cluster.health.start();
    server.sessions.listen({
      added: (session) => cluster.onSessionAdded(session),
      changed: (session) => cluster.queueWrite(session),
      removed: (session) => cluster.onSessionRemoved(session),
    });
    log.info({ nodes: cluster.registry.liveNodes() }, 'cluster: joined');
    return cluster;
  }

  /** Resources of the account `bare` on other nodes. */
  resources(bare: JID): RemoteResource[] {
    return this.registry.resources(bare);
  }

  /** Available resources of `bare` on other nodes. */
  available(bare: JID): RemoteResource[] {
    return this.registry.available(bare);
  }

  /** Returns every resource on the other nodes. */
  allResources(): RemoteResource[] {
    return this.registry.all();
  }

  /** Finds the other node's resource with the full JID `full`, if a node has it. */
  locate(full: JID): RemoteResource | undefined {
    return this.registry.locate(full);
  }

  /** Sends a routed stanza to resources on other nodes; returns the full JIDs whose nodes took it. */
  forward(event: StanzaEvent, targets: RemoteResource[], mode: DeliveryMode, hops = 0): Promise<string[]> {
    if (targets.length === 0) return Promise.resolve([]);
    return this.delivery.forward(event, targets, mode, hops);
  }

  /** Sends carbon copies to the resources of `user` on other nodes, except the full JIDs in `exclude`. */
  async relayCarbons(direction: CarbonDirection, original: Element, user: JID, exclude: string[]): Promise<void> {
    const skip = new Set(exclude);
    const nodes = new Set(this.registry.resources(user).flatMap((resource) => (skip.has(resource.jid.toString()) ? [] : [resource.node])));
    if (nodes.size > 0) await this.delivery.relayCarbons(direction, original, user, [...nodes], exclude);
  }

  /** The command connection to Redis, for modules that keep cluster state there. */
  get redis(): Redis {
    return this.bus.redis;
  }

  /** The interval of this node's heartbeat, which leases follow. */
  get heartbeatMs(): number {
    return this.server.config.cluster.heartbeat_ms;
  }

  /** Returns the ids of the other nodes whose heartbeats arrive. */
  otherNodes(): string[] {
    return this.registry.liveNodes();
  }

  /** Tells whether `node` is this node or another one whose heartbeats arrive. */
  isLive(node: string): boolean {
    return this.registry.isLive(node);
  }

  /** Hands stanzas to `domain` that other nodes pass on to this one (with `sendToService`) to `handler`. */
  serveDomain(domain: string, handler: ServiceHandler): void {
    this.relay.serve(domain, handler);
  }

  /** Passes a stanza to the service that `node` hosts; with `durable`, `settled` follows the host's writes for it. */
  sendToService(node: string, event: StanzaEvent, hops: number, durable: boolean): Promise<Relayed> {
    return this.relay.send(node, event, hops, durable);
  }

  /** Hands the account events of `kind` that other nodes relay (see `relayToAccount`) to `handler`. */
  onAccountEvent(kind: string, handler: AccountHandler): void {
    this.accountHandlers.set(kind, handler);
  }

  /**
   * Sends an event of `kind` about `user` to the other nodes where the account has sessions,
   * or to every other node with `everyNode` (for caches any node may hold), so that each
   * applies it to its own sessions.
   */
  async relayToAccount(kind: string, user: JID, data: string, everyNode = false): Promise<void> {
    const nodes = everyNode ? this.registry.liveNodes() : new Set(this.registry.resources(user).map((resource) => resource.node));
    await this.relayToNodes(kind, nodes, user, data);
  }

  /** Sends an account event of `kind` about `user` to `nodes`. */
  async relayToNodes(kind: string, nodes: Iterable<string>, user: JID, data: string): Promise<void> {
    const message: NodeMessage = { t: 'account', kind, user: user.bare().toString(), data };
    await Promise.all([...nodes].map((node) => this.bus.sendToNode(node, message)));
  }

  /** Calls `listener` with the full JIDs of the sessions of a node that stopped or died. */
  onNodeLost(listener: (jids: JID[]) => void): void {
    this.lostListeners.push(listener);
  }

  /** Resolves once this node's registry writes so far are done. */
  settled(): Promise<void> {
    return this.writes;
  }

  /** Stops the heartbeat, removes this node's entries and disconnects; call once the sessions ended. */
  async stop(): Promise<void> {
    this.running = false;
    this.health.stop();
    await this.writes;
    await this.registry.clearOwn().catch((err: unknown) => this.server.log.warn({ err }, 'cluster: removing this node from Redis failed'));
    await this.moves.stop();
    await this.bus.close();
  }

  /** Writes every local session again, after this node's hash went missing from Redis. */
  private republish(): void {
    const sessions = [...this.server.sessions.all()];
    if (sessions.length === 0) return;
    this.server.log.warn({ node: this.nodeId, sessions: sessions.length }, 'cluster: this node\'s sessions were missing from Redis; writing them again');
    for (const session of sessions) void this.queueWrite(session);
  }

  private onSessionAdded(session: ClientSession): void {
    this.bindTimes.set(session, Date.now());
    void this.queueWrite(session);
  }

  private onSessionRemoved(session: ClientSession): void {
    const jid = session.jid!.toString();
    void this.enqueue(() => this.registry.removeOwn(jid));
  }

  private queueWrite(session: ClientSession): Promise<void> {
    const jid = session.jid!.toString();
    const entry: ResourceEntry = {
      priority: session.priority,
      available: session.presence !== undefined,
      presence: session.presence ? serialize(session.presence) : undefined,
      since: this.bindTimes.get(session) ?? Date.now(),
      transport: session.transport.kind,
      ip: session.transport.remoteAddress,
      secure: session.transport.secure,
    };
    return this.enqueue(() => this.registry.putOwn(jid, entry));
  }

  /** Runs `write` after the earlier ones; resolves when it is done, failed writes included (they are logged). */
  private enqueue(write: () => Promise<void>): Promise<void> {
    this.writes = this.writes.then(write).catch((err: unknown) => this.server.log.warn({ err }, 'cluster: a session registry write failed'));
    return this.writes;
  }

  private onEvent(event: ClusterEvent): void {
    const lost = event.t === 'down' && event.node !== this.nodeId ? this.registry.jidsOf(event.node) : [];
    const remote = this.registry.apply(event);
    if (remote) this.resolveConflict(remote);
    if (lost.length > 0) this.nodeLost(lost);
  }

  /** Runs the handler of the event after the earlier events about the same account. */
  private receiveAccountEvent({ kind, user, data }: Extract<NodeMessage, { t: 'account' }>): void {
    const handler = this.accountHandlers.get(kind);
    const jid = JID.parseOrNull(user);
    if (!handler || !jid) return;
    const next = (this.accountChains.get(user) ?? Promise.resolve())
      .then(() => handler(jid, data))
      .catch((err: unknown) => this.server.log.error({ err, kind, user }, 'cluster: handling an account event from another node failed'));
    this.accountChains.set(user, next);
    void next.then(() => {
      if (this.accountChains.get(user) === next) this.accountChains.delete(user);
    });
  }

  private nodeLost(jids: string[]): void {
    const parsed = jids.flatMap((jid) => JID.parseOrNull(jid) ?? []);
    for (const listener of this.lostListeners) listener(parsed);
  }

  /**
   * RFC 6120 7.7.2.2: another node bound a full JID that a session here holds. Under
   * `replace` the older session ends with `conflict`; the other policies stop that at binding.
   */
  private resolveConflict(remote: RemoteResource): void {
    const local = this.server.sessions.get(remote.jid);
    // A session handed to that node is not replaced but moves (cluster/session-move.ts).
    if (!local || this.moves.isLeaving(local) || this.server.config.sessions.resource_conflict !== 'replace') return;
    const since = this.bindTimes.get(local) ?? 0;
    if (since > remote.since || (since === remote.since && this.nodeId > remote.node)) return;
    local.closeWithError(new StreamError('conflict', 'Replaced by a new session for the same resource.'));
  }

  private onMessage(message: NodeMessage): void {
    if (message.t === 'service' || message.t === 'service-ack') {
      this.relay.receive(message);
      return;
    }
    if (message.t === 'account') {
      this.receiveAccountEvent(message);
      return;
    }
    if (isMoveMessage(message)) {
      this.moves.receive(message);
      return;
    }
    this.delivery.receive(message).catch((err: unknown) => this.server.log.error({ err }, 'cluster: delivering a stanza from another node failed'));
  }
}

/** Returns `[cluster] node_id`, or the host name and c2s port (the process id when the port is chosen at start). */
export function nodeIdOf(config: Config): string {
  if (config.cluster.node_id) return config.cluster.node_id;
  const port = config.listen.c2s_port;
  return `${hostname()}:${port === false || port === 0 ? `pid${process.pid}` : port}`;
}
