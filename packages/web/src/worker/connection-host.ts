import { loadUserAgent, saveFastToken } from '../data/credentials.js';
import { XmppClient, type XmppClientOptions } from '../xmpp/client.js';
import { XmppStanzaError } from '../xmpp/errors.js';
import type { FastToken } from '../xmpp/fast.js';
import type { UserAgent } from '../xmpp/user-agent.js';
import { parseFrame } from '../xmpp/xml-parser.js';
import type { HostMessage, HostOptions, Port, TabMessage } from './protocol.js';
import { fromWire, toWire } from './wire-errors.js';

export type TabPort = Port<TabMessage, HostMessage>;

interface IqRoute {
  port: TabPort;
  unregister: () => void;
}

const IQ_ANSWER_TIMEOUT_MS = 20_000;

/** Storage for the device's user agent and, with "keep me signed in", the FAST token. */
export interface LoginStore {
  loadUserAgent(): Promise<UserAgent>;
  saveFastToken(jid: string, token: FastToken | undefined): Promise<void>;
}

/** The browser's store: the IndexedDB database of "keep me signed in" (`data/credentials.ts`). */
export const credentialsLoginStore: LoginStore = { loadUserAgent: () => loadUserAgent(), saveFastToken: (jid, token) => saveFastToken(jid, token) };

/**
 * Holds one account's connection for every tab that talks to it: in a SharedWorker, or in the
 * leader tab. It keeps the SCRAM keys in its memory. `shareKeys` sends them to the tabs: a
 * follower tab needs them to take over when the leader tab closes, and "keep me signed in"
 * stores them in IndexedDB. The FAST token stays in the host: with "keep me signed in" the host
 * stores each new token and count itself, and signing out revokes the token on the server.
 */
export class ConnectionHost {
  private client: XmppClient | undefined;
  private options: HostOptions | undefined;
  private readonly ports = new Set<TabPort>();
  private readonly iqRoutes = new Map<string, IqRoute>();
  private readonly iqAnswers = new Map<number, { resolve: (xml: string | undefined) => void; reject: (err: Error) => void }>();
  private unsubscribe: (() => void)[] = [];
  private calls = 0;
  private keep = false;

  /** Without a `store`, the browser's IndexedDB is used where it exists, and nothing is stored elsewhere (Node tests). */
  constructor(
    private readonly shareKeys = false,
    private readonly extraOptions: Partial<XmppClientOptions> = {},
    private readonly store: LoginStore | undefined = typeof indexedDB === 'undefined' ? undefined : credentialsLoginStore,
  ) {}

  addPort(port: TabPort): void {
    this.ports.add(port);
    port.listen((message) => {
      try {
        this.handle(port, message);
      } catch (err) {
        // A malformed message from one tab must not take the connection down for the others.
        console.warn('ignored a tab message', message.kind, err);
      }
    });
  }

  get portCount(): number {
    return this.ports.size;
  }

  private handle(port: TabPort, message: TabMessage): void {
    switch (message.kind) {
      case 'hello':
        return this.hello(port, message.options);
      case 'start':
        return this.reply(port, message.call, () => this.start(message));
      case 'stop':
        return this.reply(port, message.call, () => this.stop());
      case 'send':
        return this.client?.send(parseFrame(message.xml));
      case 'sendAcked':
        return this.reply(port, message.call, () => this.requireClient().sendAcked(parseFrame(message.xml)).then(() => undefined));
      case 'iq':
        return this.reply(port, message.call, () => this.requireClient().iq(parseFrame(message.xml), message.timeoutMs).then((answer) => answer.toString()));
      case 'handleIq':
        return this.route(port, message.name, message.ns);
      case 'iqAnswer':
        return this.settleIqAnswer(message.call, message.xml, message.error && fromWire(message.error));
      case 'bye':
        return this.removePort(port);
    }
  }

  private hello(port: TabPort, options: HostOptions): void {
    if (!this.options) this.options = options;
    if (!this.client) this.replaceClient();
    port.post({ kind: 'state', status: this.client!.status, jid: this.client!.jid });
    if (this.shareKeys && this.client!.scramKeys) port.post({ kind: 'keys', keys: this.client!.scramKeys });
  }

  private async start(message: Extract<TabMessage, { kind: 'start' }>): Promise<undefined> {
    const client = this.requireClient();
    if (message.keep !== undefined) this.keep = message.keep;
    client.setCredentials({ password: message.password, keys: message.keys, fastToken: message.fast });
    await client.start();
    return undefined;
  }

