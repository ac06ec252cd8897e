import { randomFillSync } from 'node:crypto';

/** Bytes drawn from the system's generator at a time; ids then cost a copy, not a system call. */
const POOL_BYTES = 4096;

const pool = Buffer.allocUnsafe(POOL_BYTES);
let offset = POOL_BYTES;

/** Reserves `count` unused bytes of the pool and returns where they start. */
function take(count: number): number {
  if (count > POOL_BYTES) throw new RangeError(`At most ${POOL_BYTES} pooled random bytes at a time, not ${count}.`);
  if (offset + count > POOL_BYTES) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += count;
  return start;
}

/**
 * Returns `count` cryptographically random bytes from a pool refilled in 4 KiB steps.
 * Each byte is handed out once. For ids and nonces; keys and secrets use randomBytes.
 */
export function pooledRandomBytes(count: number): Buffer {
  const start = take(count);
  return Buffer.from(pool.subarray(start, start + count));
}

/** Returns a random id of `count` pooled bytes in base64url. */
export function randomId(count: number): string {
  const start = take(count);
  return pool.toString('base64url', start, start + count);
}
