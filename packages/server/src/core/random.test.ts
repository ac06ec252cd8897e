import { describe, expect, it } from 'vitest';

import { pooledRandomBytes, randomId } from './random.js';

describe('pooled random bytes', () => {
  it('gives unique ids across refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) seen.add(randomId(9));
    expect(seen.size).toBe(5000);
  });

  it('sizes ids in base64url', () => {
    expect(randomId(9)).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(randomId(6)).toMatch(/^[A-Za-z0-9_-]{8}$/);
  });

  it('returns stable copies', () => {
    const first = pooledRandomBytes(16);
    const copy = Buffer.from(first);
    for (let i = 0; i < 600; i++) pooledRandomBytes(16);
    expect(first.equals(copy)).toBe(true);
  });

  it('spreads bytes over all values', () => {
    const counts = new Array<number>(256).fill(0);
    for (const byte of pooledRandomBytes(4096)) counts[byte]!++;
    expect(counts.filter((count) => count === 0).length).toBeLessThan(5);
  });

  it('refuses more than the pool holds', () => {
    expect(() => pooledRandomBytes(5000)).toThrow(RangeError);
  });
});
