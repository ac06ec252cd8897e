import { JID } from '@parley/xmpp';
import type { Logger } from 'pino';
import type { ClusterBus } from './bus.js';
import { type ClusterEvent, type ResourceEntry, SESSIONS_PATTERN, nodeOfKey, sessionsKey } from './messages.js';

/** A resource bound on another node. */
export interface RemoteResource extends ResourceEntry {
  node: string;
  jid: JID;
}

interface NodeView {
  lastSeen: number;
  /** Full JID to entry. */
  resources: Map<string, ResourceEntry>;
  /** Bare JID to the full JIDs of its resources, so lookups by account skip the other entries. */
  byBare: Map<string, Set<string>>;
}

/** The COUNT of each SCAN step at start. */
const SCAN_COUNT = 100;

/**
 * The session registry of the cluster. A node writes its own sessions into its Redis hash,
 * which expires unless the node's heartbeat refreshes it, and announces each change on the
 * event channel. Every node keeps a copy of the other nodes' hashes in memory, filled from
 * Redis at start and kept current by the events, so that routing looks up resources
 * without a round trip. A node that sends nothing for `expiryMs` is dropped with its
 * resources.
 */
export class ClusterRegistry {
  private readonly nodes = new Map<string, NodeView>();

  constructor(
    private readonly bus: ClusterBus,
    readonly nodeId: string,
    private readonly expiryMs: number,
    private readonly log: Logger,
  ) {}

  /** Writes or updates one of this node's resources. */
  async putOwn(jid: string, entry: ResourceEntry): Promise<void> {
    const key = sessionsKey(this.nodeId);
    await this.bus.redis.multi().hset(key, jid, JSON.stringify(entry)).pexpire(key, this.expiryMs).exec();
    await this.bus.publishEvent({ t: 'set', node: this.nodeId, jid, entry });
  }

  /** Removes one of this node's resources. */
  async removeOwn(jid: string): Promise<void> {
    await this.bus.redis.hdel(sessionsKey(this.nodeId), jid);
    await this.bus.publishEvent({ t: 'del', node: this.nodeId, jid });
  }

  /** Deletes every entry of this node: stale ones from a crash at start, the current ones at a clean stop. */
  async clearOwn(): Promise<void> {
    await this.bus.redis.del(sessionsKey(this.nodeId));
    await this.bus.publishEvent({ t: 'down', node: this.nodeId });
  }

  /**
   * Refreshes the expiry of this node's entries and publishes a heartbeat event. Returns false
   * when the hash was missing: it expired while Redis was out of reach, or Redis restarted.
   */
  async heartbeat(): Promise<boolean> {
    const found = (await this.bus.redis.pexpire(sessionsKey(this.nodeId), this.expiryMs)) === 1;
    await this.bus.publishEvent({ t: 'beat', node: this.nodeId });
    return found;
  }

