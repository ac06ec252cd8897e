import type { ChannelBinding, ChannelBindingType } from './channel-binding.js';
import type { ScramCredential, ScramHash } from './credentials.js';
import { PlainServer } from './plain.js';
import type { PlainVerdict } from './plain.js';
import { ScramServer } from './scram.js';

/** SASL failure conditions of RFC 6120 section 6.5. */
export type SaslFailureCondition =
  | 'aborted'
  | 'account-disabled'
  | 'credentials-expired'
  | 'encryption-required'
  | 'incorrect-encoding'
  | 'invalid-authzid'
  | 'invalid-mechanism'
  | 'malformed-request'
  | 'mechanism-too-weak'
  | 'not-authorized'
  | 'temporary-auth-failure';

/**
 * One server step of a SASL exchange. The session sends `challenge` as <challenge/>,
 * `success` as <success/> (empty data means no character data) and `failure` as
 * <failure/> with the condition and, if present, <text/>.
 */
export type SaslStep =
  | { kind: 'challenge'; data: Buffer }
  | { kind: 'success'; data: Buffer; username: string; authzid?: string }
  /** `username` is set only when the failure rejected credentials, so that the throttle counts guesses, not protocol errors. */
  | { kind: 'failure'; condition: SaslFailureCondition; text?: string; username?: string };

/** Server side of one SASL mechanism for one exchange. */
export interface SaslMechanism {
  start(initialResponse: Buffer | null): Promise<SaslStep>;
  next(response: Buffer): Promise<SaslStep>;
}

/** Mechanisms this server implements, in order of preference. */
export const MECHANISM_NAMES = ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'] as const;

/** A SASL mechanism name this server implements. */
export type MechanismName = (typeof MECHANISM_NAMES)[number];

/**
 * Decodes the character data of <auth/>, <response/> (RFC 6120 section 6.4.2).
 * Returns 'empty' for "=" (a response that is present but empty) and for no
 * character data, and 'invalid' for anything that is not canonical base64 without
 * whitespace, which the session rejects with incorrect-encoding. An <auth/> element
 * without character data carries no initial response, so check for that first.
 */
export function decodeSaslPayload(text: string): Buffer | 'empty' | 'invalid' {
  if (text === '' || text === '=') return 'empty';

  // Buffer.from(..., 'base64') skips invalid characters, so only the canonical encoding is accepted.
  const decoded = Buffer.from(text, 'base64');
  return decoded.toString('base64') === text ? decoded : 'invalid';
}

/** What the connection offers, which decides the mechanism list. */
export interface MechanismOfferOptions {
  tls: boolean;
  loopback: boolean;
  channelBindingTypes: readonly ChannelBindingType[];
  /** Allows PLAIN without TLS, but only on a loopback connection. */
  allowPlainWithoutTls: boolean;
}

/**
 * Lists the mechanisms to offer, strongest first. The -PLUS variants need channel
 * binding, and PLAIN needs TLS or, when allowed, a loopback connection.
 */
export function listMechanisms(options: MechanismOfferOptions): MechanismName[] {
  const offered: MechanismName[] = [];
  if (options.channelBindingTypes.length > 0) offered.push('SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS');
  offered.push('SCRAM-SHA-256', 'SCRAM-SHA-1');
  if (options.tls || (options.loopback && options.allowPlainWithoutTls)) offered.push('PLAIN');
  return offered;
}

/** Everything createMechanism needs from the session and the account store. */
export interface MechanismContext {
  /** Domain of the stream; an authzid must be the bare JID of the user at this domain. */
  domain: string;
  tls: boolean;
  loopback: boolean;
  allowPlainWithoutTls: boolean;
  /** Binding data of the TLS connection, from channelBindings(socket); empty without TLS. */
  channelBindings: readonly ChannelBinding[];
  lookupScram: (username: string, hash: ScramHash) => Promise<ScramCredential | null>;
  verifyPlain: (username: string, password: string) => Promise<PlainVerdict>;
  /** Iteration count for new accounts, used to disguise unknown users (default 4096). */
  iterations?: number;
  /** Persistent key for the fake SCRAM salts of unknown users (default a random key per process). */
  unknownUserSecret?: Buffer;
}

/**
 * Creates the server for a mechanism the connection offers, or returns null for any
 * other name, which the session rejects with invalid-mechanism.
 */
export function createMechanism(name: string, context: MechanismContext): SaslMechanism | null {
  const offered = listMechanisms({ ...context, channelBindingTypes: context.channelBindings.map((binding) => binding.type) });
  if (!(offered as string[]).includes(name)) return null;

  const mechanism = name === 'PLAIN' ? createPlain(context) : createScram(name, context);
  return new AuthzidCheck(mechanism, context.domain);
}

function createPlain(context: MechanismContext): SaslMechanism {
  return new PlainServer({ verify: context.verifyPlain, unknownUserIterations: context.iterations });
}

function createScram(name: string, context: MechanismContext): SaslMechanism {
  const hash: ScramHash = name.startsWith('SCRAM-SHA-256') ? 'SHA-256' : 'SHA-1';
  return new ScramServer({
    hash,
    plus: name.endsWith('-PLUS'),
    channelBinding: context.channelBindings,
    lookup: (username) => context.lookupScram(username, hash),
    unknownUserIterations: context.iterations,
    unknownUserSecret: context.unknownUserSecret,
  });
}

/**
 * Returns true when an authzid is the bare JID of `username` at `domain`.
 * TODO: compare with the PRECIS rules of RFC 7622 once a JID module exists; this
 * compares lower-cased localparts and domains.
 */
export function isBareJidOf(authzid: string, username: string, domain: string): boolean {
  const at = authzid.indexOf('@');
  if (at <= 0 || authzid.includes('/')) return false;

  const localpart = authzid.slice(0, at);
  const authzidDomain = authzid.slice(at + 1).replace(/\.$/, '');
  return localpart.toLowerCase() === username.toLowerCase() && authzidDomain.toLowerCase() === domain.replace(/\.$/, '').toLowerCase();
}

// Turns a success with an authzid other than the user's own bare JID into invalid-authzid,
// because this server does not let one account act for another.
class AuthzidCheck implements SaslMechanism {
  constructor(
    private readonly inner: SaslMechanism,
    private readonly domain: string,
  ) {}

  async start(initialResponse: Buffer | null): Promise<SaslStep> {
    return this.check(await this.inner.start(initialResponse));
  }

  async next(response: Buffer): Promise<SaslStep> {
    return this.check(await this.inner.next(response));
  }

  private check(step: SaslStep): SaslStep {
    if (step.kind !== 'success' || step.authzid === undefined) return step;
    if (isBareJidOf(step.authzid, step.username, this.domain)) return step;
    return { kind: 'failure', condition: 'invalid-authzid', text: 'The authorization identity must be your own bare JID.' };
  }
}
