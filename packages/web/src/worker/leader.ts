import { ConnectionHost } from './connection-host.js';
import { memoryPair } from './memory-port.js';
import { channelPort, listenChannel } from './ports.js';
import type { HostMessage, Port, TabMessage } from './protocol.js';
import { RemoteClient, type RemoteClientOptions } from './remote-client.js';

const LEADER = 'leader';

/**
 * Where SharedWorker is missing: the tabs of an account elect a leader with a Web Lock (held
 * until the tab closes, then granted to the next tab). The leader owns the connection, and the
 * other tabs reach it over a BroadcastChannel. A new leader announces itself and the tabs
 * start again through it, with the SCRAM keys the previous leader shared.
 */
export function connectThroughLeader(options: RemoteClientOptions): RemoteClient {
  const bare = options.jid.split('/')[0] ?? options.jid;
  const channel = new BroadcastChannel(`parley-connection:${bare}`);
  const tabId = crypto.randomUUID();
  const client = new RemoteClient(channelPort<HostMessage, TabMessage>(channel, tabId, LEADER), options);

  void navigator.locks.request(`parley-leader:${bare}`, () => {
    lead(channel, client);
    // The lock is held for the tab's lifetime: the promise never settles.
    return new Promise<never>(() => undefined);
  });
  return client;
}

function lead(channel: BroadcastChannel, client: RemoteClient): void {
  const host = new ConnectionHost(true);
  const followers = new Map<string, { port: Port<TabMessage, HostMessage>; deliver: (message: TabMessage) => void }>();

  listenChannel<TabMessage>(channel, LEADER, (from, message) => {
    let follower = followers.get(from);
    if (!follower) {
      let deliver: (message: TabMessage) => void = () => undefined;
      const port: Port<TabMessage, HostMessage> = {
        post: (reply) => channel.postMessage({ from: LEADER, to: from, message: reply }),
        listen: (listener) => (deliver = listener),
        close: () => followers.delete(from),
      };
      follower = { port, get deliver() { return deliver; } };
      followers.set(from, follower);
      host.addPort(port);
    }
    follower.deliver(message);
  });

  const [tabSide, hostSide] = memoryPair<HostMessage, TabMessage>();
  host.addPort(hostSide);
  client.reattach(tabSide);
  channel.postMessage({ from: LEADER, to: '*', message: { kind: 'leader-changed' } satisfies HostMessage });
}
