/** Messages between nodes over Redis, as JSON, and the Redis names they use. */
import type { MovedSession } from '../c2s/session-transfer.js';

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
  /** A stanza to a service that another node hosts (a MUC room); `ack` requests a 'service-ack' to node `reply`. */
  | { t: 'service'; xml: string; from: string; to: string; hops: number; ack?: string; reply?: string }
  /** The host's report that the durable writes of a 'service' stanza settled. */
  | { t: 'service-ack'; ack: string; ok: boolean }
  /** Something that changed for the account `user`, for the module that handles `kind` (pushes to its sessions, cache updates). */
  | { t: 'account'; kind: string; user: string; data: string }
  /** Asks the node with the resumable session of token digest `digest` to hand it to node `reply`, after applying `h`. */
  | { t: 'move-request'; id: string; digest: string; user: string; h: number; reply: string }
  /** The reply of node `holder` to a 'move-request'. */
  | { t: 'move-reply'; id: string; holder: string; result: MoveResult }
  /** The new node continues the session (`ok`), or it gave up waiting and the holder keeps it. */
  | { t: 'move-done'; id: string; ok: boolean }
  /** Stanzas the holder received for the session after its 'move-reply', serialized, in order. */
  | { t: 'move-forward'; id: string; stanzas: string[] };

/** Whether a session moves: its state, no such session (with its final `h` if it ended), or an `h` beyond the stanzas sent. */
export type MoveResult =
  | { kind: 'moved'; session: MovedSession }
  | { kind: 'not-found'; handled?: number }
  | { kind: 'too-high'; sendCount: number };

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
