import type { Redis } from 'ioredis';

const LEASE_PREFIX = 'parley:cluster:lease:';

/** Extends the leases in KEYS that ARGV[1] holds by ARGV[2] ms; returns the 1-based indexes of those it no longer holds. */
const RENEW = `
local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('get', key) == ARGV[1] then
    redis.call('pexpire', key, ARGV[2])
  else
    table.insert(lost, i)
  end
end
return lost`;

/** Deletes KEYS[1] when its value is ARGV[1]. */
const RELEASE = `
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0`;

/** Gives KEYS[1] to ARGV[1] for ARGV[3] ms when it is free or still names the dead node ARGV[2]. */
const TAKE_OVER = `
local holder = redis.call('get', KEYS[1])
if holder == false or holder == ARGV[2] then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[3])
  return 1
end
return 0`;

/** Attempts of `claim` when the lease expires between the SET and the GET. */
const CLAIM_ATTEMPTS = 3;

/**
 * Named leases in Redis: a key per name whose value is the holding node, with an expiry
 * that the holder renews. A node that dies stops renewing, so its leases lapse after
 * `ttlMs`, and another node may take one over at once when the holder's heartbeats have stopped.
 */
export class Leases {
  constructor(
    private readonly redis: Redis,
    private readonly nodeId: string,
    private readonly ttlMs: number,
  ) {}

  /** Returns the node that holds `name`, after taking the lease for this node when it was free. */
  async claim(name: string): Promise<string> {
    const key = LEASE_PREFIX + name;
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      if ((await this.redis.set(key, this.nodeId, 'PX', this.ttlMs, 'NX')) === 'OK') return this.nodeId;
      const holder = await this.redis.get(key);
      if (holder !== null) return holder;
    }
    throw new Error(`cluster: the lease "${name}" changed hands ${CLAIM_ATTEMPTS} times while it was claimed`);
  }

  /** Takes `name` over from `deadNode`; returns false when another node has it now. */
  async takeOver(name: string, deadNode: string): Promise<boolean> {
    return (await this.redis.eval(TAKE_OVER, 1, LEASE_PREFIX + name, this.nodeId, deadNode, this.ttlMs)) === 1;
  }

  /** Extends the leases of `names` that this node holds; returns the names it no longer holds. */
  async renew(names: string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const lost = (await this.redis.eval(RENEW, names.length, ...names.map((name) => LEASE_PREFIX + name), this.nodeId, this.ttlMs)) as number[];
    return lost.map((index) => names[index - 1]!);
  }

  /** Gives up `name` when this node is its holder. */
  async release(name: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, LEASE_PREFIX + name, this.nodeId);
  }
}
