import { Buffer } from 'node:buffer';
import { type Element, NS, XmlParseError, serialize, x } from '@parley/xmpp';
import type { Transport, TransportEvents } from '../../c2s/transport.js';
import type { ChannelBinding } from '../../auth/channel-binding.js';
import { renamespace } from '../../component/namespace.js';
import { isLoopbackAddress } from '../addresses.js';
import { BOSH_VERSION, BoshError, NS_HTTPBIND, integerAttr, responseBody, serializePayload, terminateBody, xboshAttr } from './body.js';

/** Sends the response to one HTTP request, a serialized `<body/>`. */
export type Responder = (text: string) => void;

/** How long a response may stay unacknowledged by the client before the server reports it lost (XEP-0124 section 9.2). */
const REPORT_AFTER_MS = 2000;

/** The parameters of one BOSH session, as negotiated in the session creation request. */
export interface BoshParameters {
  sid: string;
  domain: string;
  remoteAddress: string;
  secure: boolean;
  waitS: number;
  hold: number;
  inactivityS: number;
  pollingS: number;
  maxStanzaBytes: number;
  /** True when the client asked for acknowledgements with `ack` in its creation request. */
  acks: boolean;
  /** Called once the session is over and its sid must be forgotten. */
  onGone(sid: string): void;
}

interface HeldRequest {
  rid: number;
  respond: Responder;
  timer?: NodeJS.Timeout;
  report?: { rid: number; time: number };
}

interface WaitingRequest {
  rid: number;
  body: Element;
  bodyBytes: number;
  respond: Responder;
}

/**
 * A BOSH session (XEP-0124) carrying one XMPP stream (XEP-0206), as a transport of a
 * ClientSession. Requests are processed in `rid` order, whatever order they arrive in.
 * The server holds up to `hold` of them and responds to each with what the session sent
 * meanwhile, or with an empty body after `wait`. The last responses are kept so that a request sent
 * again with the same `rid` gets the same response. Without any request for
 * `inactivity` seconds, the session ends as if the connection dropped.
 */
export class BoshSession implements Transport {
  readonly kind = 'bosh' as const;
  readonly canStartTls = false;
  readonly loopback: boolean;
  readonly requests: number;
  private events: TransportEvents | undefined;
  private lastRid = 0;
  private creationRid = 0;
  private creationAttrs: Record<string, string | number | undefined> = {};
  private lastRequestAt = 0;
  private readonly held: HeldRequest[] = [];
  private readonly waiting = new Map<number, WaitingRequest>();
  private readonly sent = new Map<number, { text: string; sentAt: number }>();
  private outbox: string[] = [];
  private outboxBytes = 0;
  private flushScheduled = false;
  /** The terminating response, once the stream is over, for the next request. */
  private finalBody: string | undefined;
  private gone = false;
  private inactivityTimer: NodeJS.Timeout | undefined;
  private readonly inbound: (() => void)[] = [];
  private paused = false;
  private draining = false;

  constructor(private readonly params: BoshParameters) {
    this.loopback = isLoopbackAddress(params.remoteAddress);
    this.requests = params.hold + 1;
  }

  get sid(): string {
    return this.params.sid;
  }

  get remoteAddress(): string {
    return this.params.remoteAddress;
  }

  get secure(): boolean {
    return this.params.secure;
  }

  get pendingBytes(): number {
    return this.outboxBytes;
  }

  attach(events: TransportEvents): void {
    this.events = events;
  }

  /** Handles the session creation request (XEP-0124 section 7.1, XEP-0206 section 3). */
  start(body: Element, rid: number, respond: Responder): void {
    const { params } = this;
    this.lastRid = rid;
    this.creationRid = rid;
    this.lastRequestAt = Date.now();
    // TODO: no `maxpause`, so a request's `pause` is ignored; no key sequences (XEP-0124 section 15) or multiple streams (section 16).
    this.creationAttrs = {
      sid: params.sid,
      wait: params.waitS,
      requests: this.requests,
      hold: params.hold,
      inactivity: params.inactivityS,
      polling: params.pollingS,
      ver: BOSH_VERSION,
      from: params.domain,
      ack: params.acks ? rid : undefined,
      'xmpp:version': '1.0',
      'xmpp:restartlogic': 'true',
    };
    this.holdRequest({ rid, respond });
    this.enqueueInbound(() => this.events?.streamStart(streamHeader(body, xboshAttr(body, 'version'), params.domain)));
    // The creation response goes out at once, with the stream features when they are ready.
    this.scheduleFlush();
  }

