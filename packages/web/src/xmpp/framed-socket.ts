import { XElement, serialize, x } from './element.js';
import { XmppStreamError } from './errors.js';
import { NS } from './ns.js';
import { parseFrame } from './xml-parser.js';

/** The part of the WebSocket API the connection uses; the browser's and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly protocol: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: never) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: never) => void) | null;
}

export type WebSocketConstructor = new (url: string, protocols: string | string[]) => WebSocketLike;

/** Why a socket ended: an error of ours or the server's, or a plain close. */
export interface SocketEnd {
  error?: Error;
}

/**
 * One WebSocket carrying an XMPP stream with RFC 7395 framing: each message is one element,
 * `<open/>` and `<close/>` of the framing namespace stand for the stream header and end.
 * Elements wait in a queue until `next()` takes them or a handler is set with `onElement`.
 */
export class FramedSocket {
  private readonly queue: XElement[] = [];
  private waiter: { resolve: (element: XElement) => void; reject: (err: Error) => void } | undefined;
  private handler: ((element: XElement) => void) | undefined;
  private endReason: SocketEnd | undefined;
  private endListener: ((end: SocketEnd) => void) | undefined;

  private constructor(private readonly socket: WebSocketLike) {
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => this.end({ error: new Error(`WebSocket closed (${event.code}${event.reason ? ` ${event.reason}` : ''})`) });
    socket.onerror = () => this.end({ error: new Error('WebSocket error') });
  }

  /** Opens a socket with the `xmpp` subprotocol; rejects when it cannot connect. */
  static open(url: string, WebSocketClass: WebSocketConstructor, timeoutMs: number): Promise<FramedSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocketClass(url, 'xmpp');
      const timer = setTimeout(() => fail(new Error('WebSocket connect timed out')), timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.onopen = socket.onclose = socket.onerror = null;
        socket.close();
        reject(err);
      };
      socket.onerror = () => fail(new Error(`cannot connect to ${url}`));
      socket.onclose = (event) => fail(new Error(`WebSocket closed (${event.code})`));
      socket.onopen = () => {
        clearTimeout(timer);
        // RFC 7395 section 3.2: a server that did not accept the subprotocol must not be used.
        if (socket.protocol !== 'xmpp') fail(new Error('the server did not accept the xmpp subprotocol'));
        else resolve(new FramedSocket(socket));
      };
    });
  }

  get ended(): boolean {
    return this.endReason !== undefined;
  }

  /**
   * Sends the stream header and waits for the server's header and stream features. `from` is
   * the account's bare JID, which XEP-0484 requires from clients that use FAST.
   */
  async openStream(domain: string, from?: string): Promise<XElement> {
    this.write(x('open', NS.FRAMING, { to: domain, from, version: '1.0', 'xml:lang': 'en' }));
    const open = await this.next();
    if (open.name !== 'open' || open.ns !== NS.FRAMING) throw new Error(`expected <open/>, got <${open.name}/>`);
    const features = await this.next();
    if (features.name !== 'features' || features.ns !== NS.STREAM) throw new Error(`expected stream features, got <${features.name}/>`);
    return features;
  }

  write(element: XElement): void {
    if (this.ended) return;
    this.socket.send(serialize(element));
  }

  /** The next element of the stream; rejects when the stream ends first. */
  next(): Promise<XElement> {
    const element = this.queue.shift();
    if (element) return Promise.resolve(element);
    if (this.endReason) return Promise.reject(this.endReason.error ?? new Error('the stream ended'));
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  /** Hands every element, queued and future, to `handler` instead of `next()`. */
  onElement(handler: (element: XElement) => void): void {
    this.handler = handler;
    for (const element of this.queue.splice(0)) handler(element);
  }

  onEnd(listener: (end: SocketEnd) => void): void {
    this.endListener = listener;
    if (this.endReason) listener(this.endReason);
  }

  /** Ends the stream politely: `<close/>`, then the socket. */
  close(): void {
    if (this.ended) return;
    this.write(x('close', NS.FRAMING));
    this.drop();
  }

  /** Drops the socket without closing the stream, as a lost connection would. */
  drop(): void {
    this.end({});
    this.socket.close(1000);
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string' && !(data instanceof ArrayBuffer) && !ArrayBuffer.isView(data)) return;
    let element: XElement;
    try {
      element = parseFrame(typeof data === 'string' ? data : new TextDecoder().decode(data as ArrayBuffer));
    } catch (err) {
      this.write(x('close', NS.FRAMING));
      this.fail(err as Error);
      return;
    }
    this.dispatch(element);
  }

  private dispatch(element: XElement): void {
    if (element.name === 'close' && element.ns === NS.FRAMING) return this.fail(new Error('the server closed the stream'));
    if (element.name === 'error' && element.ns === NS.STREAM) return this.fail(streamError(element));

    if (this.handler) this.handler(element);
    else if (this.waiter) {
      const waiter = this.waiter;
      this.waiter = undefined;
      waiter.resolve(element);
    } else this.queue.push(element);
  }

  private fail(error: Error): void {
    this.end({ error });
    this.socket.close(1000);
  }

  private end(reason: SocketEnd): void {
    if (this.endReason) return;
    this.endReason = reason;
    this.socket.onmessage = this.socket.onclose = this.socket.onerror = null;
    this.waiter?.reject(reason.error ?? new Error('the stream ended'));
    this.waiter = undefined;
    this.endListener?.(reason);
  }
}

function streamError(element: XElement): XmppStreamError {
  const condition = element.elements().find((child) => child.ns === NS.STREAMS_ERR && child.name !== 'text');
  return new XmppStreamError(condition?.name ?? 'undefined-condition', element.getChildText('text', NS.STREAMS_ERR));
}
