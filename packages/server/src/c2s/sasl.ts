import { type Element, JidError, NS, StreamError, jid, x } from '@parley/xmpp';
import { ANONYMOUS, AnonymousServer } from '../auth/anonymous.js';
import { buildChannelBindingFeature } from '../auth/channel-binding.js';
import { checkPlainPassword } from '../auth/password-check.js';
import {
  type SaslFailureCondition,
  type SaslMechanism,
  type SaslStep,
  createMechanism,
  decodeSaslPayload,
  listMechanisms,
  type MechanismContext,
} from '../auth/mechanisms.js';
import type { PlainVerdict } from '../auth/plain.js';
import { admitAnonymous } from './anonymous.js';
import type { ClientSession } from './session.js';

/** Retries one stream may make after a failure (RFC 6120 6.4.5: at least 2, at most 5). */
const MAX_RETRIES_PER_STREAM = 5;

/**
 * SASL negotiation of one stream (RFC 6120 section 6): offers the mechanisms, runs
 * the exchange, and applies the throttle per IP address and per account.
 */
export class SaslNegotiation {
  private mechanism: SaslMechanism | undefined;
  private failures = 0;

  constructor(private readonly session: ClientSession) {}

  /** Builds the `<mechanisms/>` feature and, with TLS, the XEP-0440 channel binding types. */
  features(): Element[] {
    const { session } = this;
    if (session.tlsRequired() && !session.transport.secure) return [];
    const bindings = session.transport.channelBindings();
    const features: Element[] = [];
    if (session.server.config.auth.legacy_sasl) {
      features.push(x('mechanisms', NS.SASL, {}, ...offeredMechanisms(session).map((name) => x('mechanism', NS.SASL, {}, name))));
    }
    if (bindings.length > 0) features.push(buildChannelBindingFeature(bindings.map((binding) => binding.type)));
    return features;
  }

  /** Handles `<auth/>`, `<response/>` or `<abort/>`; returns the username once authenticated. */
  async handle(element: Element): Promise<string | undefined> {
    if (element.name === 'auth') return this.start(element);
    if (element.name === 'response') return this.respond(element);
    if (element.name === 'abort') {
      this.mechanism = undefined;
      this.fail('aborted');
      return undefined;
    }
    this.fail('malformed-request', `Unexpected <${element.name}/> element.`);
    return undefined;
  }

  private async start(auth: Element): Promise<string | undefined> {
    const ip = this.session.transport.remoteAddress;
    const decision = this.session.server.authThrottle.check(ip);
    if (!decision.allowed) {
      this.fail('temporary-auth-failure', `Too many failed attempts; try again in ${Math.ceil(decision.retryAfterMs / 1000)} s.`);
      return undefined;
    }
    const name = auth.attr('mechanism') ?? '';
    this.mechanism = this.session.server.config.auth.legacy_sasl ? createSessionMechanism(this.session, name) : undefined;
    if (!this.mechanism) {
      this.fail('invalid-mechanism', `The mechanism "${auth.attr('mechanism') ?? ''}" is not offered.`);
      return undefined;
    }
    const text = auth.text().trim();
    const payload = text === '' ? null : decodeSaslPayload(text);
    if (payload === 'invalid') return this.incorrectEncoding();
    return this.apply(await this.mechanism.start(payload === 'empty' ? Buffer.alloc(0) : payload));
  }

  private async respond(response: Element): Promise<string | undefined> {
    if (!this.mechanism) {
      this.fail('malformed-request', 'No authentication exchange is in progress.');
      return undefined;
    }
    const payload = decodeSaslPayload(response.text().trim());
    if (payload === 'invalid') return this.incorrectEncoding();
    return this.apply(await this.mechanism.next(payload === 'empty' ? Buffer.alloc(0) : payload));
  }

  private incorrectEncoding(): undefined {
    this.mechanism = undefined;
    this.fail('incorrect-encoding', 'The SASL data is not valid base64.');
    return undefined;
  }

  private async apply(step: SaslStep): Promise<string | undefined> {
    const send = (element: Element) => this.session.transport.send(element);
    if (step.kind === 'challenge') {
      send(x('challenge', NS.SASL, {}, step.data.length ? step.data.toString('base64') : '='));
      return undefined;
    }
    this.mechanism = undefined;
    if (step.kind === 'failure') {
      if (step.username !== undefined) recordGuess(this.session, step.username);
      this.fail(step.condition, step.text);
      return undefined;
    }
    return this.succeed(step.username, step.data);
  }

