import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { type SecureContext, TLSSocket, createServer as createTlsServer } from 'node:tls';
import type { ServerContext } from '../core/context.js';
import { ClientSession } from '../c2s/session.js';
import type { CertificatePair } from './certificates.js';
import { proxyGate } from './proxy-listener.js';
import { TcpTransport } from './tcp-transport.js';
import { TrustedProxies } from './trusted-proxies.js';

/** Time a client on the direct TLS port has to finish the handshake, as tls.Server allows by default. */
const HANDSHAKE_TIMEOUT_MS = 120_000;
const ALPN_PROTOCOLS = ['xmpp-client'];

/** Creates the client port with STARTTLS, where a trusted balancer's connections start with a PROXY header. */
export function createStartTlsListener(server: ServerContext, secureContext: SecureContext): Server {
  const maxStanzaBytes = server.config.sessions.max_stanza_bytes;
  const gate = proxyGate(gateOptions(server, 'c2s'), (socket, clientAddress) => {
    new ClientSession(server, new TcpTransport(socket, secureContext, maxStanzaBytes, clientAddress));
  });
  return createTcpServer(gate);
}

/**
 * Creates the client port with TLS from the first byte (XEP-0368). With `proxy_protocol_from`
 * set, the PROXY header comes before the TLS handshake, so the port is a plain TCP server that
 * starts TLS itself once the header is read.
 */
export function createDirectTlsListener(server: ServerContext, certificate: CertificatePair, secureContext: SecureContext): Server {
  const maxStanzaBytes = server.config.sessions.max_stanza_bytes;
  const openSession = (socket: TLSSocket, clientAddress?: string): void => {
    new ClientSession(server, new TcpTransport(socket, undefined, maxStanzaBytes, clientAddress));
  };
  const options = gateOptions(server, 'c2s direct TLS');
  if (options.trusted.empty) {
    // tls.createServer ignores a `secureContext` option, so the key material goes in directly.
    const tlsOptions = { cert: certificate.cert, key: certificate.key, minVersion: 'TLSv1.2' as const, ALPNProtocols: ALPN_PROTOCOLS };
    return createTlsServer(tlsOptions, (socket) => openSession(socket));
  }
  return createTcpServer(proxyGate(options, (socket, clientAddress) => startServerTls(socket, secureContext, (secure) => openSession(secure, clientAddress))));
}

function gateOptions(server: ServerContext, listener: string): { trusted: TrustedProxies; log: ServerContext['log']; listener: string } {
  return { trusted: new TrustedProxies(server.config.listen.proxy_protocol_from), log: server.log, listener };
}

/** Runs the server side of a TLS handshake on `socket` and calls `onSecure` when it succeeds; a failure closes the connection. */
function startServerTls(socket: Socket, secureContext: SecureContext, onSecure: (secure: TLSSocket) => void): void {
  const secure = new TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ALPN_PROTOCOLS });
  const timer = setTimeout(() => secure.destroy(), HANDSHAKE_TIMEOUT_MS).unref();
  const onError = (): void => {
    secure.destroy();
  };
  secure.once('close', () => clearTimeout(timer));
  secure.once('error', onError);
  secure.once('secure', () => {
    clearTimeout(timer);
    secure.off('error', onError);
    onSecure(secure);
  });
}
