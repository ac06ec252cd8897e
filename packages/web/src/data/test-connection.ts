import { Emitter } from '../xmpp/emitter.js';
import { x, type ClientEvents, type ConnectionStatus, type IqHandler, type XElement, type XmppClientLike } from '../xmpp/index.js';

/**
 * A connection stand-in for component tests of the data layer (not used by the client):
 * it records what is sent and lets the test acknowledge stanzas, lose the session, or reply to IQs.
 */
export class TestConnection implements XmppClientLike {
  status: ConnectionStatus = 'offline';
  readonly sent: XElement[] = [];
  readonly acked: { stanza: XElement; resolve: () => void; reject: (err: Error) => void }[] = [];
  /** Replies to IQs, by default with an empty result. */
  iqHandler: (request: XElement) => XElement | Promise<XElement> = () => x('iq', 'jabber:client', { type: 'result' });
  private readonly events = new Emitter<ClientEvents>();

  constructor(readonly bareJid: string) {}

  get jid(): string {
    return `${this.bareJid}/test`;
  }

  start(): Promise<void> {
    this.status = 'online';
    this.events.emit('online', { resumed: false });
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.status = 'offline';
    return Promise.resolve();
  }

  send(stanza: XElement): void {
    this.sent.push(stanza);
  }

  sendAcked(stanza: XElement): Promise<void> {
    this.sent.push(stanza);
    return new Promise((resolve, reject) => this.acked.push({ stanza, resolve, reject }));
  }

  /** Acknowledges every stanza sent with sendAcked so far. */
  ackAll(): void {
    for (const item of this.acked.splice(0)) item.resolve();
  }

  /** Ends the session: unacknowledged stanzas are rejected, as XmppClient does. */
  loseSession(): void {
    for (const item of this.acked.splice(0)) item.reject(new Error('session lost'));
  }

  iq(request: XElement): Promise<XElement> {
    return Promise.resolve(this.iqHandler(request));
  }

  handleIq(_name: string, _ns: string, _handler: IqHandler): () => void {
    return () => undefined;
  }

  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  /** Delivers a stanza as if it arrived from the server. */
  receive(stanza: XElement): void {
    this.events.emit('stanza', stanza);
  }

  goOnline(resumed: boolean): void {
    this.status = 'online';
    this.events.emit('online', { resumed });
  }
}
