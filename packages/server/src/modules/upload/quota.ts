/** The per-account quota of uploads (`upload.quota_bytes`) and when expiry frees enough of it. */
import { StanzaError, x } from '@parley/xmpp';
import type { Config } from '../../config.js';
import type { UploadRepository } from '../../storage/index.js';
import { NS_UPLOAD } from './slot-request.js';

const DAY_MS = 86_400_000;

/**
 * Throws when `size` more bytes would exceed the account's quota: resource-constraint
 * (wait) with a retry stamp when expiring files will free enough by then, else not-allowed.
 * Pending slots count, so parallel requests cannot overshoot the quota.
 */
export async function checkQuota(uploads: UploadRepository, settings: Config['upload'], owner: { host: string; username: string }, size: number, now: number): Promise<void> {
  const quota = settings.quota_bytes;
  if (quota === 0) return;
  if (size > quota) throw new StanzaError('not-allowed', `The file is larger than your upload quota of ${quota} bytes.`);

  const reserved = await uploads.reservedBytes(owner.host, owner.username, now);
  const excess = reserved + size - quota;
  if (excess <= 0) return;

  const freedAt = settings.expire_after_days > 0 ? await timeWhenFreed(uploads, owner, excess, settings.expire_after_days) : undefined;
  const text = `Your uploads use ${reserved} of ${quota} bytes; this file needs ${size} more.`;
  if (freedAt === undefined) throw new StanzaError('not-allowed', `${text} Delete files or ask an administrator for a larger quota.`);
  const stamp = xmppStamp(Math.max(freedAt, now));
  throw new StanzaError('resource-constraint', `${text} Enough of them expire by ${stamp}.`, { type: 'wait', extra: x('retry', NS_UPLOAD, { stamp }) });
}

/** Returns when the oldest files that add up to `bytes` expire, or undefined when all of them are not enough. */
async function timeWhenFreed(uploads: UploadRepository, owner: { host: string; username: string }, bytes: number, days: number): Promise<number | undefined> {
  let freed = 0;
  for (const file of await uploads.storedFiles(owner.host, owner.username)) {
    freed += file.size;
    if (freed >= bytes) return file.storedAt + days * DAY_MS;
  }
  return undefined;
}

/** Formats a UTC timestamp of XEP-0082 without fractions of a second. */
export function xmppStamp(time: number): string {
  return new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
