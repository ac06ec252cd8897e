/** In-band registration of a new account before authentication (XEP-0077 section 3.1). */
import { type Element, NS, StanzaError, StreamError, errorReply, x } from '@parley/xmpp';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import { validateRequest } from '../../core/iq.js';
import { REGISTER_FORM_TYPE, readSubmission, registrationForm } from './form.js';
import { type Registration, RegistrationError, type RegistrationRefusal } from './registration.js';

export { inviteTokenHash } from './registration.js';

/** Session data key, set after the session registered an account. */
const REGISTERED = 'register.done';

/** The stanza error conditions of refused registrations (XEP-0077 section 3.1 and its error table). */
const CONDITIONS: Record<RegistrationRefusal, ConstructorParameters<typeof StanzaError>[0]> = {
  closed: 'not-allowed',
  'token-required': 'not-authorized',
  'token-invalid': 'not-authorized',
  'missing-field': 'not-acceptable',
  'invalid-username': 'jid-malformed',
  'invalid-password': 'not-acceptable',
  conflict: 'conflict',
  throttled: 'resource-constraint',
};

/** True when the session may register now: TLS is up, or the connection may authenticate without it. */
export function registrationChannelAllowed(session: ClientSession): boolean {
  return !session.tlsRequired() || session.transport.secure;
}

/** Handles a jabber:iq:register IQ from a client that has not authenticated, and returns the reply. */
export async function handlePreAuthRegister(server: ServerContext, registration: Registration, session: ClientSession, iq: Element): Promise<Element> {
  const type = iq.attr('type');
  if (type === 'result' || type === 'error') throw new StreamError('not-authorized', 'An IQ result or error is not expected before authentication.');
  const invalid = validateRequest(iq);
  if (invalid) return errorReply(iq, invalid);

  try {
    const query = iq.elements()[0]!;
    if (type === 'get') {
      checkAllowed(registration, session, 'get');
      return result(iq, registrationForm(server.config.domain, registration.info().tokenRequired));
    }
    await register(registration, session, query);
    return result(iq);
  } catch (err) {
    if (err instanceof RegistrationError) return errorReply(iq, new StanzaError(CONDITIONS[err.reason], err.message));
    if (err instanceof StanzaError) return errorReply(iq, err);
    throw err;
  }
}

function result(iq: Element, payload?: Element): Element {
  return x('iq', iq.ns, { type: 'result', id: iq.attr('id') }, payload);
}

function checkAllowed(registration: Registration, session: ClientSession, type: 'get' | 'set'): void {
  // XEP-0077 section 3.1: a host without in-band registration returns service-unavailable to a get.
  if (registration.info().policy === 'closed' && type === 'get') throw new StanzaError('service-unavailable', 'This server does not offer in-band registration.');
  registration.checkOpen();
  // XEP-0077 section 3.3 uses not-authorized for a channel that is not safe enough, and section 11
  // requires a secured channel for registration.
  if (!registrationChannelAllowed(session)) throw new StanzaError('not-authorized', 'Registration requires an encrypted connection; negotiate TLS first.');
}

async function register(registration: Registration, session: ClientSession, query: Element): Promise<void> {
  checkAllowed(registration, session, 'set');
  // XEP-0077 section 3.2 table: unexpected-request for a remove from an entity that is not registered.
  if (query.getChild('remove', NS.REGISTER)) throw new StanzaError('unexpected-request', 'Log in before removing an account.');
  // XEP-0077 section 3.1.1 allows refusing a second registration on one connection.
  if (session.data.has(REGISTERED)) throw new StanzaError('not-acceptable', 'This connection already registered an account; log in with it.');

  const submission = readSubmission(query, [REGISTER_FORM_TYPE]);
  await registration.register({ ...submission, ip: session.transport.remoteAddress, via: 'xmpp' });
  session.data.set(REGISTERED, true);
}
