import { isIPv4, isIPv6 } from 'node:net';

/** Settings of AuthThrottle. Durations are in milliseconds. */
export interface AuthThrottleOptions {
  /** Failures per IP address or per account within `windowMs` before back-off starts. */
  maxFailures: number;
  /** A key's failure count resets after this long without a failure. */
  windowMs: number;
  /** Maximum block duration after repeated failures. */
  maxBackoffMs: number;
  /** First block once `maxFailures` is reached; it doubles with each further failure (default 1000). */
  baseBackoffMs?: number;
  /** Maximum number of tracked keys (IP addresses and accounts); the least recently failed is evicted first (default 100000). */
  maxEntries?: number;
  /** Clock in milliseconds, for tests (default Date.now). */
  now?: () => number;
}

/** Whether an authentication attempt may proceed, and if not, how long until it may. */
export interface ThrottleDecision {
  allowed: boolean;
  retryAfterMs: number;
}

interface Entry {
  failures: number;
  lastFailureAt: number;
  blockedUntil: number;
}

/**
 * Counts failed authentications per IP address and per account and blocks further
 * attempts with exponential back-off once a key reaches `maxFailures` within the window.
 * IPv6 addresses are counted per /64, because a single host is usually assigned a whole /64.
 */
export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly baseBackoffMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: AuthThrottleOptions) {
    this.baseBackoffMs = options.baseBackoffMs ?? 1000;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
  }

  /** Decides whether an attempt from `ip`, for `account` if known yet, may proceed now. */
  check(ip: string, account?: string): ThrottleDecision {
    const now = this.now();
    let retryAfterMs = 0;
    for (const key of keysFor(ip, account)) {
      const entry = this.entries.get(key);
      if (entry !== undefined && entry.blockedUntil > now) retryAfterMs = Math.max(retryAfterMs, entry.blockedUntil - now);
    }
    return { allowed: retryAfterMs === 0, retryAfterMs };
  }

  /** Records a failed attempt against the IP address and, if given, the account. */
  recordFailure(ip: string, account?: string): void {
    const now = this.now();
    this.expire(now);
    for (const key of keysFor(ip, account)) this.fail(key, now);
  }

  /**
   * Forgets the failures of the IP address and the account after a successful login.
   * An attacker who owns an account can reset its IP counter this way, but the
   * counter of each targeted account keeps growing.
   */
  recordSuccess(ip: string, account?: string): void {
    for (const key of keysFor(ip, account)) this.entries.delete(key);
  }

  /** Number of tracked keys, for metrics and tests. */
  get size(): number {
    return this.entries.size;
  }

  private fail(key: string, now: number): void {
    const previous = this.entries.get(key);
    const inWindow = previous !== undefined && now - previous.lastFailureAt <= this.options.windowMs;
    const failures = inWindow ? previous.failures + 1 : 1;

    let blockedUntil = inWindow ? previous.blockedUntil : 0;
    if (failures >= this.options.maxFailures) blockedUntil = now + this.backoff(failures);

    // Re-inserting keeps the map ordered from least to most recently failed.
    this.entries.delete(key);
    this.entries.set(key, { failures, lastFailureAt: now, blockedUntil });
    this.evictOverflow();
  }

  private backoff(failures: number): number {
    const doublings = Math.min(failures - this.options.maxFailures, 40);
    return Math.min(this.options.maxBackoffMs, this.baseBackoffMs * 2 ** doublings);
  }

  // Drops entries from the old end of the map while they are past their window and block.
  private expire(now: number): void {
    for (const [key, entry] of this.entries) {
      const expiresAt = Math.max(entry.lastFailureAt + this.options.windowMs, entry.blockedUntil);
      if (expiresAt > now) return;
      this.entries.delete(key);
    }
  }

  private evictOverflow(): void {
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) return;
      this.entries.delete(oldest.value);
    }
  }
}

function keysFor(ip: string, account: string | undefined): string[] {
  const keys = [`ip:${ipKey(ip)}`];
  if (account !== undefined && account !== '') keys.push(`account:${account}`);
  return keys;
}

/** Returns the address a failure is counted against: IPv4 as is, IPv6 as its /64 prefix. */
export function ipKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (isIPv4(ip) || !isIPv6(ip)) return ip;

  const groups = expandIPv6(ip.split('%')[0] ?? ip);
  return `${groups.slice(0, 4).join(':')}::/64`;
}

// Expands "::" so the address has eight groups of up to four hex digits, without leading zeros.
function expandIPv6(ip: string): string[] {
  const [head = '', tail] = ip.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  // A dotted IPv4 tail such as "::ffff:1.2.3.4" fills two groups.
  const width = [...headGroups, ...tailGroups].reduce((sum, group) => sum + (group.includes('.') ? 2 : 1), 0);
  const zeros = new Array<string>(Math.max(8 - width, 0)).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((group) => group.toLowerCase().replace(/^0+(?=.)/, ''));
}
