import { describe, expect, it } from 'vitest';
import { TokenBucket } from './limits.js';

describe('TokenBucket.tryTake', () => {
  it('burst, refusal without debt, refill', () => {
    let now = 0;
    const rate = new TokenBucket(2, 3, () => now);
    expect([rate.tryTake(), rate.tryTake(), rate.tryTake(), rate.tryTake(), rate.tryTake()]).toEqual([true, true, true, false, false]);
    now = 500;
    expect(rate.tryTake()).toBe(true);
    expect(rate.tryTake()).toBe(false);
    now = 10_000;
    expect([rate.tryTake(), rate.tryTake(), rate.tryTake(), rate.tryTake()]).toEqual([true, true, true, false]);
  });
});
