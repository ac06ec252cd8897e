import { type Element, JidError, NS, StreamError, jid, x } from '@parley/xmpp';
import { buildChannelBindingFeature } from '../auth/channel-binding.js';
import { verifyPassword } from '../auth/credentials.js';
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
    const context = this.context();
    const names = listMechanisms({ ...context, channelBindingTypes: context.channelBindings.map((binding) => binding.type) });
    const features = [x('mechanisms', NS.SASL, {}, ...names.map((name) => x('mechanism', NS.SASL, {}, name)))];
    if (context.channelBindings.length > 0) features.push(buildChannelBindingFeature(context.channelBindings.map((binding) => binding.type)));
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
    this.mechanism = createMechanism(auth.attr('mechanism') ?? '', this.context()) ?? undefined;
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
      if (step.username !== undefined) this.recordGuess(step.username);
      this.fail(step.condition, step.text);
      return undefined;
    }
    return this.succeed(step.username, step.data);
  }

  private async succeed(saslUsername: string, data: Buffer): Promise<string | undefined> {
    const { server, transport } = this.session;
    const username = prepareLocal(saslUsername, server.config.domain) ?? saslUsername;
    const throttle = server.authThrottle.check(transport.remoteAddress, username);
    if (!throttle.allowed) {
      this.fail('temporary-auth-failure', `Too many failed attempts; try again in ${Math.ceil(throttle.retryAfterMs / 1000)} s.`);
      return undefined;
    }
    const account = await server.storage.accounts.get(server.config.domain, username);
    if (!account) {
      this.recordGuess(username);
      this.fail('not-authorized');
      return undefined;
    }
    if (account.disabled) {
      this.fail('account-disabled', 'This account is disabled.');
      return undefined;
    }
    server.authThrottle.recordSuccess(transport.remoteAddress, username);
    transport.send(x('success', NS.SASL, {}, data.length ? data.toString('base64') : undefined));
    return username;
  }

  /** Counts a rejected password against the IP address and the account. */
  private recordGuess(username: string): void {
    const { server, transport } = this.session;
    server.authThrottle.recordFailure(transport.remoteAddress, username);
    this.session.log.info({ user: username }, 'authentication failed');
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

  private context(): MechanismContext {
    const { server, transport } = this.session;
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
        const credential = local === undefined ? null : await server.storage.accounts.getCredential(domain, local, 'SHA-256');
        if (!credential) return 'unknown';
        return (await verifyPassword(password, credential)) ? 'ok' : 'wrong';
      },
    };
  }
}

/** Maps a SASL username to the stored localpart (UsernameCaseMapped), so "ALICE" logs in as alice. */
function prepareLocal(username: string, domain: string): string | undefined {
  try {
    return jid(username, domain).local;
  } catch (err) {
    if (err instanceof JidError) return undefined;
    throw err;
  }
}
