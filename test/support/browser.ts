import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

/** Debian's Chromium; playwright-core never downloads a browser of its own here. */
export const CHROMIUM_PATH = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';
export const CONVERSE_DIST = fileURLToPath(new URL('../../node_modules/converse.js/dist/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
};

/** A static HTTP server on 127.0.0.1. */
export interface StaticSite {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  close(): Promise<void>;
}

/**
 * Serves `pages` (URL path to HTML) and, under each URL prefix of `folders`, the files of
 * that folder, on an ephemeral port of 127.0.0.1. Anything else is 404.
 */
export async function serveStatic(pages: Record<string, string>, folders: Record<string, string>): Promise<StaticSite> {
  const server = createServer((request, response) => {
    void respond(request, response, pages, folders);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function respond(request: IncomingMessage, response: ServerResponse, pages: Record<string, string>, folders: Record<string, string>): Promise<void> {
  const urlPath = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
  const page = pages[urlPath];
  if (page !== undefined) {
    response.writeHead(200, { 'content-type': CONTENT_TYPES['.html'] }).end(page);
    return;
  }

  const file = resolveFile(urlPath, folders);
  try {
    if (!file) throw new Error('outside the served folders');
    const body = await readFile(file);
    response.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream' }).end(body);
  } catch {
    response.writeHead(404).end();
  }
}

/** Maps a URL path to a file inside one of `folders`, or undefined when it would leave that folder. */
function resolveFile(urlPath: string, folders: Record<string, string>): string | undefined {
  for (const [prefix, folder] of Object.entries(folders)) {
    if (!urlPath.startsWith(prefix)) continue;
    const file = path.resolve(folder, `.${path.sep}${urlPath.slice(prefix.length)}`);
    return file.startsWith(path.resolve(folder) + path.sep) ? file : undefined;
  }
  return undefined;
}

/** Options of launchChromium. */
export interface ChromiumOptions {
  /**
   * Replaces the camera and microphone with Chromium's test pattern and beep. With 'accept',
   * every media prompt is accepted, and Chromium 156 headless also answers getDisplayMedia
   * with a fake screen without a picker. With 'deny', headless Chromium rejects every prompt
   * with NotAllowedError (and getDisplayMedia never settles).
   */
  fakeMedia?: 'accept' | 'deny';
}

const FAKE_MEDIA_ARGS = {
  accept: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'],
  deny: ['--use-fake-device-for-media-stream'],
};

/** Launches Debian's Chromium, headless. */
export function launchChromium(options: ChromiumOptions = {}): Promise<Browser> {
  // Chromium's sandbox cannot start as root, and CI runs as root. Any other user keeps the sandbox.
  const asRoot = process.getuid?.() === 0;
  const extra = options.fakeMedia ? { args: FAKE_MEDIA_ARGS[options.fakeMedia] } : {};
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, chromiumSandbox: !asRoot, timeout: 30_000, ...extra });
}

/** Checks whether a request to `url` would leave the machine: http(s) or ws(s) to a host other than 127.0.0.1. */
function isRemote(url: URL): boolean {
  return ['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol) && url.hostname !== '127.0.0.1';
}

/**
 * Aborts every request and WebSocket of `context` whose host is not 127.0.0.1, so that
 * nothing leaves the machine. Returns the list the aborted URLs are added to.
 */
export async function keepOnLoopback(context: BrowserContext): Promise<string[]> {
  const blocked: string[] = [];
  await context.route(
    isRemote,
    (route) => {
      blocked.push(route.request().url());
      return route.abort('blockedbyclient');
    },
  );
  await context.routeWebSocket(
    isRemote,
    (socket) => {
      blocked.push(socket.url());
      return socket.close();
    },
  );
  return blocked;
}

/**
 * Builds an HTML page that loads Converse.js from /dist/ and initializes it with `settings`. Its
 * plugin 'parley-test' hands the test what only plugins can reach: Converse's API as
 * `window.parleyTest.api` and its models as `window.parleyTest.state`. The plugin also
 * records Converse's 'connected' event in `window.parleyTest.events`.
 */
export function conversePage(settings: Record<string, unknown>): string {
  // Escaping '<' keeps a value from closing the script element.
  const json = JSON.stringify({ ...settings, whitelisted_plugins: ['parley-test'] }).replaceAll('<', '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Converse.js on Parley</title>
<link rel="stylesheet" href="/dist/converse.min.css">
<script type="module" src="/dist/converse.min.js"></script>
<script type="module">
window.parleyTest = { events: [] };
converse.plugins.add('parley-test', {
  initialize() {
    const { api, state } = this._converse;
    Object.assign(window.parleyTest, { api, state });
    api.listen.on('connected', () => window.parleyTest.events.push('connected'));
  },
});
await converse.initialize(${json});
</script>
</head>
<body></body>
</html>
`;
}
