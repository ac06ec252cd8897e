/**
 * Anonymous users (RFC 4505 SASL ANONYMOUS) on their own domain: admission with limits, and
 * accounts that last as long as their session. The account row exists only so that the
 * modules work as for any account during the session; when the session ends, the row and
 * everything stored under it go, and a start of the server removes what a crash left.
 */
import { StreamError } from '@parley/xmpp';
import type { Kysely } from 'kysely';

import { anonymousDomainOf } from '../config.js';
import type { ServerContext } from '../core/context.js';
import { RegistrationThrottle } from '../modules/register/throttle.js';
import type { Database } from '../storage/schema.js';
import type { Admission } from './sasl.js';
import type { ClientSession } from './session.js';

const HOUR_MS = 3_600_000;

/** The anonymous state of one server: the per-IP limit and the accounts alive now. */
interface AnonymousState {
  domain: string;
  logins: RegistrationThrottle;
  live: Set<string>;
}

const states = new WeakMap<ServerContext, AnonymousState>();

function stateOf(server: ServerContext): AnonymousState {
  let state = states.get(server);
  if (!state) {
    const { anonymous } = server.config;
    state = { domain: anonymousDomainOf(server.config), logins: new RegistrationThrottle(anonymous.logins_per_ip_per_hour, HOUR_MS), live: new Set() };
    states.set(server, state);
  }
  return state;
}

/** The anonymous domain when anonymous logins are on, otherwise undefined. */
export function anonymousDomain(server: Pick<ServerContext, 'config'>): string | undefined {
  return server.config.anonymous.enabled ? anonymousDomainOf(server.config) : undefined;
}

/** Number of anonymous accounts alive in this process. */
export function anonymousCount(server: ServerContext): number {
  return stateOf(server).live.size;
}

/**
 * Admits the user an ANONYMOUS exchange named: checks the session cap and the per-IP limit,
 * creates the account for the session's lifetime and arms the session's time limit.
 */
export async function admitAnonymous(session: ClientSession, username: string): Promise<Admission> {
  const { server } = session;
  const state = stateOf(server);
  const limits = server.config.anonymous;
  if (state.live.size >= limits.max_sessions) {
    return { ok: false, condition: 'temporary-auth-failure', text: 'Too many anonymous users are online; try again later.' };
  }
  const ip = session.transport.remoteAddress;
  if (!state.logins.take(ip)) {
    return { ok: false, condition: 'temporary-auth-failure', text: 'Too many anonymous logins from your address; try again later.' };
  }

  state.live.add(username);
  try {
    await server.storage.db.insertInto('accounts').values({ host: state.domain, username, created_at: Date.now(), disabled: 0, legacy_hash: null }).execute();
  } catch (err) {
    state.live.delete(username);
    state.logins.giveBack(ip);
    throw err;
  }
  let limit: NodeJS.Timeout | undefined;
  if (limits.max_session_s > 0) {
    const expired = new StreamError('policy-violation', `Anonymous sessions last at most ${limits.max_session_s} s; log in again.`);
    limit = setTimeout(() => session.closeWithError(expired), limits.max_session_s * 1000);
    limit.unref();
  }
  void session.ended.then(() => {
    clearTimeout(limit);
    return forgetAnonymous(server, username);
  });
  session.log.info({ user: username }, 'anonymous user admitted');
  return { ok: true, username };
}

/** Deletes the anonymous account and all it left: its rows, and room affiliations others gave it. */
async function forgetAnonymous(server: ServerContext, username: string): Promise<void> {
  const state = stateOf(server);
  try {
    await server.storage.accounts.delete(state.domain, username);
    await deleteAffiliations(server.storage.db, [`${username}@${state.domain}`]);
  } catch (err) {
    server.log.error({ err, user: username }, 'an anonymous account could not be deleted; the next start removes it');
  } finally {
    state.live.delete(username);
  }
}

/**
 * Removes the anonymous accounts a previous run left behind (after a crash or a kill), with
 * their rows. Runs at start, before any anonymous session exists.
 */
export async function sweepAnonymous(server: ServerContext): Promise<number> {
  const domain = stateOf(server).domain;
  const rows = await server.storage.db.selectFrom('accounts').select('username').where('host', '=', domain).execute();
  for (const { username } of rows) await server.storage.accounts.delete(domain, username);
  await server.storage.db.deleteFrom('muc_affiliations').where('jid', 'like', `%@${domain}`).execute();
  return rows.length;
}

// TODO: a room loaded in memory keeps the affiliation until it unloads; the JID is random and
// never comes back, so the stale entry grants nothing to anyone.
async function deleteAffiliations(db: Kysely<Database>, jids: string[]): Promise<void> {
  await db.deleteFrom('muc_affiliations').where('jid', 'in', jids).execute();
}
