import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

const RESUME_PREFIX = 'parley:cluster:resume:';

/** Returns the key of the Redis hash of a node's resumable sessions: token digest to username. */
export function resumeKey(node: string): string {
  return RESUME_PREFIX + node;
}

/** The token digests and accounts of this node's resumable sessions, to write them again. */
export type DigestSource = () => { digest: string; username: string }[];

/**
 * Which node has each resumable session, in Redis: a hash per node from the SHA-256 of
 * the resumption token to the account, so that no token is stored. The hash expires after
 * `expiryMs` unless this node refreshes it every `heartbeatMs`, as the session registry
 * does. A node deletes its hash at start (what a crash left) and at a clean stop.
 */
export class ResumeRecords {
  private timer: NodeJS.Timeout | undefined;
  /** Writes one after another, so that adding and removing one digest keep their order. */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    private readonly nodeId: string,
    private readonly expiryMs: number,
    private readonly heartbeatMs: number,
    private readonly source: DigestSource,
    private readonly log: Logger,
  ) {}

  /** Deletes what an earlier run of this node left and starts the refresh. */
  async start(): Promise<void> {
    await this.redis.del(resumeKey(this.nodeId));
    this.timer = setInterval(() => this.refresh(), this.heartbeatMs);
    this.timer.unref();
  }

  /** Stops the refresh and deletes this node's hash. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.writes;
    await this.redis.del(resumeKey(this.nodeId)).catch((err: unknown) => this.log.warn({ err }, 'cluster: removing the resumable sessions from Redis failed'));
  }

  add(digest: string, username: string): void {
    const key = resumeKey(this.nodeId);
    this.enqueue(() => this.redis.multi().hset(key, digest, username).pexpire(key, this.expiryMs).exec());
  }

  remove(digest: string): void {
    this.enqueue(() => this.redis.hdel(resumeKey(this.nodeId), digest));
  }

  /** Returns the first of `nodes` that has the session of `username` with token digest `digest`. */
  async locate(digest: string, username: string, nodes: string[]): Promise<string | undefined> {
    if (nodes.length === 0) return undefined;
    const pipeline = this.redis.pipeline();
    for (const node of nodes) pipeline.hget(resumeKey(node), digest);
    const results = (await pipeline.exec()) ?? [];
    const index = results.findIndex(([err, value]) => err === null && value === username);
    return index < 0 ? undefined : nodes[index];
  }

  /** Refreshes the expiry; writes every record again when Redis lost the hash. */
  private refresh(): void {
    const key = resumeKey(this.nodeId);
    this.redis.pexpire(key, this.expiryMs).then(
      (found) => {
        const records = this.source();
        if (found === 1 || records.length === 0) return;
        this.log.warn({ node: this.nodeId, sessions: records.length }, 'cluster: the resumable sessions were missing from Redis; writing them again');
        for (const { digest, username } of records) this.add(digest, username);
      },
      (err: unknown) => this.log.warn({ err }, 'cluster: refreshing the resumable sessions in Redis failed'),
    );
  }

  private enqueue(write: () => Promise<unknown>): void {
    this.writes = this.writes.then(write).catch((err: unknown) => this.log.warn({ err }, 'cluster: writing a resumable session to Redis failed'));
  }
}
