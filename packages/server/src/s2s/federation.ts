import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { type Element, StanzaError } from '@parley/xmpp';
import type { Config } from '../config.js';
import type { ServerContext } from '../core/context.js';
import type { StanzaEvent } from '../core/events.js';
import type { CertificatePair } from '../net/certificates.js';
import { DialbackKeys, loadDialbackSecret } from './dialback-key.js';
import { acceptEitherTls } from './direct-tls.js';
import type { IncomingHost } from './incoming-host.js';
import { IncomingStream } from './incoming-stream.js';
import type { LinkHost } from './outgoing-link.js';
import { OutgoingPool } from './outgoing-pool.js';
import { DomainPolicy } from './policy.js';
import { Resolver, type SrvLookup } from './resolver.js';
import { S2sTls } from './tls.js';

/** Maximum wait at shutdown for incoming streams to close. */
const STOP_WAIT_MS = 3000;

/**
 * Server-to-server federation (RFC 6120): the router hands it stanzas for domains this server
 * does not serve, which leave over outgoing streams, and its listener accepts other servers'
 * streams, whose stanzas enter the router like local ones.
 */
export class Federation implements IncomingHost, LinkHost {
  readonly config: Config;
  readonly log: Logger;
  readonly keys: DialbackKeys;
  readonly policy: DomainPolicy;
  readonly resolver: Resolver;
  readonly tls: S2sTls;
  readonly pool: OutgoingPool;
  private readonly incoming = new Set<IncomingStream>();
  /** Accepted connections whose first bytes have not arrived yet. */
  private detecting = 0;
  private listener: NetServer | undefined;

  constructor(
    readonly server: ServerContext,
    certificate: CertificatePair,
    lookupSrv?: SrvLookup,
  ) {
    this.config = server.config;
    this.log = server.log.child({ component: 's2s' });
    this.keys = new DialbackKeys(loadDialbackSecret(this.config.s2s.dialback_secret, this.config.data_dir, this.log));
    this.policy = new DomainPolicy(this.config.s2s);
    this.resolver = new Resolver(this.config.s2s.hosts, lookupSrv);
    this.tls = new S2sTls(certificate, this.config.s2s.ca_file);
    this.pool = new OutgoingPool(this);
  }

  serves(domain: string): boolean {
    return this.server.router.serves(domain);
  }

  /**
   * Sends a stanza to a domain this server does not serve. Stanzas from a domain that is not
   * ours are dropped, because a server never relays between other domains.
   */
  route(event: StanzaEvent): void {
    const local = event.from.domain;
    const remote = event.to.domain;
    if (!this.serves(local)) {
      this.log.warn({ from: local, to: remote }, 'dropped a stanza between two remote domains');
      return;
    }
    if (!this.policy.allows(remote)) {
      this.bounce(event.stanza, new StanzaError('remote-server-not-found', `This server does not federate with ${remote}.`));
      return;
    }
    // A copy, because the same element may go to several recipients while this one waits in a queue.
    const stanza = event.stanza.clone();
    stanza.attrs.from = event.from.toString();
    stanza.attrs.to = event.to.toString();
    this.pool.send(local, remote, stanza);
  }

  bounce(stanza: Element, error: StanzaError): void {
    this.server.router.bounce(stanza, error);
  }

  incomingClosed(stream: IncomingStream): void {
    this.incoming.delete(stream);
  }

  /** Opens `listen.s2s_port`; returns the port bound, or undefined when the port is set to false. */
  async listen(): Promise<number | undefined> {
    const port = this.config.listen.s2s_port;
    if (port === false) return undefined;
    const listener = createServer((socket) => this.accept(socket));
    this.listener = listener;
    listener.on('error', (err) => this.log.error({ err, listener: 's2s' }, 'listener failed'));
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, this.config.listen.host, () => resolve());
    });
    const actual = (listener.address() as AddressInfo).port;
    this.log.info({ listener: 's2s', host: this.config.listen.host, port: actual }, 'listening');
    return actual;
  }

  /** Stops the listener, closes every stream and bounces what is still queued. */
  async stop(): Promise<void> {
    this.listener?.close();
    this.pool.closeAll('the server is shutting down');
    const streams = [...this.incoming];
    for (const stream of streams) stream.shutdown();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_WAIT_MS);
    });
    await Promise.race([Promise.all(streams.map((stream) => stream.closed)), timeout]);
    clearTimeout(timer);
  }

  private accept(socket: Socket): void {
    if (this.incoming.size + this.detecting >= this.config.s2s.max_incoming) {
      this.log.warn({ ip: socket.remoteAddress, limit: this.config.s2s.max_incoming }, 'rejected an incoming server-to-server connection over the limit');
      socket.destroy();
      return;
    }
    const remoteAddress = socket.remoteAddress;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    // A peer that sends nothing is closed after the authentication timeout, like any other.
    socket.setTimeout(this.config.sessions.auth_timeout_s * 1000, () => socket.destroy());
    this.detecting++;
    void acceptEitherTls(socket, this.tls.serverContext).then((accepted) => {
      this.detecting--;
      socket.setTimeout(0);
      if (!accepted) return;
      const stream = new IncomingStream(this, accepted, remoteAddress);
      this.incoming.add(stream);
      accepted.resume();
    });
  }
}
