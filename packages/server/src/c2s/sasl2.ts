/**
 * SASL2 (XEP-0388): authentication without a stream restart, with the session set up
 * inline: stream management resumption (XEP-0198), Bind 2 (XEP-0386) and FAST tokens
 * (XEP-0484). The password mechanisms are those of RFC 6120 SASL (`auth/`).
 */
import { type Element, type JID, NS, StanzaError, StreamError, x } from '@parley/xmpp';

import { FastTokens } from '../auth/fast-tokens.js';
import { type SaslFailureCondition, type SaslMechanism, type SaslStep, decodeSaslPayload } from '../auth/mechanisms.js';
import { NS_BIND2, bind2Feature, chooseBind2Jid, enableInline } from './bind2.js';
import { FastLogin, completeFast, fastCount, fastFeature, offersFast } from './fast.js';
import { attemptResume } from './resumption.js';
import { admitAccount, createSessionMechanism, offeredMechanisms, recordGuess } from './sasl.js';
import type { ClientSession } from './session.js';

export const NS_SASL2 = 'urn:xmpp:sasl:2';
/** Retries one stream may make after a failure, as for SASL (RFC 6120 6.4.5). */
const MAX_RETRIES_PER_STREAM = 5;
/** Maximum length of a user-agent id, in characters. XEP-0388 suggests a UUID. */
const MAX_USER_AGENT_ID = 256;

/** One SASL2 negotiation of a stream: the feature, the exchange, and the inline requests on success. */
export class Sasl2Negotiation {
  private mechanism: SaslMechanism | undefined;
  private request: Element | undefined;
  private client: string | undefined;
  private failures = 0;

  constructor(private readonly session: ClientSession) {}

  /** The `<authentication/>` feature, or undefined when SASL2 is off or TLS must come first. */
  feature(): Element | undefined {
    const { session } = this;
    if (!session.server.config.auth.sasl2) return undefined;
    if (session.tlsRequired() && !session.transport.secure) return undefined;
    const mechanisms = offeredMechanisms(session).map((name) => x('mechanism', NS_SASL2, {}, name));
    const inline = [bind2Feature(session), x('sm', NS.SM), fastFeature(session)].filter((feature) => feature !== undefined);
    return x('authentication', NS_SASL2, {}, ...mechanisms, x('inline', NS_SASL2, {}, ...inline));
  }

  /** Handles `<authenticate/>`, `<response/>` or `<abort/>`. */
  async handle(element: Element): Promise<void> {
    if (!this.session.server.config.auth.sasl2) throw new StreamError('unsupported-stanza-type', 'SASL2 is not offered.');
    if (element.name === 'authenticate') return this.start(element);
    if (element.name === 'response') return this.respond(element);
    if (element.name === 'abort') {
      this.mechanism = undefined;
      return this.fail('aborted');
    }
    return this.fail('malformed-request', `Unexpected <${element.name}/> element.`);
  }

  private async start(authenticate: Element): Promise<void> {
    const { session } = this;
    const decision = session.server.authThrottle.check(session.transport.remoteAddress);
    if (!decision.allowed) return this.fail('temporary-auth-failure', `Too many failed attempts; try again in ${Math.ceil(decision.retryAfterMs / 1000)} s.`);

    const name = authenticate.attr('mechanism') ?? '';
    const userAgentId = authenticate.getChild('user-agent', NS_SASL2)?.attr('id')?.trim();
    this.client = userAgentId && userAgentId.length <= MAX_USER_AGENT_ID ? FastTokens.clientOf(userAgentId) : undefined;
    this.request = authenticate;
    const mechanism = this.createMechanism(name, authenticate);
    if (mechanism === undefined) return this.fail('invalid-mechanism', `The mechanism "${name}" is not offered.`);
    if (mechanism === null) return this.fail('malformed-request', 'The count attribute of <fast/> must be a positive integer.');
    this.mechanism = mechanism;

    const text = authenticate.getChildText('initial-response', NS_SASL2)?.trim();
    const payload = text === undefined ? null : decodeSaslPayload(text);
    if (payload === 'invalid') return this.incorrectEncoding();
    return this.apply(await this.mechanism.start(payload === 'empty' ? Buffer.alloc(0) : payload));
  }

