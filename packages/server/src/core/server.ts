import type { AddressInfo, Server as NetServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Element, NS, StreamError, x } from '@parley/xmpp';
import type { Config } from '../config.js';
import { ClientSession } from '../c2s/session.js';
import { ResumableSessions } from '../c2s/resumption.js';
import { AuthThrottle } from '../auth/throttle.js';
import { openStorage, storageOptionsFrom, type Storage } from '../storage/index.js';
import { Router } from '../router/router.js';
import { SessionRegistry } from '../router/sessions.js';
import { loadCertificate, secureContextFor } from '../net/certificates.js';
import { createHttpServer } from '../net/http.js';
import { createDirectTlsListener, createStartTlsListener } from '../net/c2s-listeners.js';
import { ComponentService } from '../component/service.js';
import { attachWebhooks, webhooksOf } from '../webhooks/index.js';
import { replayOutbox } from '../provisioning/outbox.js';
import { Cluster } from '../cluster/cluster.js';
import { receiveAdminActions } from '../cluster/admin-actions.js';
import { Federation } from '../s2s/federation.js';
import { Hooks } from './hooks.js';
import type { ServerEvents } from './events.js';
import { IqDispatcher } from './iq.js';
import { Disco } from './disco-registry.js';
import { StreamElements, StreamFeatures } from './stream-extensions.js';
import type { ServerContext } from './context.js';
import { startControlSocket } from './control-socket.js';
import type { ModuleContext, PreAuthIqHandler, ServerModule } from './module.js';

/** Maximum wait at shutdown for the sessions' closing work before storage closes. */
const SHUTDOWN_WAIT_MS = 5000;

export interface ListeningAddresses {
  c2s?: number;
  c2sTls?: number;
  http?: number;
  https?: number;
  component?: number;
  s2s?: number;
}

/** A whole server process: storage, modules and listeners. */
export class XmppServer implements ServerContext {
  readonly hooks: Hooks<ServerEvents>;
  readonly iq: IqDispatcher;
  readonly router: Router;
  /** External components (XEP-0114). */
  readonly components: ComponentService;
  readonly sessions = new SessionRegistry();
  readonly connections = new Set<ClientSession>();
  readonly resumableSessions = new ResumableSessions<ClientSession>();
  readonly disco = new Disco();
  readonly streamFeatures = new StreamFeatures();
  readonly streamElements = new StreamElements();
  readonly authThrottle: AuthThrottle;
  readonly modules: ServerModule[] = [];
  private readonly preAuthHandlers = new Map<string, PreAuthIqHandler>();
  private readonly netServers: NetServer[] = [];
  private readonly httpServers: FastifyInstance[] = [];
  readonly addresses: ListeningAddresses = {};
  cluster: Cluster | undefined;
  /** Server-to-server federation (`[s2s] enabled`), set up by listen(). */
  federation: Federation | undefined;

  private constructor(
    readonly config: Config,
    readonly log: Logger,
    readonly storage: Storage,
  ) {
    this.hooks = new Hooks(log);
    this.iq = new IqDispatcher(log);
    this.router = new Router(this);
    this.components = new ComponentService(this);
    this.authThrottle = new AuthThrottle({
      maxFailures: config.auth.max_failures,
      windowMs: config.auth.failure_window_s * 1000,
      maxBackoffMs: config.auth.max_backoff_s * 1000,
    });
    // RFC 3921 session establishment is a no-op that RFC 6121 keeps optional; older clients still send it.
    for (const target of ['host', 'account'] as const) this.iq.register('set', target, NS.SESSION, 'session', () => undefined);
    // Stream management (XEP-0198) is part of the session, not a module: it hooks into every write.
    this.streamFeatures.addPostAuth(() => x('sm', NS.SM));
  }

  /** Opens storage and sets up the modules, without listening yet. */
  static async create(config: Config, log: Logger, modules?: ServerModule[]): Promise<XmppServer> {
    modules ??= (await import('../modules/index.js')).allModules;
    const storage = await openStorage(storageOptionsFrom(config.storage, (err) => log.warn({ err }, 'PostgreSQL dropped an idle connection; the pool opens a new one when needed')));
    const server = new XmppServer(config, log, storage);
    if (config.cluster.enabled) {
      server.cluster = await Cluster.start(server).catch(async (err: unknown) => {
        await storage.close();
        throw err;
      });
    }
    for (const module of modules) await server.load(module);
    if (server.cluster) receiveAdminActions(server, server.cluster);
    attachWebhooks(server);
    // Account changes parleyctl made while no server ran reach the modules before any client does.
    await replayOutbox(server);
    return server;
  }

