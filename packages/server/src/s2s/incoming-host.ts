import type { ServerContext } from '../core/context.js';
import type { ConnectorContext } from './connector.js';
import type { DialbackKeys } from './dialback-key.js';
import type { DomainPolicy } from './policy.js';
import type { S2sTls } from './tls.js';
import type { IncomingStream } from './incoming-stream.js';

/** The parts of the federation service that an incoming stream uses. */
export interface IncomingHost extends ConnectorContext {
  readonly server: ServerContext;
  readonly keys: DialbackKeys;
  readonly policy: DomainPolicy;
  readonly tls: S2sTls;
  /** True for a domain this server serves: its own, its services, components. */
  serves(domain: string): boolean;
  incomingClosed(stream: IncomingStream): void;
}
