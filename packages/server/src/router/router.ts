import type { Logger } from 'pino';
import { Element, JID, StanzaError, errorReply, x } from '@parley/xmpp';
import type { ClientSession } from '../c2s/session.js';
import type { SessionLog } from '../c2s/session-log.js';
import type { ServerContext } from '../core/context.js';
import type { OutboundEvent, ServerEvents, StanzaEvent } from '../core/events.js';

type Kind = 'message' | 'presence' | 'iq';

/** Routing passes between cluster nodes: from the third on, a node no longer forwards to resources on other nodes. */
const MAX_CLUSTER_HOPS = 2;

/** Handles stanzas for a domain other than the main one, such as a MUC service. */
export type DomainHandler = (event: StanzaEvent) => Promise<void> | void;

/**
 * Routes stanzas by the delivery rules of RFC 6121 section 8: to the server itself, to a
 * local account's bare JID, or to one of its resources. Modules claim stanzas through
 * the routing events (`message/bare`, `presence/full`, ...) before the default rules run.
 */
export class Router {
  private readonly domains = new Map<string, DomainHandler>();
  /** Domains of accounts that live only as long as their session, with the handler of stanzas to the domain itself. */
  private readonly ephemeralDomains = new Map<string, DomainHandler>();
  /** Receives stanzas to domains not served here; without one they bounce with remote-server-not-found. */
  private remoteHandler: DomainHandler | undefined;

  constructor(private readonly server: ServerContext) {}

  /** Serves `domain` (a subdomain service) with `handler`. */
  addDomain(domain: string, handler: DomainHandler): void {
    this.domains.set(domain, handler);
  }

  /**
   * Serves `domain` as a domain of accounts that exist only during their session (anonymous
   * users). Stanzas to its users follow the rules for local accounts, except that a message
   * is never stored offline; `hostHandler` gets the stanzas to the domain itself.
   */
  addEphemeralDomain(domain: string, hostHandler: DomainHandler): void {
    this.ephemeralDomains.set(domain, hostHandler);
  }

  /** True for a domain added with addEphemeralDomain. */
  isEphemeral(domain: string): boolean {
    return this.ephemeralDomains.has(domain);
  }

  /** True for a domain this server serves: the main one, subdomain services and ephemeral domains. */
  serves(domain: string): boolean {
    return domain === this.server.config.domain || this.domains.has(domain) || this.ephemeralDomains.has(domain);
  }

  /** Hands stanzas for domains this server does not serve to `handler` (server-to-server federation). */
  setRemoteHandler(handler: DomainHandler | undefined): void {
    this.remoteHandler = handler;
  }

  /** Processes a stanza a bound client sent; `from` is already stamped. */
  async fromClient(session: ClientSession, stanza: Element): Promise<void> {
    const kind = stanza.name as Kind;
    const to = stanza.attr('to') === undefined ? undefined : JID.parse(stanza.attrs.to!);
    const from = session.jid!;

    if (kind === 'iq' && (!to || (to.local === from.local && to.domain === from.domain && to.resource === ''))) {
      await this.dispatchIq('account', { stanza, from, to: from.bare(), origin: session }, true);
      return;
    }
    const outbound: OutboundEvent = { stanza, session, to };
    if (await this.server.hooks.fire(`${kind}/outbound`, outbound)) return;
    if (kind === 'presence' && !to) return;

    await this.route(stanza, from, to ?? from.bare(), session);
    if (kind === 'message') await this.notify('message/sent', outbound, session.log);
  }

  /** Routes a stanza from `from` to `to`; stanzas the server generates come here too. */
  async route(stanza: Element, from: JID, to: JID, origin?: ClientSession): Promise<void> {
    const event: StanzaEvent = { stanza, from, to, origin };
    const ephemeral = this.ephemeralDomains.get(to.domain);
    if (ephemeral && to.local === '') return ephemeral(event);
    if (to.domain !== this.server.config.domain && !ephemeral) {
      const handler = this.domains.get(to.domain);
      if (handler) await handler(event);
      else if (this.remoteHandler) await this.remoteHandler(event);
      else this.bounce(stanza, new StanzaError('remote-server-not-found', `This server does not connect to ${to.domain}.`));
      return;
    }
    if (to.local === '') return this.toHost(event);
    if (!(await this.accountExists(to))) return this.toUnknownAccount(event);
    if (to.resource === '') return this.toBare(event);
    return this.toFull(event);
  }

