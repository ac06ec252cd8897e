import type { Socket } from 'node:net';
import { type ConnectionOptions, type SecureContext, TLSSocket, connect as connectTls } from 'node:tls';
import { type Element, NS, type StreamError, StreamParser, type XmlParseError, escapeAttr, serialize } from '@parley/xmpp';
import { isLoopbackAddress } from '../net/addresses.js';
import { serializeStreamLevel } from '../net/stream-level.js';
import { renamespace } from '../component/namespace.js';
import { S2S_NS } from './namespaces.js';

/** Grace period for the peer to close its side after we closed the stream. */
const CLOSE_GRACE_MS = 2000;

/** Callbacks through which a server-to-server stream reports to its owner. */
export interface ServerStreamEvents {
  header(header: Element): void;
  /** A top-level element; stanzas arrive in jabber:client, as the rest of the server uses them. */
  element(element: Element): void;
  end(): void;
  parseError(error: XmlParseError): void;
  /** The connection is gone; `reason` is for the log. */
  closed(reason: string): void;
}

/**
 * The byte level of one server-to-server stream (RFC 6120): framing, XML parsing and TLS in
 * either role. Stanzas go out in jabber:server and come in translated to jabber:client.
 */
export class ServerStreamSocket {
  readonly remoteAddress: string;
  readonly loopback: boolean;
  private socket: Socket;
  private events: ServerStreamEvents | undefined;
  private readonly parser: StreamParser;
  private ended = false;

  /** `remoteAddress` is given for a TLS socket over a wrapper stream, which has no address of its own. */
  constructor(socket: Socket, maxStanzaBytes: number, remoteAddress = socket.remoteAddress) {
    this.socket = socket;
    this.remoteAddress = remoteAddress ?? 'unknown';
    this.loopback = isLoopbackAddress(this.remoteAddress);
    this.parser = new StreamParser(
      {
        streamStart: (header) => this.events?.header(header),
        element: (element) => this.events?.element(toClientNamespace(element)),
        streamEnd: () => this.events?.end(),
        error: (error) => this.events?.parseError(error),
      },
      { maxStanzaBytes },
    );
    if (typeof socket.setNoDelay === 'function') socket.setNoDelay(true);
    this.listen(socket);
  }

  get secure(): boolean {
    return this.socket instanceof TLSSocket && this.socket.encrypted;
  }

  /** The TLS socket once the connection is encrypted. */
  get tlsSocket(): TLSSocket | undefined {
    return this.socket instanceof TLSSocket ? this.socket : undefined;
  }

  get isClosed(): boolean {
    return this.ended || this.socket.destroyed;
  }

  attach(events: ServerStreamEvents): void {
    this.events = events;
  }

  /** Writes our stream header; the `db` prefix is declared for peers that use dialback without the stream feature. */
  openStream(attrs: Record<string, string | undefined>): void {
    const attributes = Object.entries(attrs)
      .filter((entry): entry is [string, string] => entry[1] !== undefined)
      .map(([key, value]) => ` ${key}="${escapeAttr(value)}"`)
      .join('');
    this.write(`<?xml version='1.0'?><stream:stream xmlns="${NS.SERVER}" xmlns:stream="${NS.STREAM}" xmlns:db="${S2S_NS.DIALBACK}"${attributes}>`);
  }

  send(element: Element): void {
    this.write(serializeForServer(element));
  }

  /** Sends a stream error, closes the stream and then the connection. */
  closeWithError(error: StreamError): void {
    this.write(serializeStreamLevel(error.toElement(), false) + '</stream:stream>');
    this.end();
  }

  closeStream(): void {
    this.write('</stream:stream>');
    this.end();
  }

  /** Drops the connection at once. */
  destroy(): void {
    this.ended = true;
    this.socket.destroy();
  }

  /** Upgrades the connection after we sent `<proceed/>`; requests the peer's certificate for SASL EXTERNAL. */
  startServerTls(secureContext: SecureContext): Promise<void> {
    const secure = new TLSSocket(this.detachPlain(), { isServer: true, secureContext, requestCert: true, rejectUnauthorized: false });
    return this.switchTo(secure, 'secure');
  }

  /** Upgrades the connection after the peer sent `<proceed/>`. */
  startClientTls(options: ConnectionOptions): Promise<void> {
    const secure = connectTls({ ...options, socket: this.detachPlain() });
    return this.switchTo(secure, 'secureConnect');
  }

  /** Forgets parser state for a stream restart (after TLS or SASL). */
  restart(): void {
    this.parser.reset();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  private detachPlain(): Socket {
    const plain = this.socket;
    while (plain.writableCorked > 0) plain.uncork();
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    return plain;
  }

  private async switchTo(secure: TLSSocket, readyEvent: 'secure' | 'secureConnect'): Promise<void> {
    this.socket = secure;
    this.parser.reset();
    await new Promise<void>((resolve, reject) => {
      secure.once(readyEvent, () => resolve());
      secure.once('error', reject);
      secure.once('close', () => reject(new Error('the connection closed during the TLS handshake')));
    });
    this.listen(secure);
  }

  private listen(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.parser.write(chunk));
    socket.on('error', () => {
      // The 'close' event follows and reports the end of the connection.
    });
    socket.on('close', (hadError) => {
      this.ended = true;
      this.events?.closed(hadError ? 'connection error' : 'connection closed');
    });
  }

  private write(text: string): void {
    if (this.ended || this.socket.destroyed) return;
    this.socket.write(text);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }
}

/** Serializes an element for a jabber:server stream: stanzas are moved from jabber:client into it. */
export function serializeForServer(element: Element): string {
  if (element.ns === NS.STREAM) return serializeStreamLevel(element, false);
  if (element.ns === NS.CLIENT) return serialize(renamespace(element, NS.CLIENT, NS.SERVER), NS.SERVER);
  return serialize(element, NS.SERVER);
}

function toClientNamespace(element: Element): Element {
  return element.ns === NS.SERVER ? renamespace(element, NS.SERVER, NS.CLIENT) : element;
}
