import { describe, expect, it } from 'vitest';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('doubles the bound up to the cap, with full jitter', () => {
    const bounds = new Backoff({ baseMs: 100, capMs: 1000 }, () => 0.999999);
    expect([0, 1, 2, 3, 4, 5].map(() => bounds.next())).toEqual([99, 199, 399, 799, 999, 999]);
    const low = new Backoff({ baseMs: 100, capMs: 1000 }, () => 0);
    expect(low.next()).toBe(0);
  });

  it('starts over after reset', () => {
    const backoff = new Backoff({ baseMs: 100, capMs: 1000 }, () => 0.5);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(50);
  });
});
