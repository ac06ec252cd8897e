import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { type SecureContext, TLSSocket } from 'node:tls';
import { ALPN_SERVER } from './namespaces.js';

/** First byte of a TLS record carrying a handshake message (a ClientHello on a new connection). */
const TLS_HANDSHAKE = 0x16;

/**
 * Waits for the first bytes of a new s2s connection and distinguishes direct TLS (XEP-0368) from a
 * plain stream that may use STARTTLS, so one port serves both. Resolves with the socket to
 * hand to the stream: the plain socket with the bytes put back, or a TLS socket in the
 * server role. Resolves undefined when the connection closes first.
 */
export function acceptEitherTls(socket: Socket, secureContext: SecureContext): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const onClose = () => resolve(undefined);
    socket.once('close', onClose);
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.off('close', onClose);
      if (first[0] !== TLS_HANDSHAKE) {
        socket.unshift(first);
        resolve(socket);
        return;
      }
      const replay = replayingDuplex(socket, first);
      resolve(new TLSSocket(replay as unknown as Socket, { isServer: true, secureContext, requestCert: true, rejectUnauthorized: false, ALPNProtocols: [ALPN_SERVER] }));
    });
  });
}

/**
 * Creates a stream that yields `first` and then everything `socket` reads, and writes to `socket`.
 * TLSSocket reads a net.Socket's handle directly and would miss the bytes already read, so
 * the TLS layer goes over this wrapper instead.
 */
function replayingDuplex(socket: Socket, first: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  duplex.push(first);
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('error', (err) => duplex.destroy(err));
  socket.on('close', () => duplex.destroy());
  return duplex;
}
