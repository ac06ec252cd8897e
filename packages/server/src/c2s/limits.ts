/**
 * A token bucket: `rate` tokens per second up to `burst`. `take` spends one token and
 * returns 0, or returns how many milliseconds to wait before the next token exists;
 * `tryTake` refuses instead of waiting.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = burst;
    this.updatedAt = now();
  }

  take(): number {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    const waitMs = ((1 - this.tokens) * 1000) / this.rate;
    this.tokens -= 1;
    return Math.ceil(waitMs);
  }

  /** Spends one token and returns true, or returns false without going into debt when none is left. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) * this.rate) / 1000);
    this.updatedAt = now;
  }
}
