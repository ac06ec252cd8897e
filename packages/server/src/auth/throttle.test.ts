import { describe, expect, it } from 'vitest';

import { AuthThrottle, ipKey } from './throttle.js';
import type { AuthThrottleOptions } from './throttle.js';

function throttleWithClock(options: Partial<AuthThrottleOptions> = {}): { throttle: AuthThrottle; clock: { now: number } } {
  const clock = { now: 1_000_000 };
  const throttle = new AuthThrottle({
    maxFailures: 3,
    windowMs: 60_000,
    maxBackoffMs: 10_000,
    baseBackoffMs: 1000,
    now: () => clock.now,
    ...options,
  });
  return { throttle, clock };
}

function failTimes(throttle: AuthThrottle, count: number, ip = '192.0.2.1', account?: string): void {
  for (let i = 0; i < count; i++) throttle.recordFailure(ip, account);
}

describe('AuthThrottle', () => {
  it('allows attempts below the limit', () => {
    const { throttle } = throttleWithClock();
    failTimes(throttle, 2);
    expect(throttle.check('192.0.2.1')).toEqual({ allowed: true, retryAfterMs: 0 });
  });

  it('blocks at the limit for the base back-off', () => {
    const { throttle } = throttleWithClock();
    failTimes(throttle, 3);
    expect(throttle.check('192.0.2.1')).toEqual({ allowed: false, retryAfterMs: 1000 });
  });

  it('doubles the back-off with each further failure', () => {
    const { throttle } = throttleWithClock();
    failTimes(throttle, 3);
    const delays = [throttle.check('192.0.2.1').retryAfterMs];
    for (let i = 0; i < 2; i++) {
      failTimes(throttle, 1);
      delays.push(throttle.check('192.0.2.1').retryAfterMs);
    }
    expect(delays).toEqual([1000, 2000, 4000]);
  });

  it('caps the back-off', () => {
    const { throttle } = throttleWithClock();
    failTimes(throttle, 50);
    expect(throttle.check('192.0.2.1').retryAfterMs).toBe(10_000);
  });

  it('allows again after the block', () => {
    const { throttle, clock } = throttleWithClock();
    failTimes(throttle, 3);
    clock.now += 1000;
    expect(throttle.check('192.0.2.1').allowed).toBe(true);
  });

  it('restarts the count after the window', () => {
    const { throttle, clock } = throttleWithClock();
    failTimes(throttle, 2);
    clock.now += 60_001;
    failTimes(throttle, 2);
    expect(throttle.check('192.0.2.1').allowed).toBe(true);
  });

  it('blocks an account from any address', () => {
    const { throttle } = throttleWithClock();
    throttle.recordFailure('192.0.2.1', 'juliet');
    throttle.recordFailure('192.0.2.2', 'juliet');
    throttle.recordFailure('192.0.2.3', 'juliet');
    expect(throttle.check('198.51.100.7', 'juliet').allowed).toBe(false);
  });

  it('lets other accounts in from a fresh address', () => {
    const { throttle } = throttleWithClock();
    failTimes(throttle, 3, '192.0.2.1', 'juliet');
    expect(throttle.check('198.51.100.7', 'romeo').allowed).toBe(true);
  });

  it('forgets failures after a success', () => {
    const { throttle } = throttleWithClock();
    failTimes(throttle, 2, '192.0.2.1', 'juliet');
    throttle.recordSuccess('192.0.2.1', 'juliet');
    failTimes(throttle, 2, '192.0.2.1', 'juliet');
    expect(throttle.check('192.0.2.1', 'juliet').allowed).toBe(true);
  });

  it('evicts the oldest entry beyond maxEntries', () => {
    const { throttle } = throttleWithClock({ maxEntries: 10, maxFailures: 1 });
    for (let i = 0; i < 20; i++) throttle.recordFailure(`192.0.2.${i}`);
    expect(throttle.size).toBe(10);
  });

  it('evicts least recently failed first', () => {
    const { throttle } = throttleWithClock({ maxEntries: 2, maxFailures: 1 });
    throttle.recordFailure('192.0.2.1');
    throttle.recordFailure('192.0.2.2');
    throttle.recordFailure('192.0.2.1');
    throttle.recordFailure('192.0.2.3');
    expect(throttle.check('192.0.2.1').allowed).toBe(false);
  });

  it('expires old entries', () => {
    const { throttle, clock } = throttleWithClock();
    for (let i = 0; i < 5; i++) throttle.recordFailure(`192.0.2.${i}`);
    clock.now += 60_001;
    throttle.recordFailure('198.51.100.1');
    expect(throttle.size).toBe(1);
  });

  it('counts an IPv6 /64 as one address', () => {
    const { throttle } = throttleWithClock();
    throttle.recordFailure('2001:db8:1:2::1');
    throttle.recordFailure('2001:db8:1:2:aaaa::2');
    throttle.recordFailure('2001:0db8:0001:0002:ffff:ffff:ffff:ffff');
    expect(throttle.check('2001:db8:1:2::99').allowed).toBe(false);
  });
});

describe('ipKey', () => {
  const cases: [string, string][] = [
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:DB8:0:1:2:3:4:5', '2001:db8:0:1::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b:1:2::192.0.2.1', '64:ff9b:1:2::/64'],
  ];

  it.each(cases)('%s', (ip, expected) => {
    expect(ipKey(ip)).toBe(expected);
  });
});
