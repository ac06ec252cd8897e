import type { XmppClientLike } from '../xmpp/client-like.js';
import { connectThroughLeader } from './leader.js';
import { messagePort } from './ports.js';
import type { HostMessage, TabMessage } from './protocol.js';
import { RemoteClient, type RemoteClientOptions } from './remote-client.js';

export type { RemoteClientOptions as SharedClientOptions } from './remote-client.js';
export type { HostMessage, TabMessage, HostOptions, WireError } from './protocol.js';

/**
 * Connects to the connection of `options.jid`, shared by every tab of this browser: it lives in a
 * SharedWorker named per account, or, where SharedWorker is missing, in a leader tab elected
 * with Web Locks and reached over BroadcastChannel. The result has XmppClient's API.
 */
export function connectShared(options: RemoteClientOptions): XmppClientLike {
  const bare = options.jid.split('/')[0] ?? options.jid;
  const client = typeof SharedWorker === 'function' && !forceLeaderMode() ? viaSharedWorker(bare, options) : connectThroughLeader(options);
  addEventListener('pagehide', (event) => {
    // A page kept in the back/forward cache may come back, so only a discarded page sends 'bye'.
    if (!event.persisted) client.close();
  });
  return client;
}

/** Returns the WebSocket endpoint of the server that served this page. */
export function defaultServiceUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/xmpp-websocket`;
}

function viaSharedWorker(bare: string, options: RemoteClientOptions): RemoteClient {
  const worker = new SharedWorker(new URL('./shared-worker.ts', import.meta.url), { type: 'module', name: `parley:${bare}` });
  return new RemoteClient(messagePort<HostMessage, TabMessage>(worker.port), options);
}

/** `?connection=leader` in the page's URL tries the fallback where SharedWorker exists (tests, diagnostics). */
function forceLeaderMode(): boolean {
  return new URLSearchParams(location.search).get('connection') === 'leader';
}
