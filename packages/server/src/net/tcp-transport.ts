import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { type Element, NS, StreamParser, escapeAttr, serialize } from '@parley/xmpp';
import type { Transport, TransportEvents } from '../c2s/transport.js';
import { type ChannelBinding, channelBindings } from '../auth/channel-binding.js';
import { isLoopbackAddress } from './addresses.js';
import { serializeStreamLevel } from './stream-level.js';

/** Grace period for the peer to close its side after we closed the stream. */
const CLOSE_GRACE_MS = 2000;

/**
 * An XMPP stream over TCP (RFC 6120): plain with STARTTLS, or TLS from the first
 * byte (XEP-0368). Stream-level elements are written with the `stream:` prefix.
 */
export class TcpTransport implements Transport {
  readonly kind = 'tcp' as const;
  readonly remoteAddress: string;
  readonly loopback: boolean;
  private socket: Socket;
  private events: TransportEvents | undefined;
  private readonly parser: StreamParser;
  private tlsStarted: boolean;
  private ended = false;

  /** `remoteAddress` is the client's address from a PROXY header, when a trusted balancer sent one. */
  constructor(
    socket: Socket,
    private readonly secureContext: SecureContext | undefined,
    maxStanzaBytes: number,
    remoteAddress = socket.remoteAddress ?? 'unknown',
  ) {
    this.socket = socket;
    this.remoteAddress = remoteAddress;
    this.loopback = isLoopbackAddress(this.remoteAddress);
    this.tlsStarted = socket instanceof TLSSocket;
    this.parser = new StreamParser(
      {
        streamStart: (header) => this.events?.streamStart(header),
        element: (element) => this.events?.element(element),
        streamEnd: () => this.events?.streamEnd(),
        error: (error) => this.events?.parseError(error),
      },
      { maxStanzaBytes },
    );
    socket.setNoDelay(true);
    this.listen(socket);
    // A socket whose PROXY header was read comes paused, with the client's first bytes put back.
    socket.resume();
  }

  get secure(): boolean {
    return this.tlsStarted;
  }

  get canStartTls(): boolean {
    return !this.tlsStarted && this.secureContext !== undefined;
  }

  get pendingBytes(): number {
    return this.socket.writableLength;
  }

  attach(events: TransportEvents): void {
    this.events = events;
  }

  openStream(attrs: Record<string, string>): void {
    const attributes = Object.entries(attrs)
      .map(([key, value]) => ` ${key}="${escapeAttr(value)}"`)
      .join('');
    this.coalesceThisTick();
    this.write(`<?xml version='1.0'?><stream:stream xmlns="${NS.CLIENT}" xmlns:stream="${NS.STREAM}"${attributes}>`);
  }

  send(element: Element): void {
    this.write(this.serialize(element));
  }

  sendMany(elements: Element[]): void {
    this.write(elements.map((element) => this.serialize(element)).join(''));
  }

  closeWithError(error: Element): void {
    this.write(this.serialize(error) + '</stream:stream>');
    this.end();
  }

  closeStream(): void {
    this.write('</stream:stream>');
    this.end();
  }

  async startTls(): Promise<void> {
    if (!this.secureContext) throw new Error('no TLS certificate configured');
    const plain = this.socket;
    while (plain.writableCorked > 0) plain.uncork();
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    plain.removeAllListeners('error');
    const secure = new TLSSocket(plain, { isServer: true, secureContext: this.secureContext });
    this.socket = secure;
    this.tlsStarted = true;
    this.parser.reset();
    this.listen(secure);
    await new Promise<void>((resolve, reject) => {
      secure.once('secure', resolve);
      secure.once('error', reject);
    });
  }

  restart(): void {
    this.parser.reset();
  }


  channelBindings(): ChannelBinding[] {
    return this.socket instanceof TLSSocket ? channelBindings(this.socket) : [];
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
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

  /**
   * Holds back writes until the end of this tick, so that the stream header and the features
   * written right after it reach the client in one segment even with Nagle off. A client
   * then never reads the header without the features.
   */
  private coalesceThisTick(): void {
    const socket = this.socket;
    socket.cork();
    process.nextTick(() => socket.uncork());
  }

  private serialize(element: Element): string {
    return element.ns === NS.STREAM ? serializeStreamLevel(element, false) : serialize(element, NS.CLIENT);
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
