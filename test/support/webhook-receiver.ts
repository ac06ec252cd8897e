import { createHmac, timingSafeEqual } from 'node:crypto';
import { type IncomingHttpHeaders, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request the receiver got. */
export interface ReceivedRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Parsed JSON body. */
  json: { id: string; type: string; created_at: string; data: Record<string, unknown> };
}

/** The receiver's response to one request: an HTTP status, or 'hang' for no response at all. */
export type ScriptedAnswer = number | 'hang';

/**
 * An HTTP server on 127.0.0.1 that records webhook requests. Each path responds with 200
 * unless a script sets other responses, which it uses in order before 200 again.
 */
export class WebhookReceiver {
  private readonly received: ReceivedRequest[] = [];
  private readonly scripts = new Map<string, ScriptedAnswer[]>();
  private readonly waiters = new Set<() => void>();
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: Server) {}

  static async start(): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(server);
    server.on('connection', (socket) => {
      receiver.sockets.add(socket);
      socket.on('close', () => receiver.sockets.delete(socket));
    });
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => receiver.handle(request.url ?? '/', request.headers, Buffer.concat(chunks).toString('utf8'), response));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }

  /** Sets the responses to the next requests to `path`. */
  script(path: string, answers: ScriptedAnswer[]): void {
    this.scripts.set(path, [...answers]);
  }

  requests(path?: string): ReceivedRequest[] {
    return this.received.filter((request) => path === undefined || request.path === path);
  }

  /** Waits until `count` requests reached `path`; fails after `timeoutMs`. */
  async waitForCount(path: string, count: number, timeoutMs = 10_000): Promise<ReceivedRequest[]> {
    await this.waitUntil(() => this.requests(path).length >= count, timeoutMs, `${count} request(s) to ${path}`);
    return this.requests(path);
  }

  /** Waits until a request to `path` matches `predicate`; fails after `timeoutMs`. */
  async waitFor(path: string, predicate: (request: ReceivedRequest) => boolean, timeoutMs = 10_000): Promise<ReceivedRequest> {
    await this.waitUntil(() => this.requests(path).some(predicate), timeoutMs, `a matching request to ${path}`);
    return this.requests(path).find(predicate)!;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(path: string, headers: IncomingHttpHeaders, body: string, response: ServerResponse): void {
    this.received.push({ path, headers, body, json: JSON.parse(body) as ReceivedRequest['json'] });
    for (const wake of this.waiters) wake();

    const answer = this.scripts.get(path)?.shift() ?? 200;
    if (answer === 'hang') return;
    response.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'failing on purpose');
  }

  private waitUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.received.length} request(s) in all`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}

/**
 * Checks a request's signature as a receiver would: HMAC-SHA256 with the endpoint secret
 * over `Parley-Timestamp + "." + body`, hex after `v1=`, compared in constant time, with a
 * timestamp within five minutes of now.
 */
export function hasValidSignature(request: ReceivedRequest, secret: string): boolean {
  const timestamp = request.headers['parley-timestamp'];
  const signature = request.headers['parley-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string' || !signature.startsWith('v1=')) return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;

  const expected = createHmac('sha256', secret).update(`${timestamp}.${request.body}`).digest();
  const given = Buffer.from(signature.slice(3), 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}
