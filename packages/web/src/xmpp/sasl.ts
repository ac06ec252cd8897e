import { fromBase64, toBase64 } from './base64.js';
import { x, type XElement } from './element.js';
import { XmppAuthError } from './errors.js';
import type { FramedSocket } from './framed-socket.js';
import { NS } from './ns.js';
import { scramProof, scramStart, scramVerify, type ScramHash, type ScramKeys } from './scram.js';

export interface SaslCredentials {
  username: string;
  password: string | undefined;
  keys: ScramKeys | undefined;
  /** Whether PLAIN may be used: TLS or a loopback server. */
  plainAllowed: boolean;
}

/** A failure worth retrying later (the server asks us to wait), unlike XmppAuthError. */
export class SaslTemporaryError extends Error {
  override name = 'SaslTemporaryError';
}

/** The SCRAM mechanisms this client speaks, by preference, with their hash. */
export const SCRAM: Record<string, ScramHash> = { 'SCRAM-SHA-256': 'SHA-256', 'SCRAM-SHA-1': 'SHA-1' };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Picks the mechanism: SCRAM-SHA-256, then SCRAM-SHA-1, then PLAIN where allowed and a password is known. */
export function chooseMechanism(features: XElement, credentials: SaslCredentials): string {
  const offered = new Set(features.getChild('mechanisms', NS.SASL)?.getChildren('mechanism').map((m) => m.text().trim()));
  return pickMechanism(offered, credentials);
}

/** Picks from the `offered` mechanism names in the order of `chooseMechanism`; SASL2 offers its own list. */
export function pickMechanism(offered: ReadonlySet<string>, credentials: SaslCredentials): string {
  for (const name of Object.keys(SCRAM)) if (offered.has(name)) return name;
  if (offered.has('PLAIN') && credentials.plainAllowed && credentials.password !== undefined) return 'PLAIN';
  throw new XmppAuthError('no usable SASL mechanism');
}

/** Runs SASL on `socket`; returns the SCRAM keys to reuse (undefined after PLAIN). */
export async function authenticate(socket: FramedSocket, features: XElement, credentials: SaslCredentials): Promise<ScramKeys | undefined> {
  const mechanism = chooseMechanism(features, credentials);
  const hash = SCRAM[mechanism];
  if (!hash) {
    await plain(socket, credentials);
    return undefined;
  }
  return scram(socket, mechanism, hash, credentials);
}

async function scram(socket: FramedSocket, mechanism: string, hash: ScramHash, credentials: SaslCredentials): Promise<ScramKeys> {
  const { exchange, message } = scramStart(hash, credentials.username);
  socket.write(x('auth', NS.SASL, { mechanism }, encode(message)));

  const challenge = await expectSasl(socket, 'challenge');
  let final: string;
  try {
    final = await scramProof(exchange, decode(challenge), credentials.password, credentials.keys);
  } catch (err) {
    socket.write(x('abort', NS.SASL));
    throw new XmppAuthError((err as Error).message);
  }
  socket.write(x('response', NS.SASL, {}, encode(final)));

  // The server's signature comes as additional data of <success/> (RFC 6120 6.3.10) or, from
  // some servers, as a last challenge answered with an empty response.
  const outcome = await expectSasl(socket, 'success', 'challenge');
  const keys = verify(exchange, outcome);
  if (outcome.name === 'challenge') {
    socket.write(x('response', NS.SASL));
    await expectSasl(socket, 'success');
  }
  return keys;
}

function verify(exchange: Parameters<typeof scramVerify>[0], element: XElement): ScramKeys {
  try {
    return scramVerify(exchange, decode(element));
  } catch (err) {
    throw new XmppAuthError((err as Error).message);
  }
}

async function plain(socket: FramedSocket, credentials: SaslCredentials): Promise<void> {
  const message = `\u0000${credentials.username}\u0000${credentials.password ?? ''}`;
  socket.write(x('auth', NS.SASL, { mechanism: 'PLAIN' }, encode(message)));
  await expectSasl(socket, 'success');
}

/** Waits for one of `names`; a `<failure/>` throws the matching error. */
async function expectSasl(socket: FramedSocket, ...names: string[]): Promise<XElement> {
  const element = await socket.next();
  if (element.ns === NS.SASL && names.includes(element.name)) return element;
  if (element.ns === NS.SASL && element.name === 'failure') {
    const condition = element.elements().find((child) => child.name !== 'text')?.name ?? 'not-authorized';
    if (condition === 'temporary-auth-failure') throw new SaslTemporaryError(condition);
    throw new XmppAuthError(condition);
  }
  throw new Error(`unexpected <${element.name}/> during SASL`);
}

/** Encodes SASL data for an element's text: base64, or '=' for empty data (RFC 6120 6.4.2). */
export function encode(text: string): string {
  return text === '' ? '=' : toBase64(encoder.encode(text));
}

/** Decodes the base64 SASL data of an element ('' or '=' mean empty). */
export function decode(element: XElement): string {
  const text = element.text().trim();
  return text === '' || text === '=' ? '' : decoder.decode(fromBase64(text));
}
