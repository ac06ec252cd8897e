import { ChatStore, openAccountDb } from '../data/index.js';
import { connectShared } from '../worker/index.js';
import { RemoteClient } from '../worker/remote-client.js';
import { XmppClient, type ConnectionStatus, type FastToken, type ScramKeys, type XmppClientLike } from '../xmpp/index.js';
import type { AccountServices } from './services.js';

export interface SignInRequest {
  /** ws:// or wss:// URL of the server's XMPP WebSocket endpoint. */
  service: string;
  jid: string;
  /** Without password and keys, the connection can only join a session another tab holds. */
  password?: string;
  /** Stored SCRAM keys ("keep me signed in"). */
  keys?: ScramKeys;
  /** A stored FAST token ("keep me signed in"), tried before the keys. */
  fast?: FastToken;
  /** "Keep me signed in": the connection stores the FAST tokens the server issues. */
  keep?: boolean;
}

export interface Connection {
  client: XmppClientLike;
  /** Opens the account's database and chat store, once the client is online. */
  openData(): Pick<AccountServices, 'db' | 'chat'>;
  /** Lets go of a connection that never came online (the tab leaves the shared worker). */
  discard(): void;
  /** The status of the shared connection before this tab starts it: 'online' when another tab's session is live. */
  hostStatus?(): Promise<ConnectionStatus>;
}

/** Creates an account's connection and, through it, its data; tests inject their own. */
export type Connector = (request: SignInRequest) => Connection;

/** Connects in the browser: one connection shared by the account's tabs, one database per account. */
export const browserConnector: Connector = (request) => {
  const options = { service: request.service, jid: request.jid, password: request.password, keys: request.keys };
  const client: XmppClientLike =
    typeof window === 'undefined' ? new XmppClient({ ...options, fastToken: request.fast }) : connectShared({ ...options, fast: request.fast, keep: request.keep });
  return {
    client,
    openData() {
      const db = openAccountDb(request.jid);
      return { db, chat: new ChatStore(db, client) };
    },
    discard() {
      if (client instanceof RemoteClient) client.close();
    },
    hostStatus() {
      return client instanceof RemoteClient ? client.hostStatus() : Promise.resolve(client.status);
    },
  };
};

/** Maps the server address the user typed (http(s) origin or ws(s) URL) to the WebSocket endpoint. */
export function serviceUrl(server: string): string {
  const url = new URL(server.includes('://') ? server : `http://${server}`);
  if (url.protocol === 'ws:' || url.protocol === 'wss:') return url.toString();
  const scheme = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${url.host}/xmpp-websocket`;
}
