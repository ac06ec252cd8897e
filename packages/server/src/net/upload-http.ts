/**
 * The HTTP side of file upload (XEP-0363) on the HTTP and HTTPS listeners: PUT into a slot,
 * GET and HEAD of files and their thumbnails, and CORS for clients on other origins.
 * Errors are RFC 9457 problem documents.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApiProblem } from '../admin/problem.js';
import { sendProblem } from '../admin/errors.js';
import type { ServerContext } from '../core/context.js';
import { UPLOAD_PATH, type UploadService, uploadServiceOf } from '../modules/upload/index.js';
import { DOWNLOAD_CSP, IMMUTABLE, contentDisposition, ifRangeHolds, noneMatch, parseRange } from '../modules/upload/download-headers.js';
import { isInlineType } from '../modules/upload/media-types.js';
import { isThumbnailWidth, thumbnailTypeOf } from '../modules/upload/thumbnails.js';
import { claimSlot, receiveFile } from '../modules/upload/transfer.js';
import type { UploadRecord } from '../storage/index.js';

interface FileParams {
  id: string;
  name: string;
}

/** Registers the upload routes when the upload service runs; `secure` is true on the HTTPS listener. */
export async function registerUploadRoutes(app: FastifyInstance, server: ServerContext, secure: boolean): Promise<void> {
  const attached = uploadServiceOf(server);
  if (!attached) return;
  const { service, sweeper } = attached;

  app.addHook('onListen', () => {
    const port = (app.server.address() as AddressInfo | null)?.port;
    if (port !== undefined) service.listeners[secure ? 'https' : 'http'] = port;
  });
  app.addHook('onClose', () => sweeper.stop());
  // A download that finishes while the listener closes would otherwise keep its idle
  // keep-alive connection, and with it the close, open for the whole keep-alive timeout.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });

  await app.register(async (scope) => {
    // Bodies stay unread in request.raw, so a PUT streams to disk and a refused one reads nothing.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    scope.addHook('onRequest', async (_request, reply) => {
      allowCrossOrigin(reply);
    });
    scope.addHook('onResponse', async (request) => {
      if (closing) request.raw.socket.end();
    });
    scope.setErrorHandler(problemHandler(service.log));

    scope.options(`${UPLOAD_PATH}*`, async (_request, reply) => reply.header('Access-Control-Max-Age', '86400').code(204).send());
    scope.put<{ Params: FileParams }>(`${UPLOAD_PATH}:id/:name`, (request, reply) => put(service, request, reply));
    scope.route<{ Params: FileParams; Querystring: { thumbnail?: string } }>({
      method: ['GET', 'HEAD'],
      url: `${UPLOAD_PATH}:id/:name`,
      handler: (request, reply) => download(service, request, reply),
    });
    scope.route({
      method: ['GET', 'HEAD', 'PUT'],
      url: `${UPLOAD_PATH}*`,
      handler: async () => {
        throw new ApiProblem(404, 'Not Found', 'Upload URLs have the form /upload/SLOT/NAME.');
      },
    });
  });
}

/** XEP-0363 section 9 (CORS): any origin may upload and download, with the slot's headers. */
function allowCrossOrigin(reply: FastifyReply): void {
  reply
    .header('Access-Control-Allow-Origin', '*')
    .header('Access-Control-Allow-Methods', 'GET, HEAD, PUT, OPTIONS')
    .header('Access-Control-Allow-Headers', 'Authorization, Content-Type, Range, If-Range, If-None-Match')
    .header('Access-Control-Expose-Headers', 'Content-Length, Content-Range, Content-Disposition, ETag, Accept-Ranges');
}

async function put(service: UploadService, request: FastifyRequest<{ Params: FileParams }>, reply: FastifyReply): Promise<FastifyReply> {
  const { headers } = request;
  let record: UploadRecord;
  try {
    record = await claimSlot(service, request.params.id, request.params.name, {
      authorization: headers.authorization,
      contentLength: headers['content-length'],
      contentType: headers['content-type'],
      transferEncoding: headers['transfer-encoding'],
    });
  } catch (err) {
    // The body was not read; closing the connection spares reading it.
    reply.header('Connection', 'close');
    throw err;
  }
  await receiveFile(service, record, request.raw);
  return reply.code(201).header('Location', service.fileUrl(record.id, record.filename)).send();
}

