import type { Element } from '@parley/xmpp';
import type { ClientSession } from '../c2s/session.js';

type FeatureProvider = (session: ClientSession) => Element | Element[] | undefined;
type ElementHandler = (session: ClientSession, element: Element) => void | Promise<void>;

/** Stream features that modules add to the `<stream:features/>` a session offers. */
export class StreamFeatures {
  private readonly before: FeatureProvider[] = [];
  private readonly after: FeatureProvider[] = [];

  /** Adds a feature offered before authentication (e.g. in-band registration). */
  addPreAuth(provider: FeatureProvider): void {
    this.before.push(provider);
  }

  /** Adds a feature offered after authentication (e.g. roster versioning, stream management). */
  addPostAuth(provider: FeatureProvider): void {
    this.after.push(provider);
  }

  preAuth(session: ClientSession): Element[] {
    return StreamFeatures.collect(this.before, session);
  }

  postAuth(session: ClientSession): Element[] {
    return StreamFeatures.collect(this.after, session);
  }

  private static collect(providers: FeatureProvider[], session: ClientSession): Element[] {
    return providers.flatMap((provider) => provider(session) ?? []);
  }
}

/**
 * Handlers for top-level elements that are not stanzas, by namespace and name, such
 * as stream management's `<enable/>` or client state indication's `<active/>`.
 */
export class StreamElements {
  private readonly handlers = new Map<string, ElementHandler>();

  register(ns: string, name: string, handler: ElementHandler): void {
    this.handlers.set(`${ns} ${name}`, handler);
  }

  /** Runs the handler for `element`; false when none is registered. */
  async handle(session: ClientSession, element: Element): Promise<boolean> {
    const handler = this.handlers.get(`${element.ns} ${element.name}`);
    if (!handler) return false;
    await handler(session, element);
    return true;
  }
}
