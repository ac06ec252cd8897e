/**
 * The PUT of a slot: the checks before any byte is read, then the transfer into the
 * FileStore. Refusals are ApiProblems, sent as problem+json; nothing is stored for them.
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { ApiProblem } from '../../admin/problem.js';
import { FileSizeError } from '../../files/index.js';
import type { UploadRecord } from '../../storage/index.js';
import { DEFAULT_TYPE, essenceOf } from './media-types.js';
import { type UploadService, hashSecret } from './service.js';

/** The request headers a PUT is checked against. */
export interface PutHeaders {
  authorization?: string;
  contentLength?: string;
  contentType?: string;
  transferEncoding?: string;
}

/**
 * Claims the slot for this PUT and returns it. The checks run in this order: the slot
 * exists (404), the secret (401 missing, 403 wrong), not used yet (409), not expired (410),
 * the length (411 missing, 413 larger, 400 other) and the type (400).
 */
export async function claimSlot(service: UploadService, id: string, filename: string, headers: PutHeaders): Promise<UploadRecord> {
  const uploads = service.server.storage.uploads;
  const record = /^[A-Za-z0-9_-]{16,64}$/.test(id) ? await uploads.get(id) : undefined;
  if (!record || record.filename !== filename) throw new ApiProblem(404, 'Not Found', 'There is no upload slot at this URL.');

  checkSecret(record, headers.authorization);
  if (record.state !== 'slot') throw new ApiProblem(409, 'Conflict', 'This slot was already used; request a new one.');
  const now = service.clock.now();
  if (record.slotExpiresAt <= now) throw new ApiProblem(410, 'Gone', 'This slot expired; request a new one.');

  checkLength(record, headers);
  const contentType = headers.contentType ?? DEFAULT_TYPE;
  if (essenceOf(contentType) !== essenceOf(record.contentType)) {
    throw new ApiProblem(400, 'Bad Request', `Content-Type is ${essenceOf(contentType)}, but the slot was requested for ${essenceOf(record.contentType)}.`, { field: 'Content-Type' });
  }

  if (!(await uploads.claim(id, now))) throw new ApiProblem(409, 'Conflict', 'Another upload to this slot is running or done.');
  return record;
}

function checkSecret(record: UploadRecord, authorization: string | undefined): void {
  const match = /^Bearer +([A-Za-z0-9_-]+)\s*$/i.exec(authorization ?? '');
  if (!match) throw new ApiProblem(401, 'Unauthorized', 'The PUT needs the Authorization header that came with the slot.');
  const presented = Buffer.from(hashSecret(match[1]!));
  const stored = Buffer.from(record.secretHash);
  if (presented.length !== stored.length || !timingSafeEqual(presented, stored)) throw new ApiProblem(403, 'Forbidden', 'The Authorization header is not the one of this slot.');
}

function checkLength(record: UploadRecord, headers: PutHeaders): void {
  if (headers.contentLength === undefined || headers.transferEncoding !== undefined) {
    throw new ApiProblem(411, 'Length Required', `The PUT needs Content-Length: ${record.size}, without chunked transfer encoding.`);
  }
  const length = /^\d{1,15}$/.test(headers.contentLength) ? Number(headers.contentLength) : NaN;
  if (length > record.size) throw new ApiProblem(413, 'Content Too Large', `The slot is for ${record.size} bytes, not ${length}.`);
  if (length !== record.size) throw new ApiProblem(400, 'Bad Request', `Content-Length must be ${record.size}, the size in the slot request.`, { field: 'Content-Length' });
}

/**
 * Streams the body into the store and marks the upload stored. When the body ends short,
 * runs long or the disk fails, the slot goes back to its owner and nothing is kept.
 */
export async function receiveFile(service: UploadService, record: UploadRecord, body: AsyncIterable<Uint8Array>): Promise<void> {
  const uploads = service.server.storage.uploads;
  service.uploading.add(record.id);
  try {
    await service.store.put(record.id, body, record.size);
    await uploads.markStored(record.id, service.clock.now());
  } catch (err) {
    await service.store.delete(record.id).catch(() => undefined);
    await uploads.release(record.id);
    throw asProblem(service, err);
  } finally {
    service.uploading.delete(record.id);
  }
  service.log.info({ owner: `${record.username}@${record.host}`, size: record.size, type: record.contentType }, 'file uploaded');
}

function asProblem(service: UploadService, err: unknown): ApiProblem {
  if (err instanceof FileSizeError) return new ApiProblem(400, 'Bad Request', `The body had ${err.tooLong ? 'more' : 'fewer'} bytes than Content-Length.`);
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') return new ApiProblem(400, 'Bad Request', 'The connection closed before the whole file arrived.');
  const incident = randomUUID();
  service.log.error({ err, incident }, 'storing an upload failed');
  return new ApiProblem(500, 'Internal Server Error', `The file could not be stored. The server log has the details under incident ${incident}.`, { incident });
}
