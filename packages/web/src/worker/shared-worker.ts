import { ConnectionHost } from './connection-host.js';
import { messagePort } from './ports.js';
import type { HostMessage, TabMessage } from './protocol.js';

// The SharedWorker of one account (named per account by connectShared): every tab of that
// account connects here and shares the one connection it holds.
interface SharedWorkerScope {
  onconnect: ((event: MessageEvent) => void) | null;
}

// The tabs get the SCRAM keys, so that "keep me signed in" can store them.
const host = new ConnectionHost(true);

(self as unknown as SharedWorkerScope).onconnect = (event) => {
  const port = event.ports[0];
  if (port) host.addPort(messagePort<TabMessage, HostMessage>(port));
};
