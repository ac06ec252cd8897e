import { type Element, JID, NS, parseFrame, serialize, x } from '@parley/xmpp';
import { TEST_DOMAIN, describeElement } from './raw.js';
import { plainMessage } from './client.js';

export const NS_HTTPBIND = 'http://jabber.org/protocol/httpbind';
export const NS_XBOSH = 'urn:xmpp:xbosh';

const CLIENT_MAX_BYTES = 16 * 1024 * 1024;

type Predicate = (el: Element) => boolean;

/** Builds the text of a request `<body/>` with `attrs` around `payload`. */
export function requestBody(attrs: Record<string, string | number>, payload = ''): string {
  const attributes = Object.entries(attrs)
    .map(([key, value]) => ` ${key}='${value}'`)
    .join('');
  return `<body xmlns='${NS_HTTPBIND}' xmlns:xmpp='${NS_XBOSH}'${attributes}>${payload}</body>`;
}

/** Posts `text` to /http-bind and returns the status and the response text. */
export async function postRaw(port: number, text: string, signal?: AbortSignal): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/http-bind`, {
    method: 'POST',
    headers: { 'content-type': 'text/xml; charset=utf-8' },
    body: text,
    signal,
  });
  return { status: response.status, text: await response.text() };
}

/** Parses a response `<body/>`. */
export function parseResponse(text: string): Element {
  const body = parseFrame(text, { maxStanzaBytes: CLIENT_MAX_BYTES });
  if (body.name !== 'body' || body.ns !== NS_HTTPBIND) throw new Error(`not a BOSH body: ${text}`);
  return body;
}

/**
 * A BOSH client (XEP-0124, XEP-0206) over plain HTTP requests to 127.0.0.1, written for
 * the tests: it keeps one request waiting at the server while polling, as `hold='1'`
 * allows, and sends payloads in further requests.
 */
export class BoshClient {
  sid = '';
  rid: number;
  /** The session creation response. */
  creation!: Element;
  /** The terminating response, once one arrived. */
  terminated: Element | undefined;
  /** Every response text, by rid. */
  readonly responses = new Map<number, string>();
  private outstanding = 0;
  private polling = false;
  private readonly items: Element[] = [];
  private readonly waiters = new Set<{ predicate: Predicate; resolve(el: Element): void }>();

  private constructor(
    readonly port: number,
    firstRid: number,
  ) {
    this.rid = firstRid;
  }

  /** Creates a session; `attrs` are added to or replace the creation request's attributes. */
  static async create(port: number, attrs: Record<string, string | number> = {}): Promise<BoshClient> {
    const client = new BoshClient(port, 1000 + Math.floor(Math.random() * 1_000_000));
    const creation = await client.post({ to: TEST_DOMAIN, hold: 1, wait: 1, ver: '1.11', 'xml:lang': 'en', 'xmpp:version': '1.0', ...attrs });
    if (creation.attr('type') === 'terminate') throw new Error(`session creation failed: ${creation.toString()}`);
    client.creation = creation;
    client.sid = creation.attr('sid')!;
    return client;
  }

  /** Creates a session, logs in with PLAIN, restarts the stream and binds `resource`. */
  static async login(port: number, username: string, password: string, resource: string): Promise<{ client: BoshClient; jid: JID }> {
    const client = await BoshClient.create(port);
    client.startPolling();
    const jid = await client.authenticate(username, password, resource);
    return { client, jid };
  }

  /** Authenticates, restarts the stream and binds a resource; polling must be on. */
  async authenticate(username: string, password: string, resource?: string): Promise<JID> {
    await this.next((el) => el.name === 'features' && el.ns === NS.STREAM, 5000);
    this.send(x('auth', NS.SASL, { mechanism: 'PLAIN' }, plainMessage(username, password).toString('base64')));
    const outcome = await this.next((el) => el.ns === NS.SASL && (el.name === 'success' || el.name === 'failure'), 5000);
    if (outcome.name !== 'success') throw new Error(`login failed: ${outcome.toString()}`);
    void this.post({ to: TEST_DOMAIN, 'xml:lang': 'en', 'xmpp:restart': 'true' });
    await this.next((el) => el.name === 'features' && el.ns === NS.STREAM, 5000);
    if (resource === undefined) return JID.parse(`${username}@${TEST_DOMAIN}`);
    const bound = await this.iq(x('iq', NS.CLIENT, { type: 'set', id: 'bosh-bind' }, x('bind', NS.BIND, {}, x('resource', NS.BIND, {}, resource))));
    return JID.parse(bound.getChild('bind', NS.BIND)!.getChildText('jid', NS.BIND)!);
  }

  /** Posts one request with the next rid (or `attrs.rid`) and returns its response body. */
  async post(attrs: Record<string, string | number> = {}, payload = '', signal?: AbortSignal): Promise<Element> {
    const rid = Number(attrs.rid ?? this.rid++);
    const ids: Record<string, string | number> = this.sid === '' ? { rid } : { rid, sid: this.sid };
    this.outstanding++;
    try {
      const { text } = await postRaw(this.port, requestBody({ ...ids, ...attrs }, payload), signal);
      this.responses.set(rid, text);
      const body = parseResponse(text);
      if (body.attr('type') === 'terminate') this.terminated = body;
      for (const el of body.elements()) this.push(el);
      return body;
    } finally {
      this.outstanding--;
      this.pump();
    }
  }

  /** Sends stanzas or nonzas in one request. */
  send(...elements: Element[]): void {
    void this.post({}, elements.map((el) => serialize(el, '')).join('')).catch(() => undefined);
  }

  /** Keeps one empty request waiting at the server, so that the server can send at any time. */
  startPolling(): void {
    this.polling = true;
    this.pump();
  }

  stopPolling(): void {
    this.polling = false;
  }

  /** Sends an IQ and resolves with its result or error. */
  async iq(stanza: Element, timeoutMs = 5000): Promise<Element> {
    const id = stanza.attr('id')!;
    const reply = this.next((el) => el.name === 'iq' && el.attr('id') === id, timeoutMs);
    this.send(stanza);
    return reply;
  }

  /** Resolves with the next received element matching `predicate`; rejects after `timeoutMs`. */
  next(predicate: Predicate = () => true, timeoutMs = 3000): Promise<Element> {
    const index = this.items.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.items.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (el: Element) => {
          clearTimeout(timer);
          resolve(el);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`timed out after ${timeoutMs} ms; unread: ${this.items.map(describeElement).join(', ') || 'none'}`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Ends the session with `type='terminate'`, sending `payload` with it, and returns the response. */
  async terminate(payload = ''): Promise<Element> {
    this.stopPolling();
    return this.post({ type: 'terminate' }, payload);
  }

  private push(el: Element): void {
    for (const waiter of this.waiters) {
      if (!waiter.predicate(el)) continue;
      this.waiters.delete(waiter);
      waiter.resolve(el);
      return;
    }
    this.items.push(el);
  }

  private pump(): void {
    if (!this.polling || this.outstanding > 0 || this.terminated || this.sid === '') return;
    void this.post().catch(() => undefined);
  }
}
