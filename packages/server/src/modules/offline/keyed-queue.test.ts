import { describe, expect, it } from 'vitest';
import { KeyedQueue } from './keyed-queue.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('KeyedQueue', () => {
  it('runs tasks of one key in order', async () => {
    const queue = new KeyedQueue();
    const order: number[] = [];
    await Promise.all([
      queue.run('a', async () => {
        await sleep(20);
        order.push(1);
      }),
      queue.run('a', async () => {
        order.push(2);
      }),
    ]);
    expect(order).toEqual([1, 2]);
  });

  it('runs keys concurrently', async () => {
    const queue = new KeyedQueue();
    const order: string[] = [];
    await Promise.all([
      queue.run('a', async () => {
        await sleep(20);
        order.push('a');
      }),
      queue.run('b', async () => {
        order.push('b');
      }),
    ]);
    expect(order).toEqual(['b', 'a']);
  });

  it('continues after a failed task', async () => {
    const queue = new KeyedQueue();
    const failed = queue.run('a', () => Promise.reject(new Error('boom')));
    const next = queue.run('a', () => Promise.resolve(7));
    await expect(failed).rejects.toThrow('boom');
    expect(await next).toBe(7);
  });

  it('forgets idle keys', async () => {
    const queue = new KeyedQueue();
    await queue.run('a', () => Promise.resolve());
    await sleep(0);
    expect(queue.size).toBe(0);
  });
});
