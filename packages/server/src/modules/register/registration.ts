/**
 * Self-registration of new accounts under `registration.policy`, shared by in-band
 * registration (XEP-0077) and the HTTP registration endpoint, so that both apply the same
 * policy, per-IP limit and invitation rules and fire the same events.
 */
import { createHash } from 'node:crypto';
import { AccountError, createAccount, prepareUsername } from '../../accounts.js';
import { SaslPrepError, prepPassword } from '../../auth/saslprep.js';
import type { ServerContext } from '../../core/context.js';
import { RegistrationThrottle } from './throttle.js';

const HOUR_MS = 60 * 60 * 1000;

/** Why a registration was refused. */
export type RegistrationRefusal =
  | 'closed'
  | 'token-required'
  | 'token-invalid'
  | 'missing-field'
  | 'invalid-username'
  | 'invalid-password'
  | 'conflict'
  | 'throttled';

/** A refused registration; `field` names the submitted value at fault, when one is. */
export class RegistrationError extends Error {
  constructor(
    readonly reason: RegistrationRefusal,
    readonly field: 'username' | 'password' | 'token' | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'RegistrationError';
  }
}

/** What a client needs to know before it registers. */
export interface RegistrationInfo {
  policy: 'open' | 'invite' | 'closed';
  minPasswordLength: number;
  tokenRequired: boolean;
}

export interface RegistrationRequest {
  username: string | undefined;
  password: string | undefined;
  token: string | undefined;
  /** The client's IP address, for the per-address limit. */
  ip: string;
  via: 'xmpp' | 'http';
}

/** Returns the SHA-256 hex digest under which the invite repository stores a token. */
export function inviteTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The registration rules of one server, with the per-IP counter both entry points share. */
export class Registration {
  private readonly throttle: RegistrationThrottle;

  constructor(private readonly server: Pick<ServerContext, 'config' | 'storage' | 'hooks' | 'log'>) {
    this.throttle = new RegistrationThrottle(server.config.registration.max_per_ip_per_hour, HOUR_MS);
  }

  info(): RegistrationInfo {
    const { policy, min_password_length } = this.server.config.registration;
    return { policy, minPasswordLength: min_password_length, tokenRequired: policy === 'invite' };
  }

  /** Throws RegistrationError 'closed' when the policy refuses every registration. */
  checkOpen(): void {
    if (this.server.config.registration.policy === 'closed') throw new RegistrationError('closed', undefined, 'This server does not offer registration.');
  }

  /**
   * Creates the account and fires 'account/registered' after 'account/created'. Checks, in
   * order: policy, complete and valid input, a free username, the per-IP limit, then the
   * invitation, so that a request refused for another reason never uses up an invitation.
   * Returns the prepared username.
   */
  async register(request: RegistrationRequest): Promise<string> {
    this.checkOpen();
    const { username, password } = this.checkInput(request);
    const host = this.server.config.domain;
    if (await this.server.storage.accounts.exists(host, username)) {
      throw new RegistrationError('conflict', 'username', `The username "${username}" is already taken.`);
    }

    if (!this.throttle.take(request.ip)) {
      this.server.log.warn({ ip: request.ip, via: request.via }, 'registration refused: hourly limit of the address reached');
      throw new RegistrationError('throttled', undefined, 'Too many accounts were registered from your address; try again later.');
    }
    try {
      const invited = await this.consumeInvite(request.token);
      const created = await this.create(username, password);
      await this.server.hooks.fire('account/registered', { host, username: created, via: request.via, invited });
      this.server.log.info({ user: created, ip: request.ip, via: request.via, invited }, 'account registered');
      return created;
    } catch (err) {
      this.throttle.giveBack(request.ip);
      throw err;
    }
  }

  private checkInput(request: RegistrationRequest): { username: string; password: string } {
    const { username, password } = request;
    if (!username) throw new RegistrationError('missing-field', 'username', 'A username is required.');
    if (!password) throw new RegistrationError('missing-field', 'password', 'A password is required.');

    const minimum = this.server.config.registration.min_password_length;
    if ([...password].length < minimum) throw new RegistrationError('invalid-password', 'password', `The password must have at least ${minimum} characters.`);
    try {
      prepPassword(password);
    } catch (err) {
      if (err instanceof SaslPrepError) throw new RegistrationError('invalid-password', 'password', `The password is not allowed: ${err.message}`);
      throw err;
    }

    try {
      return { username: prepareUsername(username, this.server.config.domain), password };
    } catch (err) {
      if (err instanceof AccountError) throw new RegistrationError('invalid-username', 'username', err.message);
      throw err;
    }
  }

  /** Uses the invitation once under the invite policy; returns whether one was used. */
  private async consumeInvite(token: string | undefined): Promise<boolean> {
    if (this.server.config.registration.policy !== 'invite') return false;
    if (!token) throw new RegistrationError('token-required', 'token', 'An invitation token is required to register.');

    const used = await this.server.storage.invites.consume(this.server.config.domain, inviteTokenHash(token), Date.now());
    if (!used) throw new RegistrationError('token-invalid', 'token', 'The invitation token is invalid, expired or used up.');
    return true;
  }

  private async create(username: string, password: string): Promise<string> {
    try {
      return await createAccount(this.server, username, password);
    } catch (err) {
      // TODO: give the invitation use back when the account could not be created (a concurrent registration of the same name).
      if (err instanceof AccountError && err.condition === 'conflict') throw new RegistrationError('conflict', 'username', err.message);
      if (err instanceof AccountError) throw new RegistrationError('invalid-password', 'password', err.message);
      throw err;
    }
  }
}

const registrations = new WeakMap<object, Registration>();

/** Returns the server's registration rules, created on first use, so that every entry point shares one per-IP counter. */
export function registrationOf(server: Pick<ServerContext, 'config' | 'storage' | 'hooks' | 'log'>): Registration {
  let registration = registrations.get(server);
  if (!registration) {
    registration = new Registration(server);
    registrations.set(server, registration);
  }
  return registration;
}
