import type { ConnectionStatus } from '../xmpp/client.js';
import type { FastToken } from '../xmpp/fast.js';
import type { ScramKeys } from '../xmpp/scram.js';

/**
 * The messages between a tab and the host of the connection (a SharedWorker, or the leader
 * tab). Elements travel as serialized XML; calls carry a number the result repeats.
 */
export interface HostOptions {
  service: string;
  jid: string;
  resource?: string;
}

export type TabMessage =
  | { kind: 'hello'; options: HostOptions }
  /** `keep` ("keep me signed in") lets the host store the FAST token; `fast` is a stored one to log in with. */
  | { kind: 'start'; call: number; password?: string; keys?: ScramKeys; fast?: FastToken; keep?: boolean }
  | { kind: 'stop'; call: number }
  | { kind: 'send'; xml: string }
  | { kind: 'sendAcked'; call: number; xml: string }
  | { kind: 'iq'; call: number; xml: string; timeoutMs?: number }
  | { kind: 'handleIq'; name: string; ns: string }
  | { kind: 'iqAnswer'; call: number; xml?: string; error?: WireError }
  | { kind: 'bye' };

export type HostMessage =
  | { kind: 'state'; status: ConnectionStatus; jid: string }
  | { kind: 'stanza'; xml: string }
  | { kind: 'online'; resumed: boolean }
  | { kind: 'result'; call: number; xml?: string; error?: WireError }
  | { kind: 'iqRequest'; call: number; xml: string }
  /** The keys a follower needs to take the connection over, and "keep me signed in" stores. */
  | { kind: 'keys'; keys: ScramKeys }
  /** Leader-tab mode only: a new leader owns the connection, so tabs send hello again. */
  | { kind: 'leader-changed' };

/** An error as it crosses a port; `xml` is the error stanza of an XmppStanzaError. */
export interface WireError {
  name: string;
  message: string;
  condition?: string;
  xml?: string;
}

/** One side of a message channel: a MessagePort, a BroadcastChannel filtered by tab, or an in-memory pair. */
export interface Port<In, Out> {
  post(message: Out): void;
  listen(listener: (message: In) => void): void;
  close(): void;
}
