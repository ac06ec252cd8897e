import { describe, expect, it } from 'vitest';
import { AccountLocks } from './lock.js';

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('AccountLocks', () => {
  it('runs tasks of one account in order', async () => {
    const locks = new AccountLocks();
    const events: string[] = [];
    const task = (name: string, ms: number) => async () => {
      events.push(`${name} start`);
      await delay(ms);
      events.push(`${name} end`);
    };
    await Promise.all([locks.run('alice', task('first', 20)), locks.run('alice', task('second', 1))]);
    expect(events).toEqual(['first start', 'first end', 'second start', 'second end']);
  });

  it('runs other accounts in parallel', async () => {
    const locks = new AccountLocks();
    const events: string[] = [];
    const slow = locks.run('alice', async () => {
      await delay(20);
      events.push('alice');
    });
    await locks.run('bob', async () => {
      events.push('bob');
    });
    await slow;
    expect(events).toEqual(['bob', 'alice']);
  });

  it('continues after a failed task', async () => {
    const locks = new AccountLocks();
    await expect(locks.run('alice', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await locks.run('alice', () => Promise.resolve(42))).toBe(42);
  });
});
