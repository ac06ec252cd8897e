/** A sliding one-minute window of slot requests per account. */

const WINDOW_MS = 60_000;

export class SlotRateLimit {
  private readonly recent = new Map<string, number[]>();

  constructor(private readonly perMinute: number) {}

  /** Counts a request; returns undefined when it is allowed, else the time at which one will be. */
  take(account: string, now: number): number | undefined {
    if (this.perMinute === 0) return undefined;
    const times = (this.recent.get(account) ?? []).filter((time) => time > now - WINDOW_MS);
    this.recent.set(account, times);
    if (times.length >= this.perMinute) return times[0]! + WINDOW_MS;
    times.push(now);
    return undefined;
  }

  /** Forgets accounts without requests in the window, so the map does not grow without bound. */
  prune(now: number): void {
    for (const [account, times] of this.recent) {
      if (times.every((time) => time <= now - WINDOW_MS)) this.recent.delete(account);
    }
  }
}
