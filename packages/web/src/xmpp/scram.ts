import { fromBase64, toBase64 } from './base64.js';

export type ScramHash = 'SHA-256' | 'SHA-1';

/**
 * Keys that replace the password when reconnecting: the keys derived from the salted password
 * (RFC 5802 section 3), valid while the server keeps the same salt and iteration count.
 */
export interface ScramKeys {
  hash: ScramHash;
  salt: string;
  iterations: number;
  clientKey: Uint8Array<ArrayBuffer>;
  serverKey: Uint8Array<ArrayBuffer>;
}

/** State of one SCRAM exchange, created by `scramStart` and advanced by `scramProof` and `scramVerify`. */
export interface ScramExchange {
  hash: ScramHash;
  clientFirstBare: string;
  nonce: string;
  authMessage?: string;
  serverSignature?: Uint8Array<ArrayBuffer>;
  keys?: ScramKeys;
}

const GS2_HEADER = 'n,,';
const MAX_ITERATIONS = 10_000_000;
const encoder = new TextEncoder();

/** Starts an exchange; returns it and the client-first-message. */
export function scramStart(hash: ScramHash, username: string): { exchange: ScramExchange; message: string } {
  const nonce = toBase64(crypto.getRandomValues(new Uint8Array(18)));
  const clientFirstBare = `n=${escapeUsername(username)},r=${nonce}`;
  return { exchange: { hash, clientFirstBare, nonce }, message: GS2_HEADER + clientFirstBare };
}

/**
 * Computes the client-final-message for the server-first-message. Uses `cached` keys when
 * their salt and iteration count match the server's, otherwise derives them from `password`.
 * Throws when neither is possible or the server's message is malformed.
 */
export async function scramProof(exchange: ScramExchange, serverFirst: string, password: string | undefined, cached: ScramKeys | undefined): Promise<string> {
  const fields = parseFields(serverFirst);
  const serverNonce = fields.get('r');
  const salt = fields.get('s');
  const iterations = Number(fields.get('i'));
  if (!serverNonce?.startsWith(exchange.nonce) || serverNonce === exchange.nonce) throw new Error('SCRAM: the server nonce does not extend ours');
  if (!salt || !Number.isInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) throw new Error('SCRAM: bad salt or iteration count');

  const keys = await deriveKeys(exchange.hash, salt, iterations, password, cached);
  const finalWithoutProof = `c=${toBase64(encoder.encode(GS2_HEADER))},r=${serverNonce}`;
  const authMessage = `${exchange.clientFirstBare},${serverFirst},${finalWithoutProof}`;
  const storedKey = await digest(exchange.hash, keys.clientKey);
  const clientSignature = await hmac(exchange.hash, storedKey, authMessage);
  const proof = keys.clientKey.map((byte, i) => byte ^ (clientSignature[i] ?? 0));

  exchange.authMessage = authMessage;
  exchange.serverSignature = await hmac(exchange.hash, keys.serverKey, authMessage);
  exchange.keys = keys;
  return `${finalWithoutProof},p=${toBase64(proof)}`;
}

/** Checks the server-final-message's signature; returns the keys to keep for reconnecting. */
export function scramVerify(exchange: ScramExchange, serverFinal: string): ScramKeys {
  const fields = parseFields(serverFinal);
  const error = fields.get('e');
  if (error !== undefined) throw new Error(`SCRAM: the server reports ${error}`);
  const verifier = fields.get('v');
  if (!verifier || !exchange.serverSignature || !exchange.keys) throw new Error('SCRAM: no server signature');
  if (!sameBytes(fromBase64(verifier), exchange.serverSignature)) throw new Error('SCRAM: the server signature is wrong');
  return exchange.keys;
}

async function deriveKeys(hash: ScramHash, salt: string, iterations: number, password: string | undefined, cached: ScramKeys | undefined): Promise<ScramKeys> {
  if (cached && cached.hash === hash && cached.salt === salt && cached.iterations === iterations) return cached;
  if (password === undefined) throw new Error('SCRAM: the stored keys no longer match and no password is known');

  const saltedPassword = await pbkdf2(hash, normalizePassword(password), fromBase64(salt), iterations);
  const clientKey = await hmac(hash, saltedPassword, 'Client Key');
  const serverKey = await hmac(hash, saltedPassword, 'Server Key');
  return { hash, salt, iterations, clientKey, serverKey };
}

async function pbkdf2(hash: ScramHash, password: string, salt: Uint8Array<ArrayBuffer>, iterations: number): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash, salt, iterations }, key, hash === 'SHA-256' ? 256 : 160);
  return new Uint8Array(bits);
}

async function hmac(hash: ScramHash, keyBytes: Uint8Array<ArrayBuffer>, data: string): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(data)));
}

async function digest(hash: ScramHash, data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest(hash, data));
}

/**
 * SASLprep (RFC 4013) reduced to what browsers offer: non-ASCII spaces become spaces, the
 * characters mapped to nothing are removed, then NFKC.
 */
// TODO: prohibited-output and bidi checks of RFC 4013; the server rejects such passwords at sign-up.
export function normalizePassword(password: string): string {
  let mapped = '';
  for (const ch of password) {
    const code = ch.codePointAt(0) ?? 0;
    if (NON_ASCII_SPACES.has(code) || (code >= 0x2000 && code <= 0x200b)) mapped += ' ';
    else if (!MAPPED_TO_NOTHING.has(code) && !(code >= 0xfe00 && code <= 0xfe0f) && !(code >= 0x180b && code <= 0x180d)) mapped += ch;
  }
  return mapped.normalize('NFKC');
}

// RFC 3454 tables C.1.2 (outside U+2000..U+200B) and B.1, as code points.
const NON_ASCII_SPACES = new Set([0x00a0, 0x1680, 0x202f, 0x205f, 0x3000]);
const MAPPED_TO_NOTHING = new Set([0x00ad, 0x034f, 0x1806, 0x200c, 0x200d, 0x2060, 0xfeff]);

function escapeUsername(username: string): string {
  return username.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function parseFields(message: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const part of message.split(',')) {
    if (part.length >= 2 && part[1] === '=') fields.set(part[0]!, part.slice(2));
  }
  return fields;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
