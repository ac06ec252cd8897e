import { Emitter } from '../xmpp/emitter.js';
import type { ClientEvents, ConnectionStatus } from '../xmpp/client.js';
import type { XmppClientLike } from '../xmpp/client-like.js';
import type { XElement } from '../xmpp/element.js';
import type { FastToken } from '../xmpp/fast.js';
import type { IqHandler } from '../xmpp/iq-handlers.js';
import type { ScramKeys } from '../xmpp/scram.js';
import { parseFrame } from '../xmpp/xml-parser.js';
import type { HostMessage, HostOptions, Port, TabMessage } from './protocol.js';
import { fromWire, toWire } from './wire-errors.js';

export interface RemoteClientOptions extends HostOptions {
  password?: string;
  /** Stored SCRAM keys ("keep me signed in"), used when no password is given. */
  keys?: ScramKeys;
  /** A stored FAST token, tried before the keys. */
  fast?: FastToken;
  /** "Keep me signed in": the host stores the FAST tokens the server issues. Unset keeps the host's setting. */
  keep?: boolean;
}

const DEFAULT_IQ_TIMEOUT_MS = 30_000;

interface PendingCall {
  kind: TabMessage['kind'];
  build: (call: number) => TabMessage;
  resolve: (xml: string | undefined) => void;
  reject: (err: Error) => void;
}

/**
 * The tab side of a connection held elsewhere (SharedWorker or leader tab), with the same API
 * as XmppClient. The password goes to the host with the first start() and is then forgotten.
 */
export class RemoteClient implements XmppClientLike {
  status: ConnectionStatus = 'offline';
  jid: string;

  private readonly events = new Emitter<ClientEvents>();
  private readonly calls = new Map<number, PendingCall>();
  private readonly iqHandlers = new Map<string, IqHandler>();
  private password: string | undefined;
  private keys: ScramKeys | undefined;
  private fast: FastToken | undefined;
  private wanted = false;
  private nextCall = 0;
  private readonly firstState: Promise<ConnectionStatus>;
  private heardState: (status: ConnectionStatus) => void = () => undefined;

  constructor(
    private port: Port<HostMessage, TabMessage>,
    private readonly options: RemoteClientOptions,
  ) {
    this.jid = options.jid;
    this.password = options.password;
    this.keys = options.keys;
    this.fast = options.fast;
    this.firstState = new Promise((resolve) => (this.heardState = resolve));
    this.attach(port);
  }

  /** The keys the host shared after its last login. */
  get scramKeys(): ScramKeys | undefined {
    return this.keys;
  }

  /** Resolves with the host's status once it answers hello: 'online' when another tab's session is live. */
  hostStatus(): Promise<ConnectionStatus> {
    return this.firstState;
  }

  get bareJid(): string {
    return this.jid.split('/')[0] ?? this.jid;
  }

  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  async start(): Promise<void> {
    this.wanted = true;
    const password = this.password;
    this.password = undefined;
    // Like the password, the stored token goes once: the host keeps the current one and its count.
    const fast = this.fast;
    this.fast = undefined;
    const keep = this.options.keep;
    await this.call((call) => ({ kind: 'start', call, password, keys: this.keys, fast, keep }));
  }

  async stop(): Promise<void> {
    this.wanted = false;
    this.keys = undefined;
    await this.call((call) => ({ kind: 'stop', call }));
  }

  send(stanza: XElement): void {
    this.port.post({ kind: 'send', xml: stanza.toString() });
  }

  async sendAcked(stanza: XElement): Promise<void> {
    await this.call((call) => ({ kind: 'sendAcked', call, xml: stanza.toString() }));
  }

  async iq(request: XElement, timeoutMs = DEFAULT_IQ_TIMEOUT_MS): Promise<XElement> {
    const xml = await this.call((call) => ({ kind: 'iq', call, xml: request.toString(), timeoutMs }));
    return parseFrame(xml ?? '');
  }

  handleIq(name: string, ns: string, handler: IqHandler): () => void {
    this.iqHandlers.set(`${ns} ${name}`, handler);
    this.port.post({ kind: 'handleIq', name, ns });
    // TODO: tell the host when a tab no longer handles a payload; until then the host replies with an error.
    return () => this.iqHandlers.delete(`${ns} ${name}`);
  }

  /** Tells the host this tab is gone (on pagehide). */
  close(): void {
    this.port.post({ kind: 'bye' });
    this.port.close();
  }

  /** Leader-tab mode: this tab became the leader and reaches the host through `port` now. */
  reattach(port: Port<HostMessage, TabMessage>): void {
    this.port.close();
    this.port = port;
    port.listen((message) => this.receive(message));
    this.leaderChanged();
  }

  private attach(port: Port<HostMessage, TabMessage>): void {
    port.listen((message) => this.receive(message));
    port.post({ kind: 'hello', options: { service: this.options.service, jid: this.options.jid, resource: this.options.resource } });
  }

  private receive(message: HostMessage): void {
    switch (message.kind) {
      case 'state':
        this.heardState(message.status);
        this.jid = message.jid;
        if (this.status !== message.status) {
          this.status = message.status;
          this.events.emit('status', message.status);
        }
        return;
      case 'stanza':
        return this.events.emit('stanza', parseFrame(message.xml));
      case 'online':
        return this.events.emit('online', { resumed: message.resumed });
      case 'result':
        return this.settle(message.call, message.xml, message.error && fromWire(message.error));
      case 'iqRequest':
        return void this.answer(message.call, message.xml);
      case 'keys':
        this.keys = message.keys;
        return;
      case 'leader-changed':
        return this.leaderChanged();
    }
  }

  /**
   * Sends hello to a new host, registers the IQ handlers again, and repeats the calls still
   * waiting. The old host may have sent a stanza already, which is safe because the server
   * drops a repeated origin-id.
   * A start() in flight is repeated, so it is not started again separately.
   */
  private leaderChanged(): void {
    this.port.post({ kind: 'hello', options: { service: this.options.service, jid: this.options.jid, resource: this.options.resource } });
    for (const key of this.iqHandlers.keys()) {
      const space = key.lastIndexOf(' ');
      this.port.post({ kind: 'handleIq', name: key.slice(space + 1), ns: key.slice(0, space) });
    }
    const waiting = [...this.calls.entries()];
    for (const [call, pending] of waiting) this.port.post(pending.build(call));
    const starting = waiting.some(([, pending]) => pending.kind === 'start');
    if (this.wanted && !starting) this.start().catch(() => undefined);
  }

  private async answer(call: number, xml: string): Promise<void> {
    const request = parseFrame(xml);
    const payload = request.elements()[0];
    const handler = payload && this.iqHandlers.get(`${payload.ns} ${payload.name}`);
    try {
      if (!handler) throw new Error('no handler in this tab');
      const result = await handler(request);
      this.port.post({ kind: 'iqAnswer', call, xml: result === undefined ? undefined : `<r>${result.toString()}</r>` });
    } catch (err) {
      this.port.post({ kind: 'iqAnswer', call, error: toWire(err) });
    }
  }

  private call(build: (call: number) => TabMessage): Promise<string | undefined> {
    const call = ++this.nextCall;
    return new Promise((resolve, reject) => {
      const message = build(call);
      this.calls.set(call, { kind: message.kind, build, resolve, reject });
      this.port.post(message);
    });
  }

  private settle(call: number, xml: string | undefined, error: Error | undefined): void {
    const waiting = this.calls.get(call);
    this.calls.delete(call);
    if (error) waiting?.reject(error);
    else waiting?.resolve(xml);
  }
}