  private async toHost(event: StanzaEvent): Promise<void> {
    const kind = event.stanza.name as Kind;
    if (kind === 'iq') return this.dispatchIq('host', event, false);
    if (await this.server.hooks.fire(`${kind}/host`, event)) return;
    if (kind === 'message') this.bounce(event.stanza, new StanzaError('service-unavailable', 'The server does not accept messages.'));
  }

  private async toBare(event: StanzaEvent): Promise<void> {
    const kind = event.stanza.name as Kind;
    if (kind === 'iq') {
      if (await this.server.hooks.fire('iq/bare', event)) return;
      const self = event.from.bare().equals(event.to);
      return this.dispatchIq('account', event, self);
    }
    if (await this.server.hooks.fire(`${kind}/bare`, event)) return;
    if (kind === 'message') return this.deliverMessageToBare(event);
    for (const session of this.server.sessions.available(event.to)) this.deliver(session, event);
    const { cluster } = this.server;
    if (cluster) await cluster.forward(event, cluster.available(event.to), 'copy');
  }

  private async toFull(event: StanzaEvent): Promise<void> {
    const kind = event.stanza.name as Kind;
    if (await this.server.hooks.fire(`${kind}/full`, event)) return;
    const session = this.server.sessions.get(event.to);
    if (session) {
      this.deliver(session, event);
      if (kind === 'message') await this.routed(event, [session]);
      return;
    }
    const remote = this.server.cluster?.locate(event.to);
    if (remote && (await this.server.cluster!.forward(event, [remote], 'full')).length > 0) {
      if (kind === 'message') await this.routed(event, [], [remote.jid.toString()]);
      return;
    }
    await this.noSuchResource(event);
  }

  /**
   * RFC 6121 8.5.3.2: the rules for a full JID without a session. `hops` counts the cluster
   * nodes the stanza passed, for one that another node forwarded here.
   */
  async noSuchResource(event: StanzaEvent, hops = 0): Promise<void> {
    const kind = event.stanza.name as Kind;
    const type = event.stanza.attr('type');
    if (kind === 'message') {
      if (type === 'groupchat') this.bounce(event.stanza, new StanzaError('service-unavailable'));
      else if (type === 'normal' || type === 'chat' || type === undefined) await this.deliverMessageToBare(event, hops);
    } else if (kind === 'iq') {
      this.bounce(event.stanza, new StanzaError('service-unavailable'));
    }
  }

  /**
   * RFC 6121 8.5.2.1: deliver to every available resource with a non-negative priority, on
   * this node and on the others of a cluster. `hops` counts the cluster nodes the message
   * passed. Offline storage takes it only when no resource anywhere did.
   */
  async deliverMessageToBare(event: StanzaEvent, hops = 0): Promise<void> {
    const type = event.stanza.attr('type') ?? 'normal';
    if (type === 'groupchat') {
      this.bounce(event.stanza, new StanzaError('service-unavailable'));
      return;
    }
    const targets = this.server.sessions.available(event.to).filter((session) => session.priority >= 0);
    for (const session of targets) this.deliver(session, event);
    const remote = await this.forwardToBare(event, targets.length === 0, hops);
    if (targets.length > 0 || remote.length > 0) return this.routed(event, targets, remote);
    if (type === 'headline' || type === 'error') return;
    // NOTE: a resource that became available on another cluster node a moment ago may not be in this node's registry copy yet. The message then waits in offline storage until that account's next initial presence.
    if (!this.isEphemeral(event.to.domain) && (await this.server.hooks.fire('message/offline', event))) return this.routed(event, []);
    this.bounce(event.stanza, new StanzaError('service-unavailable', 'The recipient is offline and the message could not be stored.'));
  }