  /** Handles a request of this session; `bodyBytes` is the size of the request body. */
  handle(body: Element, bodyBytes: number, respond: Responder): void {
    const rid = integerAttr(body, 'rid');
    if (rid === undefined || Number.isNaN(rid)) return this.fail(new BoshError('bad-request', 'The request has no valid rid.'), respond);
    this.clearInactivity();
    if (this.finalBody !== undefined) {
      respond(this.finalBody);
      this.forget();
      return;
    }
    if (rid <= this.lastRid) return this.retransmit(rid, respond);
    if (rid > this.lastRid + this.requests) return this.fail(new BoshError('item-not-found', `rid ${rid} is outside the window of ${this.requests} requests.`), respond);
    if (this.waiting.has(rid)) {
      this.waiting.get(rid)!.respond = respond;
      this.processInOrder();
      return;
    }
    if (this.held.length + this.waiting.size >= this.requests) {
      return this.fail(new BoshError('policy-violation', `More than ${this.requests} simultaneous requests.`), respond);
    }
    this.waiting.set(rid, { rid, body, bodyBytes, respond });
    this.processInOrder();
  }

  /** Processes waiting requests as long as the next rid in order is there (XEP-0124 section 14.2). */
  private processInOrder(): void {
    for (let next = this.waiting.get(this.lastRid + 1); next && !this.gone; next = this.waiting.get(this.lastRid + 1)) {
      this.waiting.delete(next.rid);
      this.lastRid = next.rid;
      this.process(next);
    }
    if (this.held.length === 0 && !this.gone) this.startInactivity();
  }

  private process(request: WaitingRequest): void {
    const { body } = request;
    const now = Date.now();
    const payload = body.elements();
    const terminate = body.attr('type') === 'terminate';
    const restart = xboshAttr(body, 'restart') === 'true';
    if (payload.length === 0 && !terminate && !restart && this.pollsTooOften(now)) {
      return this.fail(new BoshError('policy-violation', `Empty requests must be at least ${this.params.pollingS} s apart.`), request.respond);
    }
    if (restart && payload.length > 0) return this.fail(new BoshError('bad-request', 'A restart request must be empty.'), request.respond);
    this.lastRequestAt = now;
    const report = this.applyClientAck(body, request.rid, now);

    this.holdRequest({ rid: request.rid, respond: request.respond, report });
    if (restart) this.enqueueInbound(() => this.events?.streamStart(streamHeader(body, '1.0', this.params.domain)));
    for (const element of payload) this.enqueueElement(element, request.bodyBytes);
    if (terminate) this.enqueueInbound(() => this.events?.streamEnd());
    while (this.held.length > this.params.hold) this.respondTo(this.held[0]!);
    if (this.outbox.length > 0) this.scheduleFlush();
  }

  /**
   * XEP-0124 section 11: an empty request while every other allowed request is held, or
   * in a polling session, must not come sooner than `polling` seconds after the last one.
   */
  private pollsTooOften(now: number): boolean {
    const allSlotsUsed = this.held.length + this.waiting.size >= this.requests - 1;
    return allSlotsUsed && now - this.lastRequestAt < this.params.pollingS * 1000;
  }

  /**
   * Drops the responses the client acknowledged (XEP-0124 section 9.2) and returns the
   * oldest one it still has not acknowledged a while after it was sent, to report as lost.
   */
  private applyClientAck(body: Element, rid: number, now: number): HeldRequest['report'] {
    const ack = integerAttr(body, 'ack');
    if (ack === undefined || Number.isNaN(ack)) return undefined;
    let report: HeldRequest['report'];
    for (const [sentRid, response] of this.sent) {
      if (sentRid <= ack) this.sent.delete(sentRid);
      else if (sentRid < rid && now - response.sentAt >= REPORT_AFTER_MS && (!report || sentRid < report.rid)) {
        report = { rid: sentRid, time: now - response.sentAt };
      }
    }
    return report;
  }

  private enqueueElement(element: Element, bodyBytes: number): void {
    const limit = this.params.maxStanzaBytes;
    if (bodyBytes > limit && Buffer.byteLength(serialize(element), 'utf8') > limit) {
      this.enqueueInbound(() => this.events?.parseError(new XmlParseError('policy-violation', `A stanza exceeds the limit of ${limit} bytes.`)));
      return;
    }
    // XEP-0206 section 2: clients often leave stanzas in the namespace of <body/>.
    const stanza = element.ns === NS_HTTPBIND ? renamespace(element, NS_HTTPBIND, NS.CLIENT) : element;
    this.enqueueInbound(() => this.events?.element(stanza));
  }

  /** Resends the response to a repeated rid, or lets this request take the place of the held one with that rid. */
  private retransmit(rid: number, respond: Responder): void {
    const cached = this.sent.get(rid);
    const held = this.held.find((request) => request.rid === rid);
    if (cached) respond(cached.text);
    else if (held) {
      const previous = held.respond;
      held.respond = respond;
      previous(responseBody({}));
    } else {
      this.fail(new BoshError('item-not-found', `The response to rid ${rid} is no longer available.`), respond);
      return;
    }
    if (this.held.length === 0) this.startInactivity();
  }

