import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { type Element, NS, StreamParser, XmlParseError, parseFrame, serialize, x } from '@parley/xmpp';

/** The domain every test server serves. */
export const TEST_DOMAIN = 'example.test';

const DEFAULT_TIMEOUT_MS = 2000;
/** Client-side parser limit: large, so that the client never rejects what the server sends. */
const CLIENT_MAX_STANZA_BYTES = 16 * 1024 * 1024;

type Predicate = (el: Element) => boolean;

interface Waiter {
  predicate: Predicate;
  resolve(el: Element): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Describes an element briefly for failure messages: `<message type="chat">` and the like. */
export function describeElement(el: Element): string {
  const attrs = Object.entries(el.attrs)
    .map(([key, value]) => ` ${key}="${value}"`)
    .join('');
  return `<${el.name}${attrs}> in ${el.ns}`;
}

/** Returns the condition of a `<stream:error/>` element, or undefined for any other element. */
export function streamErrorCondition(el: Element): string | undefined {
  if (el.name !== 'error' || el.ns !== NS.STREAM) return undefined;
  return el.getChildByNs(NS.STREAMS)?.name;
}

/**
 * Elements received on a connection, kept until a test takes them, so that `next`
 * finds an element that arrived before it was called.
 */
class ElementBuffer {
  private readonly items: Element[] = [];
  private readonly waiters = new Set<Waiter>();
  private readonly observers = new Set<(el: Element) => void>();
  private closedReason: string | undefined;

  push(el: Element): void {
    for (const observer of this.observers) observer(el);
    for (const waiter of this.waiters) {
      if (!waiter.predicate(el)) continue;
      this.waiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(el);
      return;
    }
    this.items.push(el);
  }