  /** Sends a message to the bare JID's available resources on other cluster nodes; returns the full JIDs reached. */
  private async forwardToBare(event: StanzaEvent, alone: boolean, hops: number): Promise<string[]> {
    const { cluster } = this.server;
    if (!cluster || hops >= MAX_CLUSTER_HOPS) return [];
    const targets = cluster.available(event.to).filter((resource) => resource.priority >= 0);
    return cluster.forward(event, targets, alone && hops === 0 ? 'reroute' : 'copy', hops);
  }

  /** Fires 'message/routed' once the message reached `delivered` and `deliveredRemote` (none when stored offline). */
  private routed(event: StanzaEvent, delivered: ClientSession[], deliveredRemote: string[] = []): Promise<void> {
    return this.notify('message/routed', { ...event, delivered, deliveredRemote }, event.origin?.log ?? this.server.log);
  }

  /**
   * Fires an event that follows a delivery: the stanza is already on its way, so a failing
   * handler is logged instead of turning into an error reply to the sender.
   */
  private async notify<K extends 'message/sent' | 'message/routed'>(name: K, event: ServerEvents[K], log: Logger | SessionLog): Promise<void> {
    try {
      await this.server.hooks.fire(name, event);
    } catch (err) {
      log.error({ err }, `${name} hook failed`);
    }
  }

  /** Writes a routed stanza to a session of this node. */
  deliver(session: ClientSession, event: StanzaEvent): void {
    session.send(event.stanza);
    if (event.stanza.name === 'message') {
      void this.server.hooks
        .fire('message/delivered', { ...event, session })
        .catch((err: unknown) => session.log.error({ err }, 'message/delivered hook failed'));
    }
  }

  /** RFC 6121 8.5.1: the account does not exist. */
  private async toUnknownAccount(event: StanzaEvent): Promise<void> {
    const { stanza } = event;
    const type = stanza.attr('type');
    if (stanza.name === 'presence') {
      if (type === 'subscribe') {
        const reply = x('presence', stanza.ns, { type: 'unsubscribed', from: event.to.bare().toString(), to: event.from.bare().toString() });
        await this.route(reply, event.to.bare(), event.from.bare());
      }
      return;
    }
    if (stanza.name === 'iq' && (type === 'result' || type === 'error')) return;
    this.bounce(stanza, new StanzaError('service-unavailable', 'No such account.'));
  }

  private async dispatchIq(target: 'host' | 'account', event: StanzaEvent, self: boolean): Promise<void> {
    const reply = await this.server.iq.dispatch(target, { stanza: event.stanza, from: event.from, to: event.to, self, session: event.origin });
    if (!reply) return;
    reply.attrs.from = event.to.toString();
    if (self && event.origin && event.stanza.attr('to') === undefined) delete reply.attrs.from;
    reply.attrs.to = event.from.toString();
    this.sendToEntity(reply, event.from, event.to);
  }

  /** Sends an error reply to `stanza`, unless it is an error itself (RFC 6120 8.3.1). */
  bounce(stanza: Element, error: StanzaError): void {
    if (stanza.attr('type') === 'error') return;
    const from = JID.parseOrNull(stanza.attr('from') ?? '');
    const to = JID.parseOrNull(stanza.attr('to') ?? '');
    if (!from) return;
    const reply = errorReply(stanza, error);
    this.sendToEntity(reply, from, to ?? JID.parse(this.server.config.domain));
  }

  /** Sends a server-generated reply to a local full JID, or routes it elsewhere. */
  private sendToEntity(reply: Element, to: JID, from: JID): void {
    const session = to.resource ? this.server.sessions.get(to) : undefined;
    if (session) {
      session.send(reply);
      return;
    }
    this.route(reply, from, to).catch((err: unknown) => this.server.log.error({ err }, 'routing a reply failed'));
  }

  /** Tells whether `to` is an account of this server; an account with a session on any node needs no query. */
  async accountExists(to: JID): Promise<boolean> {
    if (this.server.sessions.resources(to).length > 0) return true;
    if ((this.server.cluster?.resources(to).length ?? 0) > 0) return true;
    return this.server.storage.accounts.exists(to.domain, to.local);
  }
}
