import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { type ProxyHeader, parseProxyHeader } from './proxy-protocol.js';
import type { TrustedProxies } from './trusted-proxies.js';

/** Time a trusted balancer has to deliver the whole PROXY header after connecting. */
export const PROXY_HEADER_TIMEOUT_MS = 5000;

export interface ProxyGateOptions {
  trusted: TrustedProxies;
  log: Logger;
  /** The listener's name, for the log. */
  listener: string;
  timeoutMs?: number;
}

/**
 * Wraps the connection handler of a listener that speaks the PROXY protocol. A connection from
 * a trusted balancer must start with a valid header, and `accept` gets the client address the
 * header names. Without a valid header the connection is closed with a log line. A connection
 * from elsewhere is accepted as it is, with its socket's address. After a header, `accept` gets
 * the socket paused, with the bytes that followed the header put back, so it must resume it.
 */
export function proxyGate(options: ProxyGateOptions, accept: (socket: Socket, clientAddress: string) => void): (socket: Socket) => void {
  return (socket) => {
    const peer = socket.remoteAddress ?? 'unknown';
    if (!options.trusted.includes(peer)) {
      accept(socket, peer);
      return;
    }
    readProxyHeader(socket, options.timeoutMs ?? PROXY_HEADER_TIMEOUT_MS).then(
      (header) => {
        if (!socket.destroyed) accept(socket, header.source?.address ?? peer);
      },
      (err: Error) => {
        options.log.warn({ listener: options.listener, peer, reason: err.message }, 'closed a connection from a trusted proxy without a valid PROXY header');
        socket.destroy();
      },
    );
  };
}

/**
 * Reads the PROXY header at the start of `socket` and resolves with it. The socket is then
 * paused, and the bytes after the header are unshifted. Rejects when the header is invalid or
 * oversized, when the connection closes, or when `timeoutMs` passes first.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxyHeader> {
  return new Promise((resolve, reject) => {
    let received: Buffer = Buffer.alloc(0);
    const stop = (): void => {
      clearTimeout(timer);
      socket.pause();
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    const fail = (reason: string): void => {
      stop();
      reject(new Error(reason));
    };
    const onData = (chunk: Buffer): void => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const result = parseProxyHeader(received);
      if (result.status === 'incomplete') return;
      if (result.status === 'invalid') return fail(result.reason);
      stop();
      if (result.bytes < received.length) socket.unshift(received.subarray(result.bytes));
      resolve(result.header);
    };
    const onClose = (): void => fail('the connection closed before the PROXY header was complete');
    const timer = setTimeout(() => fail(`no complete PROXY header within ${timeoutMs} ms`), timeoutMs);

    // Resets and other errors end in 'close'; without a listener an error would be thrown.
    socket.on('error', () => undefined);
    socket.on('data', onData);
    socket.on('close', onClose);
  });
}
