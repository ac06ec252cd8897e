import type { Logger } from 'pino';
import type { Element } from '@parley/xmpp';
import type { Config } from '../config.js';
import type { ClientSession } from '../c2s/session.js';
import type { ResumableSessions } from '../c2s/resumption.js';
import type { Storage } from '../storage/index.js';
import type { AuthThrottle } from '../auth/throttle.js';
import type { Router } from '../router/router.js';
import type { SessionRegistry } from '../router/sessions.js';
import type { Cluster } from '../cluster/cluster.js';
import type { Hooks } from './hooks.js';
import type { ServerEvents } from './events.js';
import type { IqDispatcher } from './iq.js';
import type { Disco } from './disco-registry.js';
import type { StreamElements, StreamFeatures } from './stream-extensions.js';

/** The shared state of a running server, one object per process, that every part reaches. */
export interface ServerContext {
  readonly config: Config;
  readonly log: Logger;
  readonly storage: Storage;
  readonly hooks: Hooks<ServerEvents>;
  readonly iq: IqDispatcher;
  readonly router: Router;
  readonly sessions: SessionRegistry;
  /** Every open client connection, bound or not. */
  readonly connections: Set<ClientSession>;
  /** Sessions with stream management resumption enabled (XEP-0198), connected or hibernating. */
  readonly resumableSessions: ResumableSessions<ClientSession>;
  readonly disco: Disco;
  readonly streamFeatures: StreamFeatures;
  readonly streamElements: StreamElements;
  readonly authThrottle: AuthThrottle;
  /** This node's part in a cluster (`[cluster] enabled`); undefined on a single server. */
  readonly cluster?: Cluster;
  /** Handles an IQ that arrives before authentication, such as in-band registration; true when handled. */
  preAuthIq(session: ClientSession, iq: Element): Promise<boolean>;
}
