import { describe, expect, it } from 'vitest';
import { MessageRate } from './limits.js';

describe('MessageRate', () => {
  it('burst, refusal without debt, refill', () => {
    let now = 0;
    const rate = new MessageRate(2, 3, () => now);
    expect([rate.tryTake(), rate.tryTake(), rate.tryTake(), rate.tryTake(), rate.tryTake()]).toEqual([true, true, true, false, false]);
    now = 500;
    expect(rate.tryTake()).toBe(true);
    expect(rate.tryTake()).toBe(false);
    now = 10_000;
    expect([rate.tryTake(), rate.tryTake(), rate.tryTake(), rate.tryTake()]).toEqual([true, true, true, false]);
  });
});