  /** Signing out: the connection ends, the FAST token is revoked, and the keys are forgotten with the client. */
  private async stop(): Promise<undefined> {
    const client = this.client;
    this.replaceClient();
    await client?.stop();
    await client?.revokeFastToken().catch((err: unknown) => console.warn('revoking the FAST token on the server failed', err));
    return undefined;
  }

  /** Stores a token change with "keep me signed in"; a dropped token is removed in any case. */
  private async saveFastToken(token: FastToken | undefined): Promise<void> {
    const jid = this.options?.jid;
    if (!this.store || !jid || (token && !this.keep)) return;
    await this.store.saveFastToken(jid.split('/')[0] ?? jid, token);
  }

  private replaceClient(): void {
    if (!this.options) throw new Error('no tab has sent hello to this host yet');
    for (const off of this.unsubscribe.splice(0)) off();
    for (const route of this.iqRoutes.values()) route.unregister();
    const store = this.store;
    const client = new XmppClient({
      ...this.extraOptions,
      ...this.options,
      saveFastToken: (token) => this.saveFastToken(token),
      loadUserAgent: store ? () => store.loadUserAgent() : undefined,
    });
    this.client = client;
    for (const [key, route] of this.iqRoutes) route.unregister = this.registerIq(client, key);

    this.unsubscribe.push(
      client.on('status', (status) => this.broadcast({ kind: 'state', status, jid: client.jid })),
      client.on('stanza', (stanza) => this.broadcast({ kind: 'stanza', xml: stanza.toString() })),
      client.on('online', ({ resumed }) => {
        this.broadcast({ kind: 'state', status: client.status, jid: client.jid });
        if (this.shareKeys && client.scramKeys) this.broadcast({ kind: 'keys', keys: client.scramKeys });
        this.broadcast({ kind: 'online', resumed });
      }),
    );
  }

  private requireClient(): XmppClient {
    if (!this.client) throw new Error('no tab has sent hello to this host yet');
    return this.client;
  }

  /** Incoming IQ requests of this payload go to the tab that registered it last. */
  private route(port: TabPort, name: string, ns: string): void {
    const key = `${ns} ${name}`;
    const existing = this.iqRoutes.get(key);
    if (existing) {
      existing.port = port;
      return;
    }
    this.iqRoutes.set(key, { port, unregister: this.registerIq(this.requireClient(), key) });
  }

  private registerIq(client: XmppClient, key: string): () => void {
    const [ns, name] = [key.slice(0, key.lastIndexOf(' ')), key.slice(key.lastIndexOf(' ') + 1)];
    return client.handleIq(name, ns, async (request) => {
      const route = this.iqRoutes.get(key);
      if (!route) throw new Error('no tab handles this request');
      const xml = await this.askTab(route.port, request.toString());
      const reply = xml === undefined ? undefined : parseFrame(xml);
      return reply?.elements()[0];
    });
  }

  private askTab(port: TabPort, xml: string): Promise<string | undefined> {
    const call = ++this.calls;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settleIqAnswer(call, undefined, new Error('the tab did not respond to the IQ request in time')), IQ_ANSWER_TIMEOUT_MS);
      this.iqAnswers.set(call, {
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      });
      port.post({ kind: 'iqRequest', call, xml });
    });
  }

  private settleIqAnswer(call: number, xml: string | undefined, error: Error | undefined): void {
    const waiting = this.iqAnswers.get(call);
    this.iqAnswers.delete(call);
    if (error) waiting?.reject(error instanceof XmppStanzaError || error.name !== 'Error' ? error : new Error(error.message));
    else waiting?.resolve(xml);
  }

  /** Runs a call and posts its result or error; a call that throws at once fails the same way. */
  private reply(port: TabPort, call: number, work: () => Promise<string | undefined>): void {
    Promise.resolve()
      .then(work)
      .then(
      (xml) => port.post({ kind: 'result', call, xml }),
      (err: unknown) => port.post({ kind: 'result', call, error: toWire(err) }),
    );
  }

  private removePort(port: TabPort): void {
    this.ports.delete(port);
    for (const [key, route] of this.iqRoutes) {
      if (route.port !== port) continue;
      route.unregister();
      this.iqRoutes.delete(key);
    }
    port.close();
    if (this.ports.size === 0) this.closeUnused();
  }

  /**
   * Ends the session when the last tab has gone, so that contacts see the user leave at once
   * instead of a session that waits `resume_timeout_s` for a resumption no tab will ask for.
   * A tab that comes later starts a new client.
   */
  private closeUnused(): void {
    const client = this.client;
    if (!client) return;
    for (const off of this.unsubscribe.splice(0)) off();
    this.client = undefined;
    void client.stop();
  }

  private broadcast(message: HostMessage): void {
    for (const port of this.ports) port.post(message);
  }
}
