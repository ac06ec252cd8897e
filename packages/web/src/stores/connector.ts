import { ChatStore, openAccountDb } from '../data/index.js';
import { connectShared } from '../worker/index.js';
import { RemoteClient } from '../worker/remote-client.js';
import { XmppClient, type XmppClientLike } from '../xmpp/index.js';
import type { AccountServices } from './services.js';

export interface SignInRequest {
  /** ws:// or wss:// URL of the server's XMPP WebSocket endpoint. */
  service: string;
  jid: string;
  password: string;
}

export interface Connection {
  client: XmppClientLike;
  /** Opens the account's database and chat store, once the client is online. */
  openData(): Pick<AccountServices, 'db' | 'chat'>;
  /** Lets go of a connection that never came online (the tab leaves the shared worker). */
  discard(): void;
}

/** Creates an account's connection and, through it, its data; tests inject their own. */
export type Connector = (request: SignInRequest) => Connection;

/** Connects in the browser: one connection shared by the account's tabs, one database per account. */
export const browserConnector: Connector = (request) => {
  const client: XmppClientLike =
    typeof window === 'undefined'
      ? new XmppClient({ service: request.service, jid: request.jid, password: request.password })
      : connectShared({ service: request.service, jid: request.jid, password: request.password });
  return {
    client,
    openData() {
      const db = openAccountDb(request.jid);
      return { db, chat: new ChatStore(db, client) };
    },
    discard() {
      if (client instanceof RemoteClient) client.close();
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
