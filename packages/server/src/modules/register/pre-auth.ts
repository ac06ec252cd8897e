/** In-band registration of a new account before authentication (XEP-0077 section 3.1). */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { type Element, NS, StanzaError, StreamError, errorReply, x } from '@parley/xmpp';
import { AccountError, createAccount, prepareUsername } from '../../accounts.js';
import type { ClientSession } from '../../c2s/session.js';
import type { ServerContext } from '../../core/context.js';
import { validateRequest } from '../../core/iq.js';
import { REGISTER_FORM_TYPE, type Submission, readSubmission, registrationForm } from './form.js';
import type { RegistrationThrottle } from './throttle.js';

/** Session data key, set after the session registered an account. */
const REGISTERED = 'register.done';

/** Returns the SHA-256 hex digest under which the invite repository stores a token. */
export function inviteTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** True when the session may register now: TLS is up, or the connection may authenticate without it. */
export function registrationChannelAllowed(session: ClientSession): boolean {
  return !session.tlsRequired() || session.transport.secure;
}

/** Handles a jabber:iq:register IQ from a client that has not authenticated, and returns the reply. */
export async function handlePreAuthRegister(server: ServerContext, throttle: RegistrationThrottle, log: Logger, session: ClientSession, iq: Element): Promise<Element> {
  const type = iq.attr('type');
  if (type === 'result' || type === 'error') throw new StreamError('not-authorized', 'An IQ result or error is not expected before authentication.');
  const invalid = validateRequest(iq);
  if (invalid) return errorReply(iq, invalid);

  try {
    const query = iq.elements()[0]!;
    const policy = server.config.registration.policy;
    if (type === 'get') {
      checkAllowed(policy, session, 'get');
      return result(iq, registrationForm(server.config.domain, policy === 'invite'));
    }
    await register(server, throttle, log, session, query);
    return result(iq);
  } catch (err) {
    if (err instanceof AccountError) return errorReply(iq, err.toStanzaError());
    if (err instanceof StanzaError) return errorReply(iq, err);
    throw err;
  }
}

function result(iq: Element, payload?: Element): Element {
  return x('iq', iq.ns, { type: 'result', id: iq.attr('id') }, payload);
}

function checkAllowed(policy: string, session: ClientSession, type: 'get' | 'set'): void {
  // XEP-0077 section 3.1: a host without in-band registration returns service-unavailable to a get.
  if (policy === 'closed' && type === 'get') throw new StanzaError('service-unavailable', 'This server does not offer in-band registration.');
  if (policy === 'closed') throw new StanzaError('not-allowed', 'This server does not offer in-band registration.');
  // XEP-0077 section 3.3 uses not-authorized for a channel that is not safe enough, and section 11
  // requires a secured channel for registration.
  if (!registrationChannelAllowed(session)) throw new StanzaError('not-authorized', 'Registration requires an encrypted connection; negotiate TLS first.');
}

async function register(server: ServerContext, throttle: RegistrationThrottle, log: Logger, session: ClientSession, query: Element): Promise<void> {
  const policy = server.config.registration.policy;
  checkAllowed(policy, session, 'set');
  // XEP-0077 section 3.2 table: unexpected-request for a remove from an entity that is not registered.
  if (query.getChild('remove', NS.REGISTER)) throw new StanzaError('unexpected-request', 'Log in before removing an account.');
  // XEP-0077 section 3.1.1 allows refusing a second registration on one connection.
  if (session.data.has(REGISTERED)) throw new StanzaError('not-acceptable', 'This connection already registered an account; log in with it.');

  const submission = readSubmission(query, [REGISTER_FORM_TYPE]);
  const { username, password } = checkComplete(server, submission);
  if (await server.storage.accounts.exists(server.config.domain, username)) {
    throw new StanzaError('conflict', `The username "${username}" is already taken.`);
  }

  const ip = session.transport.remoteAddress;
  if (!throttle.take(ip)) {
    log.warn({ ip, limit: server.config.registration.max_per_ip_per_hour }, 'registration rejected: hourly limit of the address reached');
    throw new StanzaError('resource-constraint', 'Too many accounts were registered from your address; try again later.');
  }
  try {
    if (policy === 'invite') await consumeInvite(server, submission.token);
    const created = await createAccount(server, username, password);
    session.data.set(REGISTERED, true);
    log.info({ user: created, ip }, 'account registered in-band');
  } catch (err) {
    throttle.giveBack(ip);
    throw err;
  }
}

/** Returns the prepared username and the password; not-acceptable when one is missing or invalid. */
function checkComplete(server: ServerContext, submission: Submission): { username: string; password: string } {
  const { username, password } = submission;
  // XEP-0077 section 3.1: missing information, including an empty password, is not-acceptable.
  if (!username || !password) throw new StanzaError('not-acceptable', 'Both a username and a password are required.');

  // Checked here as well as in createAccount, so that a bad password does not use up an invite.
  const minimum = server.config.registration.min_password_length;
  if ([...password].length < minimum) throw new StanzaError('not-acceptable', `The password must have at least ${minimum} characters.`);
  return { username: prepareUsername(username, server.config.domain), password };
}

async function consumeInvite(server: ServerContext, token: string | undefined): Promise<void> {
  if (!token) throw new StanzaError('not-authorized', 'An invite token is required to register.');
  // NOTE: a password that SASLprep rejects fails in createAccount after the invite was used.
  const used = await server.storage.invites.consume(server.config.domain, inviteTokenHash(token), Date.now());
  if (!used) throw new StanzaError('not-authorized', 'The invite token is invalid, expired or used up.');
}