  /** Reads every other node's hash from Redis into memory. */
  async loadAll(): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.bus.redis.scan(cursor, 'MATCH', SESSIONS_PATTERN, 'COUNT', SCAN_COUNT);
      cursor = next;
      for (const key of keys) await this.loadNode(nodeOfKey(key));
    } while (cursor !== '0');
  }

  /**
   * Merges a node's hash into memory. Events that arrived while the hash was read are newer,
   * so the entries they touched keep their value.
   */
  private async loadNode(node: string): Promise<void> {
    if (node === this.nodeId) return;
    const view = this.viewOf(node);
    const before = new Map(view.resources);
    const stored = await this.bus.redis.hgetall(sessionsKey(node));
    for (const [jid, text] of Object.entries(stored)) {
      if (view.resources.get(jid) !== before.get(jid)) continue;
      const entry = parseEntry(text);
      if (entry) setEntry(view, jid, entry);
    }
  }

  /** Applies an event from the channel; returns the resource another node just set, if any. */
  apply(event: ClusterEvent): RemoteResource | undefined {
    if (event.node === this.nodeId) return undefined;
    if (event.t === 'down') {
      this.nodes.delete(event.node);
      return undefined;
    }
    const known = this.nodes.has(event.node);
    const view = this.viewOf(event.node);
    view.lastSeen = Date.now();
    if (!known) this.loadNode(event.node).catch((err: unknown) => this.log.warn({ err, node: event.node }, 'cluster: reading a node failed'));
    if (event.t === 'del') deleteEntry(view, event.jid);
    if (event.t !== 'set') return undefined;
    setEntry(view, event.jid, event.entry);
    const jid = JID.parseOrNull(event.jid);
    return jid ? { ...event.entry, node: event.node, jid } : undefined;
  }

  /** Drops the nodes that sent nothing for the expiry time; returns their ids and passes each with its full JIDs to `dropped`. */
  sweep(now = Date.now(), dropped?: (node: string, jids: string[]) => void): string[] {
    const expired: string[] = [];
    for (const [node, view] of this.nodes) {
      if (now - view.lastSeen <= this.expiryMs) continue;
      this.nodes.delete(node);
      expired.push(node);
      dropped?.(node, [...view.resources.keys()]);
    }
    return expired;
  }

  /** Returns the full JIDs of the resources recorded for `node`. */
  jidsOf(node: string): string[] {
    return [...(this.nodes.get(node)?.resources.keys() ?? [])];
  }

  /** Tells whether `node` is this node or another that sent a heartbeat within the expiry time. */
  isLive(node: string): boolean {
    return node === this.nodeId || this.nodes.has(node);
  }

  /** Resources of the account `bare` on other nodes, bound or available. */
  resources(bare: JID): RemoteResource[] {
    const key = bare.bare().toString();
    const found: RemoteResource[] = [];
    for (const [node, view] of this.nodes) {
      for (const full of view.byBare.get(key) ?? []) {
        const entry = view.resources.get(full);
        const jid = JID.parseOrNull(full);
        if (entry && jid) found.push({ ...entry, node, jid });
      }
    }
    return found;
  }

  /** Returns every resource on the other nodes. */
  all(): RemoteResource[] {
    const found: RemoteResource[] = [];
    for (const [node, view] of this.nodes) {
      for (const [full, entry] of view.resources) {
        const jid = JID.parseOrNull(full);
        if (jid) found.push({ ...entry, node, jid });
      }
    }
    return found;
  }

  /** Resources of `bare` on other nodes that sent available presence. */
  available(bare: JID): RemoteResource[] {
    return this.resources(bare).filter((resource) => resource.available);
  }

  /** Finds the other node's resource with the full JID `full`, the most recently bound one if two nodes have it. */
  locate(full: JID): RemoteResource | undefined {
    const key = full.toString();
    let best: RemoteResource | undefined;
    for (const [node, view] of this.nodes) {
      const entry = view.resources.get(key);
      if (entry && (!best || entry.since > best.since)) best = { ...entry, node, jid: full };
    }
    return best;
  }

  /** Returns the ids of the other nodes that sent heartbeats within the expiry time. */
  liveNodes(): string[] {
    return [...this.nodes.keys()];
  }

  private viewOf(node: string): NodeView {
    let view = this.nodes.get(node);
    if (!view) {
      view = { lastSeen: Date.now(), resources: new Map(), byBare: new Map() };
      this.nodes.set(node, view);
    }
    return view;
  }
}

function bareOf(full: string): string {
  const slash = full.indexOf('/');
  return slash < 0 ? full : full.slice(0, slash);
}

function setEntry(view: NodeView, full: string, entry: ResourceEntry): void {
  view.resources.set(full, entry);
  const bare = bareOf(full);
  let set = view.byBare.get(bare);
  if (!set) {
    set = new Set();
    view.byBare.set(bare, set);
  }
  set.add(full);
}

function deleteEntry(view: NodeView, full: string): void {
  view.resources.delete(full);
  const bare = bareOf(full);
  const set = view.byBare.get(bare);
  set?.delete(full);
  if (set?.size === 0) view.byBare.delete(bare);
}

function parseEntry(text: string): ResourceEntry | undefined {
  try {
    const entry = JSON.parse(text) as ResourceEntry;
    return typeof entry.priority === 'number' && typeof entry.available === 'boolean' ? entry : undefined;
  } catch {
    return undefined;
  }
}