  private async load(module: ServerModule): Promise<void> {
    for (const dependency of module.depends ?? []) {
      if (!this.modules.some((loaded) => loaded.name === dependency)) {
        throw new Error(`module ${module.name} depends on module ${dependency}, which is not loaded before it`);
      }
    }
    const log = this.log.child({ module: module.name });
    const ctx: ModuleContext = {
      server: this,
      log,
      on: (name, handler, priority) => this.hooks.on(name, handler, { priority, owner: module.name }),
      iq: (type, target, ns, name, handler) => this.iq.register(type, target, ns, name, handler),
      preAuthIq: (ns, handler) => this.preAuthHandlers.set(ns, handler),
    };
    await module.setup(ctx);
    this.modules.push(module);
    log.debug('module loaded');
  }

  async preAuthIq(session: ClientSession, iq: Element): Promise<boolean> {
    const payload = iq.elements()[0];
    const handler = payload ? this.preAuthHandlers.get(payload.ns) : undefined;
    if (!handler) return false;
    session.send(await handler(session, iq));
    return true;
  }

  /** Starts every listener not set to false; the ports actually bound end up in `addresses`. */
  async listen(): Promise<void> {
    const { listen } = this.config;
    const certificate = loadCertificate(this.config, this.log);
    const secureContext = secureContextFor(certificate);

    if (listen.c2s_port !== false) {
      this.addresses.c2s = await this.listenNet(createStartTlsListener(this, secureContext), listen.c2s_port, 'c2s');
    }
    if (listen.c2s_tls_port !== false) {
      this.addresses.c2sTls = await this.listenNet(createDirectTlsListener(this, certificate, secureContext), listen.c2s_tls_port, 'c2s direct TLS');
    }
    if (listen.http_port !== false) this.addresses.http = await this.listenHttp(undefined, listen.http_port);
    if (listen.https_port !== false) this.addresses.https = await this.listenHttp(certificate, listen.https_port);
    this.addresses.component = await this.components.listen();
    if (this.config.s2s.enabled) {
      const federation = new Federation(this, certificate);
      this.federation = federation;
      this.router.setRemoteHandler((event) => federation.route(event));
      this.addresses.s2s = await federation.listen();
    }
    this.netServers.push(await startControlSocket(this));
    // Events recorded between the first replay and the control socket's start.
    await replayOutbox(this);
    webhooksOf(this)?.start();
  }

  private async listenNet(server: NetServer, port: number, name: string): Promise<number> {
    this.netServers.push(server);
    server.on('error', (err) => this.log.error({ err, listener: name }, 'listener failed'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.listen.host, () => resolve());
    });
    const actual = (server.address() as AddressInfo).port;
    this.log.info({ listener: name, host: this.config.listen.host, port: actual }, 'listening');
    return actual;
  }

  private async listenHttp(certificate: ReturnType<typeof loadCertificate> | undefined, port: number): Promise<number> {
    const app = await createHttpServer(this, certificate);
    this.httpServers.push(app);
    await app.listen({ port, host: this.config.listen.host });
    const actual = (app.server.address() as AddressInfo).port;
    this.log.info({ listener: certificate ? 'https' : 'http', host: this.config.listen.host, port: actual }, 'listening');
    return actual;
  }

  /**
   * Closes every session with system-shutdown and ends the hibernating ones, stops the
   * listeners, waits for the sessions' closing work (unavailable presence, unacknowledged
   * messages to offline storage) and closes storage.
   */
  async stop(): Promise<void> {
    for (const server of this.netServers) server.close();
    const sessions = [...this.connections, ...this.resumableSessions.hibernating()];
    for (const session of sessions) {
      session.closeWithError(new StreamError('system-shutdown', 'The server is shutting down.'));
    }
    await this.components.stop();
    await Promise.all(this.httpServers.map((app) => app.close()));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await waitAtMost(Promise.all(sessions.map((session) => session.ended)), SHUTDOWN_WAIT_MS);
    // After the sessions, so that their unavailable presence still reaches contacts on other servers.
    this.router.setRemoteHandler(undefined);
    await this.federation?.stop();
    await webhooksOf(this)?.stop();
    await this.cluster?.stop();
    await this.storage.close();
    this.log.info('server stopped');
  }
}

/** Resolves when `promise` settles or after `ms`, whichever comes first. */
async function waitAtMost(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([promise.then(() => undefined, () => undefined), timeout]);
  clearTimeout(timer);
}
