import { isIP } from 'node:net';
import { TLSSocket } from 'node:tls';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import websocket from '@fastify/websocket';
import type { WebSocket } from 'ws';
import type { ServerContext } from '../core/context.js';
import { ClientSession } from '../c2s/session.js';
import { checkHealth } from './health.js';
import { WebSocketTransport } from './websocket-transport.js';
import type { CertificatePair } from './certificates.js';
import { BOSH_PATH, registerBosh } from './bosh/endpoint.js';
import { registerWebClient } from './web-client.js';
import { registerAdminApi } from '../admin/plugin.js';
import { registerUploadRoutes } from './upload-http.js';
import { TrustedProxies, clientAddress } from './trusted-proxies.js';

const WEBSOCKET_PATH = '/xmpp-websocket';
const XRD_NS = 'http://docs.oasis-open.org/ns/xri/xrd-1.0';

/** Builds the HTTP or HTTPS server: XMPP over WebSocket, host-meta discovery and health. */
export async function createHttpServer(server: ServerContext, tls: CertificatePair | undefined): Promise<FastifyInstance> {
  const trusted = new TrustedProxies(server.config.http.trusted_proxies);
  const app = Fastify({
    // Per-request lines would flood the log; the HTTP layer reports warnings and errors only.
    loggerInstance: server.log.child({ component: tls ? 'https' : 'http' }, { level: 'warn' }) as FastifyBaseLogger,
    // Fastify then takes request.ip from X-Forwarded-For, right to left, while the address is listed.
    trustProxy: trusted.empty ? false : (address: string) => trusted.includes(address),
    ...(tls ? { https: { cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2' as const } } : {}),
  });
  const maxPayload = server.config.sessions.max_stanza_bytes * 2;
  await app.register(websocket, {
    options: { maxPayload, handleProtocols: (protocols: Set<string>) => (protocols.has('xmpp') ? 'xmpp' : false) },
  });

  app.get(WEBSOCKET_PATH, { websocket: true }, (socket: WebSocket, request: FastifyRequest) => {
    acceptWebSocket(server, socket, request);
  });
  app.get('/.well-known/host-meta', async (request, reply) => {
    reply.header('Access-Control-Allow-Origin', '*').type('application/xrd+xml');
    return hostMetaXml(discoveryLinks(request, server));
  });
  app.get('/.well-known/host-meta.json', async (request, reply) => {
    reply.header('Access-Control-Allow-Origin', '*').type('application/json');
    return { links: discoveryLinks(request, server) };
  });
  app.get('/health', async (_request, reply) => {
    const report = await checkHealth(server);
    return reply.code(report.status === 'ok' ? 200 : 503).send(report);
  });
  if (server.config.bosh.enabled) await registerBosh(app, server);
  await registerUploadRoutes(app, server, tls !== undefined);
  registerWebClient(app, server.config);
  await registerAdminApi(app, server);
  return app;
}

function acceptWebSocket(server: ServerContext, socket: WebSocket, request: FastifyRequest): void {
  if (socket.protocol !== 'xmpp') {
    // RFC 7395 section 3.2: the client must offer the "xmpp" subprotocol.
    socket.close(1002, 'the xmpp subprotocol is required');
    return;
  }
  // TODO: X-Forwarded-Proto from a trusted proxy makes BOSH secure (request.protocol) but not a WebSocket, which needs TLS to this node.
  const tlsSocket = request.raw.socket instanceof TLSSocket ? request.raw.socket : undefined;
  new ClientSession(server, new WebSocketTransport(socket, clientAddress(request), tlsSocket, server.config.sessions.max_stanza_bytes));
}

/** Lists the connection methods of XEP-0156: WebSocket, and BOSH when it is enabled. */
function discoveryLinks(request: FastifyRequest, server: ServerContext): { rel: string; href: string }[] {
  const secure = request.protocol === 'https';
  const authority = discoveryAuthority(request, server);
  const links = [{ rel: 'urn:xmpp:alt-connections:websocket', href: `${secure ? 'wss' : 'ws'}://${authority}${WEBSOCKET_PATH}` }];
  if (server.config.bosh.enabled) links.push({ rel: 'urn:xmpp:alt-connections:xbosh', href: `${secure ? 'https' : 'http'}://${authority}${BOSH_PATH}` });
  return links;
}

/**
 * Returns the host and port for discovery links. The request's Host header is used only
 * when it names the served domain, localhost or an IP address, so that a forged header
 * cannot make a cache hand out a link to another host.
 */
function discoveryAuthority(request: FastifyRequest, server: ServerContext): string {
  return isOwnHost(request.hostname, server.config.domain) ? request.host : `${server.config.domain}:${request.socket.localPort}`;
}

function isOwnHost(hostname: string, domain: string): boolean {
  const name = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return name === domain || name === 'localhost' || isIP(name) !== 0;
}

function hostMetaXml(links: { rel: string; href: string }[]): string {
  const lines = links.map((link) => `  <Link rel='${link.rel}' href='${link.href}'/>\n`).join('');
  return `<?xml version='1.0' encoding='utf-8'?>\n<XRD xmlns='${XRD_NS}'>\n${lines}</XRD>\n`;
}
