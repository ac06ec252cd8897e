import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { Element, JID, StanzaError, errorReply, x } from '@parley/xmpp';
import type { ClientSession } from '../c2s/session.js';

/**
 * The addressee of an IQ: `host` is the domain itself, `account` a local user's bare JID
 * (the sender's own account when `self` is true, including IQs with no `to`).
 */
export type IqTarget = 'host' | 'account';

export interface IqRequest {
  stanza: Element;
  /** The payload: the IQ's single child element. */
  payload: Element;
  from: JID;
  to: JID;
  /** True when a user addresses its own account. */
  self: boolean;
  session?: ClientSession;
}

/** Returns the result payload, or nothing for an empty result; throws StanzaError to refuse. */
export type IqHandler = (request: IqRequest) => Element | void | undefined | Promise<Element | void | undefined>;

/**
 * Dispatches IQ get and set requests by target, payload name and namespace. A request
 * with no handler gets service-unavailable and a handler that throws anything but a
 * StanzaError gets internal-server-error, with the error logged under an id that the
 * reply's text repeats.
 */
export class IqDispatcher {
  private readonly handlers = new Map<string, IqHandler>();

  constructor(private readonly log: Logger) {}

  register(type: 'get' | 'set', target: IqTarget, ns: string, name: string, handler: IqHandler): void {
    const key = IqDispatcher.key(type, target, ns, name);
    if (this.handlers.has(key)) throw new Error(`IQ handler registered twice: ${key}`);
    this.handlers.set(key, handler);
  }

  has(type: 'get' | 'set', target: IqTarget, ns: string, name: string): boolean {
    return this.handlers.has(IqDispatcher.key(type, target, ns, name));
  }

  /** Handles the request and returns the reply to send, or undefined for a result or error IQ. */
  async dispatch(target: IqTarget, request: Omit<IqRequest, 'payload'>): Promise<Element | undefined> {
    const { stanza } = request;
    const type = stanza.attr('type');
    if (type === 'result' || type === 'error') return undefined;

    const validation = validateRequest(stanza);
    if (validation) return errorReply(stanza, validation);
    const payload = stanza.elements()[0]!;

    const handler = this.handlers.get(IqDispatcher.key(type as 'get' | 'set', target, payload.ns, payload.name));
    if (!handler) return errorReply(stanza, new StanzaError('service-unavailable'));

    try {
      const result = await handler({ ...request, payload });
      return x('iq', stanza.ns, { type: 'result', id: stanza.attr('id'), from: stanza.attr('to'), to: stanza.attr('from') }, result ?? undefined);
    } catch (err) {
      if (err instanceof StanzaError) return errorReply(stanza, err);
      const incident = randomUUID();
      this.log.error({ err, incident, ns: payload.ns, element: payload.name }, 'IQ handler failed');
      return errorReply(stanza, new StanzaError('internal-server-error', `Internal error ${incident}.`));
    }
  }

  private static key(type: string, target: IqTarget, ns: string, name: string): string {
    return `${type}/${target}/${ns} ${name}`;
  }
}

/** RFC 6120 section 8.2.3: an IQ needs an id, a known type, and exactly one child for get and set. */
export function validateRequest(stanza: Element): StanzaError | undefined {
  const type = stanza.attr('type');
  if (stanza.attr('id') === undefined) return new StanzaError('bad-request', 'The IQ has no id attribute.');
  if (type !== 'get' && type !== 'set') return new StanzaError('bad-request', `Invalid IQ type "${type ?? ''}".`);
  if (stanza.elements().length !== 1) return new StanzaError('bad-request', 'An IQ get or set must contain exactly one child element.');
  return undefined;
}