  /** Holds a request until there is something to send, or for `wait` seconds. */
  private holdRequest(request: HeldRequest): void {
    this.held.push(request);
    request.timer = setTimeout(() => {
      if (this.held.includes(request)) this.respondTo(request);
    }, this.params.waitS * 1000);
    request.timer.unref();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const first = this.held[0];
      if (first && (this.outbox.length > 0 || first.rid === this.creationRid)) this.respondTo(first);
    });
  }

  /** Responds to a held request with everything waiting in the outbox. */
  private respondTo(request: HeldRequest): void {
    const index = this.held.indexOf(request);
    if (index >= 0) this.held.splice(index, 1);
    clearTimeout(request.timer);
    const attrs = request.rid === this.creationRid ? { ...this.creationAttrs } : {};
    // XEP-0124 section 9.2: tell the client about later requests already received.
    if (this.params.acks && request.rid < this.lastRid) attrs.ack = this.lastRid;
    if (request.report) Object.assign(attrs, { report: request.report.rid, time: request.report.time });
    const text = responseBody(attrs, this.takeOutbox());
    this.remember(request.rid, text);
    request.respond(text);
    if (this.held.length === 0 && !this.gone) this.startInactivity();
  }

  /** Keeps a response for retransmission while its rid is within the window. */
  private remember(rid: number, text: string): void {
    this.sent.set(rid, { text, sentAt: Date.now() });
    for (const old of this.sent.keys()) {
      if (old <= this.lastRid - this.requests) this.sent.delete(old);
    }
  }

  private takeOutbox(): string[] {
    const payloads = this.outbox;
    this.outbox = [];
    this.outboxBytes = 0;
    return payloads;
  }

  openStream(attrs: Record<string, string>): void {
    // XEP-0206 section 3: the stream id goes in the session creation response as authid.
    this.creationAttrs.authid = attrs.id;
  }

  send(element: Element): void {
    if (this.finalBody !== undefined || this.gone) return;
    const text = serializePayload(element);
    this.outbox.push(text);
    this.outboxBytes += text.length;
    this.scheduleFlush();
  }

  sendMany(elements: Element[]): void {
    for (const element of elements) this.send(element);
  }

  closeWithError(error: Element): void {
    this.terminate(terminateBody('remote-stream-error', [...this.takeOutbox(), serializePayload(error)]));
  }

  closeStream(): void {
    this.terminate(terminateBody(undefined, this.takeOutbox()));
  }

  /** Ends the session from the server's side: the oldest held request, or else the next one, gets `body`. */
  private terminate(body: string): void {
    if (this.finalBody !== undefined || this.gone) return;
    this.finalBody = body;
    const [first, ...others] = this.held.splice(0);
    for (const request of [first, ...others, ...this.waiting.values()]) {
      if (!request) continue;
      if ('timer' in request) clearTimeout(request.timer);
      request.respond(request === first ? body : terminateBody(undefined));
    }
    this.waiting.clear();
    if (first) this.forget();
    else this.startInactivity();
  }

  /** Responds with a terminal binding error and ends the session, as if its connection dropped. */
  private fail(error: BoshError, respond: Responder): void {
    respond(terminateBody(error.condition));
    this.end(error.message);
  }

  /** Ends the session without the client's `terminate`, which the XMPP session handles as a lost connection. */
  end(reason: string): void {
    if (this.gone) return;
    const notify = this.finalBody === undefined;
    this.finalBody ??= terminateBody(undefined);
    for (const request of [...this.held.splice(0), ...this.waiting.values()]) {
      if ('timer' in request) clearTimeout(request.timer);
      request.respond(terminateBody(undefined));
    }
    this.waiting.clear();
    this.forget();
    if (notify) this.events?.closed(reason);
  }

  private forget(): void {
    if (this.gone) return;
    this.gone = true;
    this.clearInactivity();
    this.params.onGone(this.params.sid);
  }

  private startInactivity(): void {
    this.clearInactivity();
    this.inactivityTimer = setTimeout(() => this.end('BOSH session inactive'), this.params.inactivityS * 1000);
    this.inactivityTimer.unref();
  }

  private clearInactivity(): void {
    clearTimeout(this.inactivityTimer);
    this.inactivityTimer = undefined;
  }

  async startTls(): Promise<void> {
    throw new Error('STARTTLS is not available on BOSH');
  }

  restart(): void {
    // The client's restart request (xmpp:restart) starts the new stream; there is no parser state.
  }

  channelBindings(): ChannelBinding[] {
    // Each request may come on another HTTP connection, so no TLS connection identifies the session.
    return [];
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.drain();
  }

  /** Passes client input to the session in order, stopping while it paused reading. */
  private enqueueInbound(step: () => void): void {
    this.inbound.push(step);
    this.drain();
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (!this.paused && this.inbound.length > 0) this.inbound.shift()!();
    } finally {
      this.draining = false;
    }
  }
}

/** The stream header a BOSH request stands for, for the session's checks of `to` and version. */
function streamHeader(body: Element, version: string | undefined, domain: string): Element {
  return x('stream', NS.STREAM, { to: body.attr('to') ?? domain, version, 'xml:lang': body.attr('xml:lang') });
}
