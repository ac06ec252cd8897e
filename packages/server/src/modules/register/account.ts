/** In-band password change and account removal after authentication (XEP-0077 sections 3.2 and 3.3). */
import type { Logger } from 'pino';
import { type Element, JID, NS, StanzaError, StreamError, x } from '@parley/xmpp';
import { AccountError, changePassword, deleteAccount, prepareUsername } from '../../accounts.js';
import type { ServerContext } from '../../core/context.js';
import type { IqRequest } from '../../core/iq.js';
import { CHANGE_PASSWORD_FORM_TYPE, REGISTER_FORM_TYPE, readSubmission } from './form.js';
import { registrationChannelAllowed } from './pre-auth.js';

/** Returns true when the IQ comes from the account it is about: sent to its own bare JID or to the server. */
function isOwnAccount(request: IqRequest): boolean {
  return request.self || request.to.local === '';
}

/** Anonymous users (RFC 4505) have no registration: nothing to read, no password to change, no account to remove. */
function refuseAnonymous(request: IqRequest): void {
  if (request.session?.anonymous) throw new StanzaError('not-allowed', 'Anonymous users have no registration.');
}

/** Handles a get from a logged-in user: XEP-0077 section 3.1 reports that the entity is registered. */
export function registeredInfo(request: IqRequest): Element {
  refuseAnonymous(request);
  // Someone else's registration is no one's business; the reply matches a missing account.
  if (!isOwnAccount(request)) throw new StanzaError('service-unavailable');
  return x(
    'query',
    NS.REGISTER,
    {},
    x('instructions', NS.REGISTER, {}, 'You are registered. Send a new password to change it, or <remove/> to delete the account.'),
    x('registered', NS.REGISTER),
    x('username', NS.REGISTER, {}, request.from.local),
    x('password', NS.REGISTER),
  );
}

/** Handles a set from a logged-in user: a password change, or the removal of the account. */
export async function updateRegistration(server: ServerContext, log: Logger, request: IqRequest): Promise<void> {
  refuseAnonymous(request);
  if (!isOwnAccount(request)) throw new StanzaError('forbidden', "Another account's registration can't be changed.");
  try {
    if (request.payload.getChild('remove', NS.REGISTER)) await removeAccount(server, log, request);
    else await updatePassword(server, log, request);
  } catch (err) {
    if (err instanceof AccountError) throw err.toStanzaError();
    throw err;
  }
}

/** Prepares the username of a password change: a localpart, or a bare JID as in the form example of XEP-0077 section 3.3. */
function accountName(username: string, domain: string): string {
  const address = username.includes('@') ? JID.parseOrNull(username) : null;
  if (address && address.domain === domain) return address.local;
  return prepareUsername(username, domain);
}

async function removeAccount(server: ServerContext, log: Logger, { payload, from }: IqRequest): Promise<void> {
  // XEP-0077 section 3.2 table: bad-request when <remove/> is not the only child.
  if (payload.elements().length !== 1) throw new StanzaError('bad-request', 'The <remove/> element must be the only child of the query.');

  const username = from.local;
  await deleteAccount(server, username);
  log.info({ user: username }, 'account removed in-band');

  // XEP-0077 section 3.2: the result first, then a not-authorized stream error to every session
  // of the account. The dispatcher sends the result when this handler returns, in this same
  // turn of the event loop, so closing the sessions waits for the next turn.
  setImmediate(() => {
    for (const session of server.sessions.resources(from.bare())) {
      session.closeWithError(new StreamError('not-authorized', 'The account was removed.'));
    }
  });
}

async function updatePassword(server: ServerContext, log: Logger, { payload, from, session }: IqRequest): Promise<void> {
  // XEP-0077 section 3.3: not-authorized when the channel is not safe enough for a password change.
  if (session && !registrationChannelAllowed(session)) {
    throw new StanzaError('not-authorized', 'A password change requires an encrypted connection.');
  }

  const { username, password } = readSubmission(payload, [CHANGE_PASSWORD_FORM_TYPE, REGISTER_FORM_TYPE]);
  if (!username) throw new StanzaError('bad-request', 'The password change must name the account in <username/>.');
  if (accountName(username, server.config.domain) !== from.local) {
    throw new StanzaError('forbidden', `You are logged in as ${from.local}, not as ${username}.`);
  }
  // XEP-0077 section 3.3: an empty password must leave the current one in place.
  if (!password) throw new StanzaError('not-acceptable', 'The new password is empty; the password was not changed.');

  await changePassword(server, from.local, password);
  log.info({ user: from.local }, 'password changed in-band');
}
