import { fromBase64, toBase64 } from './base64.js';
import { bind2Feature, bind2Request, parseBound, type BoundResult } from './bind2.js';
import { x, type XElement } from './element.js';
import { XmppAuthError } from './errors.js';
import { fastElement, fastOffered, fastTokenUsable, htInitialResponse, htResponderValid, parseFastToken, requestTokenElement, FAST_MECHANISM, type FastToken } from './fast.js';
import type { FramedSocket } from './framed-socket.js';
import { NS } from './ns.js';
import { decode, encode, pickMechanism, SaslTemporaryError, SCRAM, type SaslCredentials } from './sasl.js';
import { scramProof, scramStart, scramVerify, type ScramKeys } from './scram.js';
import { userAgentElement, type UserAgent } from './user-agent.js';

/** One SASL2 login (XEP-0388) with the session set up in the same round trip. */
export interface Sasl2Request extends SaslCredentials {
  userAgent: UserAgent;
  /** The Bind 2 tag (XEP-0386): the server makes the resource `tag/<id from the user agent>`. */
  tag: string;
  /** A FAST token to try before the password mechanisms. */
  fastToken: FastToken | undefined;
  /**
   * Receives the token with its count raised before a token login sends it. The login waits
   * for it, so the caller can store the count before the server receives it.
   */
  onFastCount?: (token: FastToken) => Promise<void>;
  /** Stream management state to resume (XEP-0198) instead of binding. */
  resume?: { previd: string; h: number };
}

/** The session state that a successful SASL2 login set up. */
export interface Sasl2Outcome {
  /** The authorization identifier: the full JID once bound or resumed, the bare JID otherwise. */
  jid: string;
  /** The SCRAM keys to keep, after a SCRAM login. */
  keys?: ScramKeys;
  /** The mechanism that succeeded. */
  mechanism: string;
  /** A new token the server issued, when there was one in `<success/>`. */
  token?: FastToken;
  /** True when the login tried the request's FAST token and the server rejected it. */
  fastRejected: boolean;
  resumed?: { h: number };
  /** The server could not resume; `h` is the final count of the old session when it knew it. */
  resumeFailed?: { h?: number };
  bound?: BoundResult;
  /** The stream features that follow `<success/>`. */
  features: XElement;
}

/** Returns the SASL2 `<authentication/>` feature, when the server offers SASL2. */
export function sasl2Feature(features: XElement): XElement | undefined {
  return features.getChild('authentication', NS.SASL2);
}

/**
 * Logs in with SASL2: with the FAST token when the server offers FAST and the token is usable,
 * otherwise (or when the server rejects the token) with SCRAM from the password or stored keys.
 * Throws XmppAuthError when the credentials are rejected and SaslTemporaryError when the server
 * requests a wait (temporary-auth-failure).
 */
export async function authenticateSasl2(socket: FramedSocket, authentication: XElement, request: Sasl2Request): Promise<Sasl2Outcome> {
  const offersFast = fastOffered(authentication);
  let fastRejected = false;
  if (offersFast && fastTokenUsable(request.fastToken)) {
    try {
      return await fastLogin(socket, authentication, request, request.fastToken);
    } catch (err) {
      if (!(err instanceof XmppAuthError)) throw err;
      // XEP-0484 section 4.1: after a failed token login, discard the token and use another mechanism.
      fastRejected = true;
    }
  }
  const outcome = await passwordLogin(socket, authentication, request, offersFast);
  return { ...outcome, fastRejected };
}

/**
 * Deletes a FAST token on the server with an `<authenticate/>` that uses the token and binds
 * nothing (XEP-0484 section 3.6). Resolves once the server confirmed.
 */
export async function invalidateFastToken(socket: FramedSocket, username: string, userAgent: UserAgent, token: FastToken): Promise<void> {
  const initial = await htInitialResponse(username, token.token);
  const fast = fastElement(token.count + 1, true);
  socket.write(x('authenticate', NS.SASL2, { mechanism: FAST_MECHANISM }, x('initial-response', NS.SASL2, {}, toBase64(initial)), userAgentElement(userAgent), fast));
  await expectSasl2(socket, 'success');
}

async function fastLogin(socket: FramedSocket, authentication: XElement, request: Sasl2Request, token: FastToken): Promise<Sasl2Outcome> {
  const counted = { ...token, count: token.count + 1 };
  await request.onFastCount?.(counted);

  const initial = await htInitialResponse(request.username, counted.token);
  const inline = [fastElement(counted.count), ...sessionRequests(authentication, request)];
  socket.write(x('authenticate', NS.SASL2, { mechanism: FAST_MECHANISM }, x('initial-response', NS.SASL2, {}, toBase64(initial)), ...inline));

  const success = await expectSasl2(socket, 'success');
  const proof = fromBase64(success.getChildText('additional-data', NS.SASL2)?.trim() || '');
  if (!(await htResponderValid(counted.token, proof))) throw new Error('FAST: the server proof is wrong');
  return { ...(await readSuccess(socket, success, FAST_MECHANISM)), fastRejected: false };
}

