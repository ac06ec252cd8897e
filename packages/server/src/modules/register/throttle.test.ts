import { describe, expect, it } from 'vitest';
import { RegistrationThrottle } from './throttle.js';

function throttleAt(clock: { now: number }, max = 2) {
  return new RegistrationThrottle(max, 60_000, () => clock.now);
}

describe('RegistrationThrottle', () => {
  it('allows up to the maximum', () => {
    const throttle = throttleAt({ now: 0 });
    expect(throttle.take('192.0.2.1')).toBe(true);
    expect(throttle.take('192.0.2.1')).toBe(true);
  });

  it('refuses past the maximum', () => {
    const throttle = throttleAt({ now: 0 });
    throttle.take('192.0.2.1');
    throttle.take('192.0.2.1');
    expect(throttle.take('192.0.2.1')).toBe(false);
  });

  it('counts addresses apart', () => {
    const throttle = throttleAt({ now: 0 }, 1);
    throttle.take('192.0.2.1');
    expect(throttle.take('192.0.2.2')).toBe(true);
  });

  it('counts an IPv6 /64 as one address', () => {
    const throttle = throttleAt({ now: 0 }, 1);
    throttle.take('2001:db8::1');
    expect(throttle.take('2001:db8::2')).toBe(false);
  });

  it('allows again after the window', () => {
    const clock = { now: 0 };
    const throttle = throttleAt(clock, 1);
    throttle.take('192.0.2.1');
    clock.now = 60_001;
    expect(throttle.take('192.0.2.1')).toBe(true);
  });

  it('takes back a returned slot', () => {
    const throttle = throttleAt({ now: 0 }, 1);
    throttle.take('192.0.2.1');
    throttle.giveBack('192.0.2.1');
    expect(throttle.take('192.0.2.1')).toBe(true);
  });

  it('forgets expired addresses', () => {
    const clock = { now: 0 };
    const throttle = throttleAt(clock, 1);
    throttle.take('192.0.2.1');
    clock.now = 60_001;
    throttle.take('192.0.2.2');
    expect(throttle.size).toBe(1);
  });
});