  /** Rejects every pending `next`, because no element can arrive any more. */
  close(reason: string): void {
    this.closedReason = reason;
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error(`${reason} while waiting for an element matching ${waiter.predicate.toString()}; unread: ${this.describeUnread()}`));
    }
    this.waiters.clear();
  }

  next(predicate: Predicate, timeoutMs: number): Promise<Element> {
    const index = this.items.findIndex(predicate);
    if (index !== -1) return Promise.resolve(this.items.splice(index, 1)[0]!);
    if (this.closedReason !== undefined) {
      return Promise.reject(new Error(`${this.closedReason}: no element matching ${predicate.toString()}; unread: ${this.describeUnread()}`));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for an element matching ${predicate.toString()}; unread: ${this.describeUnread()}`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Resolves after `ms` unless a matching element is unread now or arrives meanwhile. */
  nothing(predicate: Predicate, ms: number): Promise<void> {
    const unread = this.items.find(predicate);
    if (unread) return Promise.reject(new Error(`unexpected element ${describeElement(unread)}`));
    return new Promise((resolve, reject) => {
      const observer = (el: Element) => {
        if (!predicate(el)) return;
        this.observers.delete(observer);
        clearTimeout(timer);
        reject(new Error(`unexpected element ${describeElement(el)}`));
      };
      const timer = setTimeout(() => {
        this.observers.delete(observer);
        resolve();
      }, ms);
      this.observers.add(observer);
    });
  }

  /** Unread elements, oldest first; they stay in the buffer. */
  unread(): Element[] {
    return [...this.items];
  }

  private describeUnread(): string {
    return this.items.length === 0 ? 'none' : this.items.map(describeElement).join(', ');
  }
}

/**
 * A client connection for tests that drive the protocol by hand: it writes whatever it
 * is given (bytes, strings, elements) and parses what the server sends, with the
 * project's StreamParser on TCP and parseFrame for each WebSocket message.
 */
export class RawConnection {
  /** The last stream header the server sent: `<stream:stream>` on TCP, `<open/>` on WebSocket. */
  header: Element | undefined;
  /** WebSocket only: every text message the server sent, in order. */
  readonly frames: string[] = [];
  /** WebSocket only: messages that did not parse as exactly one element, with the parser's message. */
  readonly frameErrors: string[] = [];
  /** TCP only: the parse failure of the server's output, if any. */
  parseError: XmlParseError | undefined;
  /** True once the server ended its stream (`</stream:stream>` or `<close/>`). */
  streamEnded = false;
  /** True once the connection is closed. */
  isClosed = false;
  /** WebSocket only: the close code the server sent. */
  closeCode: number | undefined;
  /** Resolves when the connection is closed. */
  readonly closed: Promise<void>;

  private readonly buffer = new ElementBuffer();
  private readonly received: Buffer[] = [];
  private readonly parser: StreamParser;
  private markClosed!: () => void;
  private streamEndWaiters: (() => void)[] = [];

  private constructor(
    readonly kind: 'tcp' | 'websocket',
    private socket: Socket | undefined,
    private readonly ws: WebSocket | undefined,
  ) {
    this.closed = new Promise((resolve) => {
      this.markClosed = resolve;
    });
    this.parser = new StreamParser(
      {
        streamStart: (header) => {
          this.header = header;
        },
        element: (el) => this.buffer.push(el),
        streamEnd: () => this.onStreamEnd(),
        error: (err) => {
          this.parseError = err;
        },
      },
      { maxStanzaBytes: CLIENT_MAX_STANZA_BYTES },
    );
    if (socket) this.listenTcp(socket);
    if (ws) this.listenWebSocket(ws);
  }

  /** Opens a TCP connection to 127.0.0.1, with TLS from the first byte when `tls` is given. */
  static async tcp(port: number, options: { tls?: ConnectionOptions } = {}): Promise<RawConnection> {
    const socket = options.tls ? await openTls(port, options.tls) : await openTcp(port);
    return new RawConnection('tcp', socket, undefined);
  }

  /** Opens a WebSocket; `protocols` defaults to the 'xmpp' subprotocol of RFC 7395. */
  static async websocket(url: string, protocols: string[] = ['xmpp']): Promise<RawConnection> {
    const ws = new WebSocket(url, protocols);
    const connection = new RawConnection('websocket', undefined, ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_request, response) => reject(new Error(`WebSocket handshake failed with HTTP ${response.statusCode}`)));
    });
    return connection;
  }

  /** The TLS socket, once the connection is encrypted. */
  get tlsSocket(): TLSSocket | undefined {
    const socket = this.socket as TLSSocket | undefined;
    return socket?.encrypted ? socket : undefined;
  }

  /** The negotiated WebSocket subprotocol ('' when none). */
  get protocol(): string {
    return this.ws?.protocol ?? '';
  }

  /** Everything received on the current layer, decoded as UTF-8 (after STARTTLS only what came over TLS). */
  receivedText(): string {
    return Buffer.concat(this.received).toString('utf8');
  }

  /** Writes bytes or a string as they are: on TCP to the socket, on WebSocket as one text message. */
  write(data: string | Buffer): void {
    if (this.isClosed) return;
    if (this.ws) this.ws.send(data, { binary: false });
    else this.socket!.write(data);
  }

  /** Sends an element: on TCP in the jabber:client stream, on WebSocket with its namespace declared. */
  send(el: Element): void {
    this.write(serialize(el, this.kind === 'tcp' ? NS.CLIENT : ''));
  }

  /** Opens (or restarts) the client's stream and resolves with the server's `<stream:features/>`. */
  async openStream(attrs: Record<string, string> = { to: TEST_DOMAIN, version: '1.0' }, timeoutMs = 5000): Promise<Element> {
    this.writeStreamHeader(attrs);
    return this.next((el) => el.name === 'features' && el.ns === NS.STREAM, timeoutMs);
  }

  /** Writes a stream header without waiting for the server's header. On TCP the client parser starts a new stream. */
  writeStreamHeader(attrs: Record<string, string> = { to: TEST_DOMAIN, version: '1.0' }): void {
    if (this.kind === 'websocket') {
      this.send(x('open', NS.FRAMING, attrs));
      return;
    }
    this.parser.reset();
    const attributes = Object.entries(attrs)
      .map(([key, value]) => ` ${key}='${value}'`)
      .join('');
    this.write(`<?xml version='1.0'?><stream:stream xmlns='${NS.CLIENT}' xmlns:stream='${NS.STREAM}'${attributes}>`);
  }

  /** Sends `<starttls/>`, waits for `<proceed/>` and upgrades the socket; certificates are not verified. */
  async startTls(options: ConnectionOptions = {}): Promise<void> {
    this.send(x('starttls', NS.TLS));
    await this.next((el) => el.ns === NS.TLS && el.name === 'proceed', 5000);

    const plain = this.socket!;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const secure = connectTls({ socket: plain, rejectUnauthorized: false, servername: TEST_DOMAIN, ...options });
    this.socket = secure;
    this.received.length = 0;
    this.listenTcp(secure);
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
  }

  /** Resolves with the next unread element matching `predicate` (any element without one). */
  next(predicate: Predicate = () => true, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Element> {
    return this.buffer.next(predicate, timeoutMs);
  }

  /** Resolves after `ms` unless an unread or newly arriving element matches `predicate`. */
  nothing(predicate: Predicate, ms: number): Promise<void> {
    return this.buffer.nothing(predicate, ms);
  }

  /** Unread elements, oldest first. */
  unread(): Element[] {
    return this.buffer.unread();
  }

  /** Waits for a `<stream:error/>` and returns its condition. */
  async streamError(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
    const error = await this.next((el) => streamErrorCondition(el) !== undefined, timeoutMs);
    return streamErrorCondition(error)!;
  }

  /** Resolves when the server has ended its stream; rejects after `timeoutMs`. */
  waitForStreamEnd(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    if (this.streamEnded) return Promise.resolve();
    return withTimeout(
      new Promise<void>((resolve) => this.streamEndWaiters.push(resolve)),
      timeoutMs,
      'the server did not end its stream',
    );
  }

  /** Resolves when the connection is closed; rejects after `timeoutMs`. */
  waitForClose(timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
    return withTimeout(this.closed, timeoutMs, 'the connection was not closed');
  }

  /** Closes our side of the connection (TCP FIN or WebSocket close frame). */
  end(): void {
    if (this.ws) this.ws.close(1000);
    else this.socket!.end();
  }

  /** Drops the connection at once. */
  destroy(): void {
    if (this.ws) this.ws.terminate();
    else this.socket!.destroy();
  }

  private listenTcp(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.received.push(chunk);
      this.parser.write(chunk);
    });
    socket.on('error', () => {
      // 'close' follows and ends the connection.
    });
    socket.on('close', () => this.onClose('the connection was closed'));
  }

  private listenWebSocket(ws: WebSocket): void {
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.received.push(data);
      const text = data.toString('utf8');
      this.frames.push(text);
      if (isBinary) {
        this.frameErrors.push(`binary message: ${text}`);
        return;
      }
      this.onFrame(text);
    });
    ws.on('error', () => {
      // 'close' follows and ends the connection.
    });
    ws.on('close', (code: number) => {
      this.closeCode = code;
      this.onClose(`the WebSocket was closed with code ${code}`);
    });
  }

  private onFrame(text: string): void {
    let el: Element;
    try {
      el = parseFrame(text, { maxStanzaBytes: CLIENT_MAX_STANZA_BYTES });
    } catch (err) {
      this.frameErrors.push(`${(err as Error).message}: ${text}`);
      return;
    }
    if (el.ns === NS.FRAMING && el.name === 'open') this.header = el;
    if (el.ns === NS.FRAMING && el.name === 'close') this.onStreamEnd();
    this.buffer.push(el);
  }

  private onStreamEnd(): void {
    this.streamEnded = true;
    for (const resolve of this.streamEndWaiters) resolve();
    this.streamEndWaiters = [];
  }

  private onClose(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.buffer.close(reason);
    this.markClosed();
  }
}

function openTcp(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function openTls(port: number, options: ConnectionOptions): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({
      host: '127.0.0.1',
      port,
      rejectUnauthorized: false,
      servername: TEST_DOMAIN,
      ALPNProtocols: ['xmpp-client'],
      ...options,
    });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Rejects with `message` unless `promise` settles within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
