import type { ClientEvents, ConnectionStatus } from './client.js';
import type { XElement } from './element.js';
import type { IqHandler } from './iq-handlers.js';
import type { ScramKeys } from './scram.js';

/**
 * The connection API the rest of the client uses: the XmppClient itself, or the tab-side
 * proxy of a connection that lives in a shared worker or a leader tab (src/worker).
 */
export interface XmppClientLike {
  readonly status: ConnectionStatus;
  /** The full JID once bound, the bare JID before. */
  readonly jid: string;
  readonly bareJid: string;
  /** The SCRAM keys of the last login ("keep me signed in" stores them), when this side knows them. */
  readonly scramKeys?: ScramKeys | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  send(stanza: XElement): void;
  sendAcked(stanza: XElement): Promise<void>;
  iq(request: XElement, timeoutMs?: number): Promise<XElement>;
  handleIq(name: string, ns: string, handler: IqHandler): () => void;
  on<K extends keyof ClientEvents>(event: K, listener: (value: ClientEvents[K]) => void): () => void;
}
