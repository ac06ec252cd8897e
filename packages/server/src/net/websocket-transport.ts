import { TLSSocket } from 'node:tls';
import type { WebSocket } from 'ws';
import { type Element, NS, XmlParseError, parseFrame, serialize, x } from '@parley/xmpp';
import type { Transport, TransportEvents } from '../c2s/transport.js';
import { type ChannelBinding, channelBindings } from '../auth/channel-binding.js';
import { isLoopbackAddress } from './addresses.js';
import { serializeStreamLevel } from './stream-level.js';

const CLOSE_GRACE_MS = 2000;

/**
 * An XMPP stream over WebSocket (RFC 7395): each message contains one complete element
 * with its namespace declared, the stream opens with `<open/>` and ends with `<close/>`.
 */
export class WebSocketTransport implements Transport {
  readonly kind = 'websocket' as const;
  readonly canStartTls = false;
  readonly loopback: boolean;
  private events: TransportEvents | undefined;
  private ended = false;

  constructor(
    private readonly socket: WebSocket,
    readonly remoteAddress: string,
    private readonly tlsSocket: TLSSocket | undefined,
    private readonly maxStanzaBytes: number,
  ) {
    this.loopback = isLoopbackAddress(remoteAddress);
    socket.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    socket.on('close', () => {
      this.ended = true;
      this.events?.closed('connection closed');
    });
    socket.on('error', () => {
      // The 'close' event follows and reports the end of the connection.
    });
  }

  get secure(): boolean {
    return this.tlsSocket !== undefined;
  }

  get pendingBytes(): number {
    return this.socket.bufferedAmount;
  }

  attach(events: TransportEvents): void {
    this.events = events;
  }

  openStream(attrs: Record<string, string>): void {
    this.sendText(serialize(x('open', NS.FRAMING, attrs)));
  }

  send(element: Element): void {
    this.sendText(element.ns === NS.STREAM ? serializeStreamLevel(element, true) : serialize(element, ''));
  }

  /** RFC 7395 section 3.3.3 allows one element per message, so nothing is coalesced here. */
  sendMany(elements: Element[]): void {
    for (const element of elements) this.send(element);
  }

  closeWithError(error: Element): void {
    this.send(error);
    this.closeStream();
  }

  closeStream(): void {
    this.sendText(serialize(x('close', NS.FRAMING)));
    this.end();
  }

  async startTls(): Promise<void> {
    throw new Error('STARTTLS is not available on WebSocket');
  }

  restart(): void {
    // Every message is parsed on its own, so a restart leaves no parser state to reset.
  }


  channelBindings(): ChannelBinding[] {
    return this.tlsSocket ? channelBindings(this.tlsSocket) : [];
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.ended || !this.events) return;
    if (isBinary) {
      this.events.parseError(new XmlParseError('not-well-formed', 'Binary WebSocket messages are not allowed (RFC 7395 section 3.2).'));
      return;
    }
    if (data.length > this.maxStanzaBytes) {
      this.events.parseError(new XmlParseError('policy-violation', `The message exceeds the limit of ${this.maxStanzaBytes} bytes.`));
      return;
    }
    const text = data.toString('utf8');
    if (text.trim() === '') return;
    this.dispatch(text);
  }

  private dispatch(text: string): void {
    const events = this.events!;
    let element: Element;
    try {
      element = parseFrame(text, { maxStanzaBytes: this.maxStanzaBytes });
    } catch (err) {
      if (!(err instanceof XmlParseError)) throw err;
      events.parseError(err);
      return;
    }
    if (element.ns === NS.FRAMING && element.name === 'open') events.streamStart(element);
    else if (element.ns === NS.FRAMING && element.name === 'close') events.streamEnd();
    else if (element.ns === '') events.parseError(new XmlParseError('invalid-namespace', `<${element.name}/> has no namespace; declare xmlns="${NS.CLIENT}".`));
    else events.element(element);
  }

  private sendText(text: string): void {
    if (this.ended) return;
    this.socket.send(text);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.socket.close(1000);
    setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS).unref();
  }
}
