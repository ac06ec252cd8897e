import { createServer, type AddressInfo, type Server as NetServer } from 'node:net';
import { JID, StanzaError, StreamError } from '@parley/xmpp';
import type { ServerContext } from '../core/context.js';
import type { StanzaEvent } from '../core/events.js';
import { ComponentConnection, type ComponentHost } from './connection.js';

/** Maximum wait at shutdown for component connections to close. */
const STOP_WAIT_MS = 3000;

/**
 * External components (XEP-0114): the configured domains, routed to the component
 * connected for each, and the listener components connect to. Stanzas to a domain whose
 * component is not connected get a `service-unavailable` error.
 */
export class ComponentService implements ComponentHost {
  private readonly secrets = new Map<string, string>();
  private readonly connected = new Map<string, ComponentConnection>();
  private readonly open = new Set<ComponentConnection>();
  private listener: NetServer | undefined;

  constructor(readonly server: ServerContext) {
    for (const { domain, secret } of server.config.components) {
      const jid = JID.parseOrNull(domain);
      if (!jid || jid.local !== '' || jid.resource !== '') throw new Error(`components: "${domain}" is not a domain`);
      this.secrets.set(jid.domain, secret);
      server.router.addDomain(jid.domain, (event) => this.deliver(event));
    }
  }

  /** Domains with a connected, authenticated component. */
  connectedDomains(): string[] {
    return [...this.connected.keys()];
  }

  secretFor(domain: string): string | undefined {
    return this.secrets.get(domain);
  }

  attach(connection: ComponentConnection): boolean {
    if (this.connected.has(connection.domain)) return false;
    this.connected.set(connection.domain, connection);
    this.server.disco.hostItems.push({ jid: connection.domain });
    return true;
  }

  detach(connection: ComponentConnection): void {
    this.open.delete(connection);
    if (this.connected.get(connection.domain) !== connection) return;
    this.connected.delete(connection.domain);
    const items = this.server.disco.hostItems;
    const index = items.findIndex((item) => item.jid === connection.domain);
    if (index >= 0) items.splice(index, 1);
  }

  /** Opens the component port when components are configured; returns the port bound. */
  async listen(): Promise<number | undefined> {
    const { component_host: host, component_port: port } = this.server.config.listen;
    if (port === false || this.secrets.size === 0) return undefined;
    const listener = createServer((socket) => this.open.add(new ComponentConnection(this, socket)));
    this.listener = listener;
    listener.on('error', (err) => this.server.log.error({ err, listener: 'component' }, 'listener failed'));
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, host, () => resolve());
    });
    const actual = (listener.address() as AddressInfo).port;
    this.server.log.info({ listener: 'component', host, port: actual }, 'listening');
    return actual;
  }

  /** Stops the listener and closes every component connection with `system-shutdown`. */
  async stop(): Promise<void> {
    this.listener?.close();
    const connections = [...this.open];
    for (const connection of connections) connection.closeWithError(new StreamError('system-shutdown', 'The server is shutting down.'));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, STOP_WAIT_MS);
    });
    await Promise.race([Promise.all(connections.map((connection) => connection.closed)), timeout]);
    clearTimeout(timer);
  }

  private deliver(event: StanzaEvent): void {
    const connection = this.connected.get(event.to.domain);
    if (connection) {
      connection.send(event.stanza);
      return;
    }
    if (event.stanza.name === 'presence' || event.stanza.attr('type') === 'result') return;
    this.server.router.bounce(event.stanza, new StanzaError('service-unavailable', `The component ${event.to.domain} is not connected.`));
  }
}
