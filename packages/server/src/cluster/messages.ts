/** Messages between nodes over Redis, as JSON, and the Redis names they use. */

/** One bound resource as its node records it in Redis. */
export interface ResourceEntry {
  priority: number;
  /** True once the session sent available presence, false before and after. */
  available: boolean;
  /** The session's last available presence, serialized, for presence probes. */
  presence?: string;
  /** When the resource was bound (ms since the epoch); the newer of two equal full JIDs wins. */
  since: number;
  /** The connection, for the admin API's session list: 'tcp' or 'websocket', the client's address, and TLS. */
  transport?: string;
  ip?: string;
  secure?: boolean;
}

/** Published on the channel every node reads. */
export type ClusterEvent =
  | { t: 'set'; node: string; jid: string; entry: ResourceEntry }
  | { t: 'del'; node: string; jid: string }
  | { t: 'beat'; node: string }
  | { t: 'down'; node: string };

/**
 * The target node's handling of a stanza whose resources left it. 'full' applies the rules
 * for a full JID without a session, and 'reroute' routes a message to the bare JID again.
 * 'copy' drops it, because other resources got it.
 */
export type DeliveryMode = 'full' | 'reroute' | 'copy';

/** Published on one node's own channel. */
export type NodeMessage =
  | { t: 'stanza'; xml: string; from: string; to: string; targets: string[]; mode: DeliveryMode; hops: number }
  | { t: 'carbons'; direction: 'sent' | 'received'; xml: string; user: string; exclude: string[] }
  /** A stanza to a service that another node hosts (a MUC room); `ack` asks for a 'service-ack' to node `reply`. */
  | { t: 'service'; xml: string; from: string; to: string; hops: number; ack?: string; reply?: string }
  /** The host's report that the durable writes of a 'service' stanza settled. */
  | { t: 'service-ack'; ack: string; ok: boolean }
  /** Something that changed for the account `user`, for the module that handles `kind` (pushes to its sessions, cache updates). */
  | { t: 'account'; kind: string; user: string; data: string };

const SESSIONS_PREFIX = 'parley:cluster:sessions:';

/** Returns the key of the Redis hash of a node's sessions (full JID to ResourceEntry). */
export function sessionsKey(node: string): string {
  return SESSIONS_PREFIX + node;
}

/** Returns the node id in a sessions key. */
export function nodeOfKey(key: string): string {
  return key.slice(SESSIONS_PREFIX.length);
}

export const SESSIONS_PATTERN = `${SESSIONS_PREFIX}*`;
export const EVENTS_CHANNEL = 'parley:cluster:events';

export function nodeChannel(node: string): string {
  return `parley:cluster:node:${node}`;
}
