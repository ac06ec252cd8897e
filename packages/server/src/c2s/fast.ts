/** FAST (XEP-0484) inside SASL2: the inline feature, token logins with HT-*, and token requests. */
import { type Element, x } from '@parley/xmpp';

import type { ServerContext } from '../core/context.js';
import { type FastVerdict, FastTokens } from '../auth/fast-tokens.js';
import type { FastTokenRow } from '../auth/fast-token-store.js';
import { type HtMechanismName, htBindingData, htProof, htProofMatches, isHtMechanism, listHtMechanisms, parseHtInitiation } from '../auth/ht.js';
import type { SaslMechanism, SaslStep } from '../auth/mechanisms.js';
import { prepareLocal } from './sasl.js';
import type { ClientSession } from './session.js';

export const NS_FAST = 'urn:xmpp:fast:0';

const services = new WeakMap<ServerContext, FastTokens>();

/** Returns the token service of `server`, which is created on first use. */
export function fastTokensOf(server: ServerContext): FastTokens {
  let tokens = services.get(server);
  if (!tokens) {
    const { auth, data_dir: dataDir } = server.config;
    tokens = new FastTokens(server.storage.db, { dataDir, lifetimeS: auth.fast_token_lifetime_s, rotateBeforeS: auth.fast_rotate_before_s });
    services.set(server, tokens);
  }
  return tokens;
}

/** Lists the HT mechanisms this connection offers. There are none when FAST is off, or without TLS unless plaintext on loopback is allowed. */
export function fastMechanisms(session: ClientSession): HtMechanismName[] {
  const { config } = session.server;
  // Anonymous users get no tokens: their account ends with the session.
  if (config.auth.fast_token_lifetime_s === 0 || session.anonymous) return [];
  const { transport } = session;
  if (!transport.secure && !(transport.loopback && config.tls.allow_plaintext_on_loopback)) return [];
  return listHtMechanisms(transport.channelBindings());
}

/** Builds the `<fast/>` inline feature, or returns undefined when no HT mechanism is offered. */
export function fastFeature(session: ClientSession): Element | undefined {
  const names = fastMechanisms(session);
  if (names.length === 0) return undefined;
  return x('fast', NS_FAST, {}, ...names.map((name) => x('mechanism', NS_FAST, {}, name)));
}

/** True when `name` is an HT mechanism this connection offers. */
export function offersFast(session: ClientSession, name: string): boolean {
  return isHtMechanism(name) && fastMechanisms(session).includes(name);
}

/**
 * The server side of an HT-* login with a FAST token: one message from the client, then
 * success with the responder proof, or failure. `matched` is the token row once it succeeded.
 */
export class FastLogin implements SaslMechanism {
  matched: FastTokenRow | undefined;
  rotate = false;

  constructor(
    private readonly session: ClientSession,
    private readonly name: HtMechanismName,
    private readonly client: string | undefined,
    private readonly count: number | undefined,
  ) {}

  async start(initialResponse: Buffer | null): Promise<SaslStep> {
    const initiation = initialResponse ? parseHtInitiation(initialResponse) : undefined;
    if (!initiation) return { kind: 'failure', condition: 'malformed-request', text: 'HT expects "username NUL proof" as the initial response.' };
    if (this.client === undefined) return { kind: 'failure', condition: 'malformed-request', text: 'A FAST login needs a <user-agent/> with an id.' };
    const bindingData = htBindingData(this.name, this.session.transport.channelBindings());
    const username = prepareLocal(initiation.username, this.session.server.config.domain);
    if (!bindingData || username === undefined) return { kind: 'failure', condition: 'not-authorized', username: initiation.username };

    const owner = { host: this.session.server.config.domain, username, client: this.client };
    const verdict: FastVerdict = await fastTokensOf(this.session.server).verify(
      owner,
      this.name,
      (token) => htProofMatches(token, bindingData, initiation.proof),
      this.count,
    );
    if (!verdict.ok) return { kind: 'failure', condition: verdict.condition, text: verdict.text, username };
    this.matched = verdict.row;
    this.rotate = verdict.rotate;
    return { kind: 'success', username, data: htProof(this.tokenFor(verdict.row), 'Responder', bindingData) };
  }

  async next(): Promise<SaslStep> {
    return { kind: 'failure', condition: 'malformed-request', text: 'HT takes a single message.' };
  }

  private tokenFor(row: FastTokenRow): string {
    return fastTokensOf(this.session.server).tokenOf(row.id);
  }
}

/**
 * Handles the FAST parts of a successful `<authenticate/>`: invalidation of the token used,
 * a requested token, and rotation of a token close to expiry. Returns the `<token/>` to put
 * in `<success/>`, if any.
 */
export async function completeFast(session: ClientSession, authenticate: Element, login: FastLogin | undefined, client: string | undefined): Promise<Element | undefined> {
  const tokens = fastTokensOf(session.server);
  const fast = authenticate.getChild('fast', NS_FAST);
  const invalidate = fast?.attr('invalidate') === 'true' || fast?.attr('invalidate') === '1';
  if (login?.matched && invalidate) await tokens.invalidate(login.matched);

  const request = authenticate.getChild('request-token', NS_FAST);
  const requested = request?.attr('mechanism') ?? '';
  let mechanism: string | undefined;
  if (request && offersFast(session, requested)) mechanism = requested;
  else if (login?.matched && login.rotate && !invalidate) mechanism = login.matched.mechanism;
  if (mechanism === undefined || client === undefined) {
    if (request && client === undefined) session.log.info('token request without a user-agent id ignored');
    return undefined;
  }

  const owner = { host: session.server.config.domain, username: session.username!, client };
  const issued = await tokens.issue(owner, mechanism);
  return x('token', NS_FAST, { token: issued.token, expiry: issued.expiry.toISOString().replace(/\.\d{3}Z$/, 'Z') });
}

/** Reads the replay counter of `<fast count/>`: undefined when absent, NaN when malformed. */
export function fastCount(authenticate: Element): number | undefined {
  const text = authenticate.getChild('fast', NS_FAST)?.attr('count');
  if (text === undefined) return undefined;
  return /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
}

