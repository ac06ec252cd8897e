import { describe, expect, it } from 'vitest';
import { retryDelay } from './backoff.js';

const SETTINGS = { baseMs: 1000, maxMs: 60_000 };

describe('retryDelay', () => {
  it('doubles with each failure at the top of the jitter range', () => {
    expect([1, 2, 3, 4].map((attempts) => retryDelay(attempts, SETTINGS, () => 1))).toEqual([1000, 2000, 4000, 8000]);
  });

  it('waits at least half of the backoff', () => {
    expect(retryDelay(3, SETTINGS, () => 0)).toBe(2000);
  });

  it('stops growing at the maximum', () => {
    expect(retryDelay(30, SETTINGS, () => 1)).toBe(60_000);
  });

  it('stays finite for huge attempt counts', () => {
    expect(retryDelay(10_000, SETTINGS, () => 0.5)).toBe(45_000);
  });
});