  private async succeed(saslUsername: string, data: Buffer): Promise<string | undefined> {
    const admission = await admitAccount(this.session, saslUsername);
    if (!admission.ok) {
      this.fail(admission.condition, admission.text);
      return undefined;
    }
    this.session.transport.send(x('success', NS.SASL, {}, data.length ? data.toString('base64') : undefined));
    return admission.username;
  }

  private fail(condition: SaslFailureCondition, text?: string): void {
    const failure = x('failure', NS.SASL, {}, x(condition, NS.SASL));
    if (text) failure.append(x('text', NS.SASL, { 'xml:lang': 'en' }, text));
    this.session.transport.send(failure);
    this.failures++;
    if (this.failures > MAX_RETRIES_PER_STREAM) {
      this.session.closeWithError(new StreamError('policy-violation', 'Too many failed authentication attempts on this stream.'));
    }
  }
}

/** The outcome of the account checks after a mechanism succeeded. */
export type Admission = { ok: true; username: string } | { ok: false; condition: SaslFailureCondition; text?: string };

/**
 * Checks the account a mechanism authenticated: the throttle per IP address and account,
 * existence and the disabled flag. On success the throttle forgets earlier failures.
 */
export async function admitAccount(session: ClientSession, saslUsername: string): Promise<Admission> {
  if (session.anonymous) return admitAnonymous(session, saslUsername);
  const { server, transport } = session;
  const username = prepareLocal(saslUsername, server.config.domain) ?? saslUsername;
  const throttle = server.authThrottle.check(transport.remoteAddress, username);
  if (!throttle.allowed) {
    return { ok: false, condition: 'temporary-auth-failure', text: `Too many failed attempts; try again in ${Math.ceil(throttle.retryAfterMs / 1000)} s.` };
  }
  const account = await server.storage.accounts.get(server.config.domain, username);
  if (!account) {
    recordGuess(session, username);
    return { ok: false, condition: 'not-authorized' };
  }
  if (account.disabled) return { ok: false, condition: 'account-disabled', text: 'This account is disabled.' };
  server.authThrottle.recordSuccess(transport.remoteAddress, username);
  return { ok: true, username };
}

/** Counts a rejected password against the IP address and the account. */
export function recordGuess(session: ClientSession, username: string): void {
  session.server.authThrottle.recordFailure(session.transport.remoteAddress, username);
  session.log.info({ user: username }, 'authentication failed');
}

/** Lists the password mechanisms this connection offers, for SASL and SASL2 alike. */
export function offeredMechanisms(session: ClientSession): string[] {
  if (session.anonymous) return [ANONYMOUS];
  const context = mechanismContext(session);
  return listMechanisms({ ...context, channelBindingTypes: context.channelBindings.map((binding) => binding.type) }).filter((name) =>
    mechanismAllowed(session, name),
  );
}

/** Creates the server side of `name` when this connection offers it: ANONYMOUS on the anonymous domain only, password mechanisms elsewhere. */
export function createSessionMechanism(session: ClientSession, name: string): SaslMechanism | undefined {
  if (session.anonymous) return name === ANONYMOUS ? new AnonymousServer() : undefined;
  if (!mechanismAllowed(session, name)) return undefined;
  return createMechanism(name, mechanismContext(session)) ?? undefined;
}

/** With external authentication in mode 'always' the endpoint checks every password, so only PLAIN carries one. */
export function mechanismAllowed(session: ClientSession, name: string): boolean {
  const { auth } = session.server.config;
  return auth.external_url === '' || auth.external_mode !== 'always' || name === 'PLAIN';
}

/** What the mechanisms of `auth/` need from this connection and the account store. */
export function mechanismContext(session: ClientSession): MechanismContext {
  const { server, transport } = session;
  const domain = server.config.domain;
  return {
    domain,
    tls: transport.secure,
    loopback: transport.loopback,
    allowPlainWithoutTls: server.config.tls.allow_plaintext_on_loopback || !server.config.tls.require_for_auth,
    channelBindings: transport.channelBindings(),
    iterations: server.config.auth.scram_iterations,
    lookupScram: async (username, hash) => {
      const local = prepareLocal(username, domain);
      return local === undefined ? null : server.storage.accounts.getCredential(domain, local, hash);
    },
    verifyPlain: async (username, password): Promise<PlainVerdict> => {
      const local = prepareLocal(username, domain);
      return local === undefined ? 'unknown' : checkPlainPassword(server, local, password);
    },
  };
}

/** Maps a SASL username to the stored localpart (UsernameCaseMapped), so "ALICE" logs in as alice. */
export function prepareLocal(username: string, domain: string): string | undefined {
  try {
    return jid(username, domain).local;
  } catch (err) {
    if (err instanceof JidError) return undefined;
    throw err;
  }
}