async function download(service: UploadService, request: FastifyRequest<{ Params: FileParams; Querystring: { thumbnail?: string } }>, reply: FastifyReply): Promise<FastifyReply> {
  const record = await service.findStored(request.params.id, request.params.name);
  if (!record) throw new ApiProblem(404, 'Not Found', 'There is no file at this URL; it may have expired.');

  const file = await fileToSend(service, record, request.query.thumbnail);
  const stat = await service.store.stat(file.id);
  if (!stat) {
    service.log.warn({ owner: `${record.username}@${record.host}` }, 'an uploaded file is missing from the file store');
    throw new ApiProblem(404, 'Not Found', 'The file is gone.');
  }

  const etag = `"${file.id}"`;
  const lastModified = new Date(record.storedAt ?? stat.modifiedAt).toUTCString();
  reply
    .header('Content-Type', file.type)
    .header('ETag', etag)
    .header('Last-Modified', lastModified)
    .header('Cache-Control', IMMUTABLE)
    .header('X-Content-Type-Options', 'nosniff')
    .header('Content-Security-Policy', DOWNLOAD_CSP)
    .header('Cross-Origin-Resource-Policy', 'cross-origin')
    .header('Content-Disposition', contentDisposition(record.filename, isInlineType(file.type)))
    .header('Accept-Ranges', 'bytes');
  if (noneMatch(firstValue(request.headers['if-none-match']), etag)) return reply.code(304).send();

  const range = ifRangeHolds(firstValue(request.headers['if-range']), etag, lastModified) ? parseRange(request.headers.range, stat.size) : { kind: 'whole' as const };
  if (range.kind === 'unsatisfiable') {
    reply.header('Content-Range', `bytes */${stat.size}`);
    throw new ApiProblem(416, 'Range Not Satisfiable', `The file has ${stat.size} bytes.`);
  }
  const byteRange = range.kind === 'range' ? { start: range.start, end: range.end } : undefined;
  const length = byteRange ? byteRange.end - byteRange.start + 1 : stat.size;
  if (byteRange) reply.code(206).header('Content-Range', `bytes ${byteRange.start}-${byteRange.end}/${stat.size}`);
  reply.header('Content-Length', String(length));
  if (request.method === 'HEAD' || length === 0) return reply.send();

  const stream = await service.store.open(file.id, byteRange);
  if (!stream) throw new ApiProblem(404, 'Not Found', 'The file is gone.');
  return reply.send(stream);
}

/** Picks the stored file itself, or its thumbnail for `?thumbnail=WIDTH`. */
async function fileToSend(service: UploadService, record: UploadRecord, thumbnail: string | undefined): Promise<{ id: string; type: string }> {
  if (thumbnail === undefined) return { id: record.id, type: record.contentType };
  const width = /^\d{1,4}$/.test(thumbnail) ? Number(thumbnail) : NaN;
  if (!isThumbnailWidth(width)) throw new ApiProblem(400, 'Bad Request', 'thumbnail must be one of the widths 160, 320 or 640.', { field: 'thumbnail' });
  const id = await service.thumbnails.thumbnail(record, width);
  return { id, type: thumbnailTypeOf(record.contentType)! };
}

function firstValue(header: string | string[] | undefined): string | undefined {
  return Array.isArray(header) ? header.join(', ') : header;
}

/** Problem documents for refusals; anything unexpected is a 500 whose incident id the log repeats. */
function problemHandler(log: Logger) {
  return (error: Error & { statusCode?: number }, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (error instanceof ApiProblem) {
      if (error.status === 401) reply.header('WWW-Authenticate', 'Bearer realm="upload"');
      return sendProblem(reply, error);
    }
    const status = error.statusCode;
    if (status !== undefined && status >= 400 && status < 500) return sendProblem(reply, new ApiProblem(status, 'Bad Request', error.message));
    const incident = randomUUID();
    log.error({ err: error, incident, method: request.method }, 'upload request failed');
    return sendProblem(reply, new ApiProblem(500, 'Internal Server Error', `The request failed. The server log has the details under incident ${incident}.`, { incident }));
  };
}
