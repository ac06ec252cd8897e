/** A per-IP limit on in-band registrations (XEP-0077 section 3.1.1 lets a server refuse too many). */
import { ipKey } from '../../auth/throttle.js';

/** Upper bound of tracked addresses; the least recently used one is forgotten first. */
const MAX_TRACKED_ADDRESSES = 100_000;

/**
 * Counts registrations per IP address (IPv6 per /64) over a sliding window. A caller takes a
 * slot before creating an account and gives it back when the creation fails, so only
 * accounts actually created count.
 */
export class RegistrationThrottle {
  /** Times of the registrations in the window, oldest first, by address; the map is ordered by last use. */
  private readonly recent = new Map<string, number[]>();

  constructor(
    private readonly maxPerWindow: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a slot for `ip`; returns false when the address used up its slots in the window. */
  take(ip: string): boolean {
    const now = this.now();
    this.expire(now);
    const key = ipKey(ip);
    const times = (this.recent.get(key) ?? []).filter((time) => time > now - this.windowMs);
    if (times.length >= this.maxPerWindow) return false;

    times.push(now);
    this.recent.delete(key);
    this.recent.set(key, times);
    this.evictOverflow();
    return true;
  }

  /** Returns the last slot taken for `ip`, after the registration it was taken for failed. */
  giveBack(ip: string): void {
    const times = this.recent.get(ipKey(ip));
    times?.pop();
  }

  /** Number of tracked addresses. */
  get size(): number {
    return this.recent.size;
  }

  // Drops addresses from the least recently used end while their newest registration left the window.
  private expire(now: number): void {
    for (const [key, times] of this.recent) {
      const newest = times[times.length - 1];
      if (newest !== undefined && newest > now - this.windowMs) return;
      this.recent.delete(key);
    }
  }

  private evictOverflow(): void {
    while (this.recent.size > MAX_TRACKED_ADDRESSES) {
      const oldest = this.recent.keys().next();
      if (oldest.done === true) return;
      this.recent.delete(oldest.value);
    }
  }
}