async function passwordLogin(socket: FramedSocket, authentication: XElement, request: Sasl2Request, offersFast: boolean): Promise<Omit<Sasl2Outcome, 'fastRejected'>> {
  const offered = new Set(authentication.getChildren('mechanism', NS.SASL2).map((mechanism) => mechanism.text().trim()));
  const mechanism = pickMechanism(offered, request);
  const inline = [offersFast && requestTokenElement(), ...sessionRequests(authentication, request)];
  const hash = SCRAM[mechanism];
  if (!hash) {
    // PLAIN (only over TLS or loopback, see pickMechanism).
    socket.write(authenticateElement(mechanism, `\u0000${request.username}\u0000${request.password ?? ''}`, inline));
    return readSuccess(socket, await expectSasl2(socket, 'success'), mechanism);
  }

  const { exchange, message } = scramStart(hash, request.username);
  socket.write(authenticateElement(mechanism, message, inline));
  const challenge = await expectSasl2(socket, 'challenge');
  let final: string;
  try {
    final = await scramProof(exchange, decode(challenge), request.password, request.keys);
  } catch (err) {
    socket.write(x('abort', NS.SASL2));
    throw new XmppAuthError((err as Error).message);
  }
  socket.write(x('response', NS.SASL2, {}, encode(final)));

  const success = await expectSasl2(socket, 'success');
  let keys: ScramKeys;
  try {
    keys = scramVerify(exchange, decode(success.getChild('additional-data', NS.SASL2) ?? x('additional-data', NS.SASL2)));
  } catch (err) {
    throw new XmppAuthError((err as Error).message);
  }
  return { ...(await readSuccess(socket, success, mechanism)), keys };
}

/** Builds the inline parts of `<authenticate/>` besides FAST: user agent, then resumption and Bind 2. */
function sessionRequests(authentication: XElement, request: Sasl2Request): XElement[] {
  const parts = [userAgentElement(request.userAgent)];
  const inlineSm = authentication.getChild('inline', NS.SASL2)?.getChild('sm', NS.SM) !== undefined;
  if (request.resume && inlineSm) parts.push(x('resume', NS.SM, { previd: request.resume.previd, h: request.resume.h }));
  // The bind goes along with a resumption too: when resuming fails, the server binds in the same step.
  const bind = bind2Feature(authentication);
  if (bind) parts.push(bind2Request(bind, request.tag));
  return parts;
}

function authenticateElement(mechanism: string, initialResponse: string, inline: (XElement | false)[]): XElement {
  return x('authenticate', NS.SASL2, { mechanism }, x('initial-response', NS.SASL2, {}, encode(initialResponse)), ...inline);
}

/** Reads what `<success/>` set up, then the stream features that follow it. */
async function readSuccess(socket: FramedSocket, success: XElement, mechanism: string): Promise<Omit<Sasl2Outcome, 'fastRejected'>> {
  const jid = success.getChildText('authorization-identifier', NS.SASL2)?.trim();
  if (!jid) throw new Error('SASL2: the success has no authorization identifier');

  const resumed = success.getChild('resumed', NS.SM);
  const failed = success.getChild('failed', NS.SM);
  const features = await socket.next();
  if (features.name !== 'features' || features.ns !== NS.STREAM) throw new Error(`SASL2: expected stream features after success, got <${features.name}/>`);

  return {
    jid,
    mechanism,
    token: parseFastToken(success),
    resumed: resumed ? { h: countOf(resumed) ?? Number.NaN } : undefined,
    resumeFailed: failed ? { h: countOf(failed) } : undefined,
    bound: parseBound(success),
    features,
  };
}

function countOf(element: XElement): number | undefined {
  const h = element.attr('h');
  return h === undefined || !/^\d+$/.test(h) ? undefined : Number(h);
}

/** Waits for one of `names` in the SASL2 namespace; `<failure/>` throws the matching error. */
async function expectSasl2(socket: FramedSocket, ...names: string[]): Promise<XElement> {
  const element = await socket.next();
  if (element.ns === NS.SASL2 && names.includes(element.name)) return element;
  if (element.ns === NS.SASL2 && element.name === 'failure') {
    const condition = element.elements().find((child) => child.ns === NS.SASL)?.name ?? 'not-authorized';
    if (condition === 'temporary-auth-failure') throw new SaslTemporaryError(condition);
    throw new XmppAuthError(condition);
  }
  // TODO: SASL2 tasks (`<continue/>`, such as a second factor); the server sends none today.
  throw new Error(`unexpected <${element.name}/> during SASL2`);
}