  /** Creates the mechanism for `name`. Returns undefined when it is not offered, and null for a malformed FAST count. */
  private createMechanism(name: string, authenticate: Element): SaslMechanism | undefined | null {
    const { session } = this;
    if (offersFast(session, name)) {
      const count = fastCount(authenticate);
      if (Number.isNaN(count)) return null;
      return new FastLogin(session, name as ConstructorParameters<typeof FastLogin>[1], this.client, count);
    }
    return createSessionMechanism(session, name);
  }

  private async respond(response: Element): Promise<void> {
    if (!this.mechanism) return this.fail('malformed-request', 'No authentication exchange is in progress.');
    const payload = decodeSaslPayload(response.text().trim());
    if (payload === 'invalid') return this.incorrectEncoding();
    return this.apply(await this.mechanism.next(payload === 'empty' ? Buffer.alloc(0) : payload));
  }

  private incorrectEncoding(): void {
    this.mechanism = undefined;
    this.fail('incorrect-encoding', 'The SASL data is not valid base64.');
  }

  private async apply(step: SaslStep): Promise<void> {
    if (step.kind === 'challenge') {
      this.session.transport.send(x('challenge', NS_SASL2, {}, step.data.toString('base64')));
      return;
    }
    const mechanism = this.mechanism;
    this.mechanism = undefined;
    if (step.kind === 'failure') {
      if (step.username !== undefined) recordGuess(this.session, step.username);
      return this.fail(step.condition, step.text);
    }
    const admission = await admitAccount(this.session, step.username);
    if (!admission.ok) return this.fail(admission.condition, admission.text);
    await this.succeed(admission.username, step.data, mechanism instanceof FastLogin ? mechanism : undefined);
  }

  /** Authenticates the stream, then resumes or binds as `<authenticate/>` requests, and sends `<success/>`. */
  private async succeed(username: string, data: Buffer, login: FastLogin | undefined): Promise<void> {
    const { session } = this;
    const request = this.request!;
    session.onSasl2Authenticated(username);
    const additional = data.length > 0 ? x('additional-data', NS_SASL2, {}, data.toString('base64')) : undefined;
    const token = await completeFast(session, request, login, this.client);

    let resumeFailure: Element | undefined;
    const resume = request.getChild('resume', NS.SM);
    if (resume) {
      const attempt = await attemptResume(session, resume);
      if (attempt.kind === 'closed') return;
      if (attempt.kind === 'resumed') {
        const { target } = attempt;
        target.adoptConnection(session, (resumed) => [successElement(target.jid!, additional, resumed, token), target.buildFeatures()]);
        return;
      }
      if (attempt.kind === 'arrived') {
        // A session from another cluster node continues on this very connection.
        const arrived = attempt.session;
        arrived.continue((resumed) => [successElement(arrived.jid, additional, resumed, token), session.buildFeatures()]);
        return;
      }
      resumeFailure = attempt.answer;
    }

    const { jid, bound } = await this.bind(request.getChild('bind', NS_BIND2));
    const identity = jid ?? session.jidOfAccount();
    session.completeSasl2(successElement(identity, additional, resumeFailure, bound, token), jid);
  }

  /** Runs a Bind 2 request; without one, or when it fails, the client may bind the RFC 6120 way. */
  private async bind(bind: Element | undefined): Promise<{ jid?: JID; bound?: Element }> {
    if (!bind) return {};
    const { session } = this;
    const userAgentId = this.request!.getChild('user-agent', NS_SASL2)?.attr('id');
    const jid = await chooseBind2Jid(session, bind, userAgentId);
    if (jid instanceof StanzaError) {
      session.log.info({ condition: jid.condition, text: jid.text }, 'Bind 2 failed; the client may bind later');
      return {};
    }
    const answers = await enableInline(session, bind);
    return { jid, bound: x('bound', NS_BIND2, {}, ...answers) };
  }

  private fail(condition: SaslFailureCondition, text?: string): void {
    const failure = x('failure', NS_SASL2, {}, x(condition, NS.SASL));
    if (text) failure.append(x('text', NS_SASL2, { 'xml:lang': 'en' }, text));
    this.session.transport.send(failure);
    this.failures++;
    if (this.failures > MAX_RETRIES_PER_STREAM) {
      this.session.closeWithError(new StreamError('policy-violation', 'Too many failed authentication attempts on this stream.'));
    }
  }
}

function successElement(identity: JID, ...children: (Element | undefined)[]): Element {
  const [additional, ...rest] = children;
  return x('success', NS_SASL2, {}, additional, x('authorization-identifier', NS_SASL2, {}, identity.toString()), ...rest);
}
