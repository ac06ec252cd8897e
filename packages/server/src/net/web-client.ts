import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

/** The web client's build, resolved from this file in src/net or dist/net of the server package. */
const DEFAULT_ROOT = fileURLToPath(new URL('../../../web/dist/', import.meta.url));

/** Paths other parts of the listener own: never files of the client, never the SPA fallback. */
const RESERVED = ['/api/', '/api', '/xmpp-websocket', '/.well-known/', '/health', '/upload/'];

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
};

const IMMUTABLE = 'public, max-age=31536000, immutable';
const NOT_BUILT = 'The web client is not built yet. Run `npm run build` in the Parley checkout (or `npm run build -w @parley/web`), then reload this page.\n';

/**
 * Serves the built web client at `/` (`[web] enabled`, `[web] root`). Vite's hashed files under
 * /assets/ are cached for good; everything else is revalidated. A path that names no file and
 * looks like a client route gets index.html, so that reloading /chat/alice@example.org works.
 */
export function registerWebClient(app: FastifyInstance, config: Config): void {
  if (!config.web.enabled) return;
  const root = path.resolve(config.web.root || DEFAULT_ROOT);
  const handler = (request: FastifyRequest, reply: FastifyReply) => serve(root, request, reply);
  app.get('/', handler);
  app.get('/*', handler);
}

async function serve(root: string, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
  const urlPath = requestPath(request.url);
  if (urlPath === undefined) return reply.code(400).type('text/plain; charset=utf-8').send('Bad request path.\n');
  if (RESERVED.some((prefix) => urlPath === prefix || urlPath.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`))) return reply.callNotFound();

  const index = await findFile(root, '/index.html');
  if (!index) return reply.code(503).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(NOT_BUILT);

  const file = urlPath.endsWith('/') ? undefined : await findFile(root, urlPath);
  if (file) return sendFile(request, reply, file, urlPath.startsWith('/assets/') ? IMMUTABLE : 'no-cache');
  if (!isClientRoute(urlPath)) return reply.callNotFound();
  return sendFile(request, reply, index, 'no-cache');
}

/**
 * Decodes the path of a request URL. Returns undefined when it cannot name a file: a dot segment
 * (plain or percent-encoded), a backslash or a NUL byte is refused, not normalized away.
 */
function requestPath(url: string): string | undefined {
  const query = url.search(/[?#]/);
  let pathname: string;
  try {
    pathname = decodeURIComponent(query < 0 ? url : url.slice(0, query));
  } catch {
    return undefined;
  }
  if (!pathname.startsWith('/') || /[\\\0]/.test(pathname)) return undefined;
  return pathname.split('/').some((segment) => segment === '.' || segment === '..') ? undefined : pathname;
}

/** Checks for a client route: any path outside /assets/ that does not end in the extension of a static file. */
function isClientRoute(urlPath: string): boolean {
  const last = urlPath.slice(urlPath.lastIndexOf('/') + 1);
  return !urlPath.startsWith('/assets/') && !(path.extname(last).toLowerCase() in CONTENT_TYPES);
}

interface FoundFile {
  file: string;
  size: number;
  mtimeMs: number;
}

/** Resolves `urlPath` inside `root`; only regular files whose real path stays inside count. */
async function findFile(root: string, urlPath: string): Promise<FoundFile | undefined> {
  const candidate = path.resolve(root, `.${path.sep}${path.normalize(urlPath)}`);
  if (!candidate.startsWith(root + path.sep)) return undefined;
  try {
    const [real, realRoot] = await Promise.all([realpath(candidate), realpath(root)]);
    if (!real.startsWith(realRoot + path.sep)) return undefined;
    const info = await stat(real);
    return info.isFile() ? { file: real, size: info.size, mtimeMs: info.mtimeMs } : undefined;
  } catch {
    return undefined;
  }
}

function sendFile(request: FastifyRequest, reply: FastifyReply, found: FoundFile, cacheControl: string): FastifyReply {
  const etag = `"${found.size.toString(36)}-${Math.floor(found.mtimeMs).toString(36)}"`;
  reply
    .header('content-type', CONTENT_TYPES[path.extname(found.file).toLowerCase()] ?? 'application/octet-stream')
    .header('cache-control', cacheControl)
    .header('etag', etag)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer');
  // TODO: a Content-Security-Policy for index.html once the client's needs are settled.
  if (request.headers['if-none-match'] === etag) return reply.code(304).send();
  reply.header('content-length', found.size);
  return reply.send(createReadStream(found.file));
}
