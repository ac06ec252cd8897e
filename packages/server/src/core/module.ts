import type { Logger } from 'pino';
import type { Element } from '@parley/xmpp';
import type { ClientSession } from '../c2s/session.js';
import type { ServerContext } from './context.js';
import type { HookHandler } from './hooks.js';
import type { ServerEvents } from './events.js';
import type { IqHandler, IqTarget } from './iq.js';

/** A specification a module implements, for disco, docs and reviewers. */
export interface SpecSupport {
  spec: string;
  version?: string;
  status: 'complete' | 'partial';
  note?: string;
}

export type PreAuthIqHandler = (session: ClientSession, iq: Element) => Promise<Element>;

/** The context a module's setup receives: the server, plus registration helpers that tag the module as owner. */
export interface ModuleContext {
  readonly server: ServerContext;
  readonly log: Logger;
  on<K extends keyof ServerEvents>(name: K, handler: HookHandler<ServerEvents[K]>, priority?: number): void;
  iq(type: 'get' | 'set', target: IqTarget, ns: string, name: string, handler: IqHandler): void;
  /** Handles IQs in `ns` from clients that have not authenticated yet (in-band registration). */
  preAuthIq(ns: string, handler: PreAuthIqHandler): void;
}

/** One protocol feature of the server. */
export interface ServerModule {
  name: string;
  specs: SpecSupport[];
  /** Modules that must be set up before this one. */
  depends?: string[];
  setup(ctx: ModuleContext): void | Promise<void>;
}

export function defineModule(module: ServerModule): ServerModule {
  return module;
}
