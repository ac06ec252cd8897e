/** Waiting times between delivery attempts. */

export interface BackoffSettings {
  baseMs: number;
  maxMs: number;
}

/**
 * Computes the wait in milliseconds after attempt number `attempts` (1 after the first)
 * failed. The base doubles for each earlier failure up to the maximum. The result is a
 * random value between half of that and all of it, so receivers that fail together are
 * not retried together.
 */
export function retryDelay(attempts: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 40);
  const capped = Math.min(settings.baseMs * 2 ** exponent, settings.maxMs);
  return Math.round(capped / 2 + (random() * capped) / 2);
}
