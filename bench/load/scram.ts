/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) for the load generator. Unlike the
 * test client, it caches the keys derived from the password per salt and iteration count,
 * as real clients do. PBKDF2 at 10,000 iterations costs a few milliseconds of CPU, so
 * paying it at every login would make the generator the bottleneck.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

import { escapeSaslName, parseScramAttributes, saslPrepMapping } from '../../test/support/scram-client.js';

interface DerivedKeys {
  clientKey: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** Bounds the cache; the largest benchmark uses 10,000 accounts. */
const MAX_CACHED_KEYS = 100_000;
const keyCache = new Map<string, DerivedKeys>();

function hmac(key: Buffer, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

function deriveKeys(password: string, salt: Buffer, iterations: number): DerivedKeys {
  const cacheKey = `${iterations}:${salt.toString('base64')}:${password}`;
  const cached = keyCache.get(cacheKey);
  if (cached) return cached;

  const salted = pbkdf2Sync(Buffer.from(saslPrepMapping(password), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = hmac(salted, 'Client Key');
  const keys = { clientKey, storedKey: createHash('sha256').update(clientKey).digest(), serverKey: hmac(salted, 'Server Key') };
  if (keyCache.size >= MAX_CACHED_KEYS) keyCache.clear();
  keyCache.set(cacheKey, keys);
  return keys;
}

/** One SCRAM-SHA-256 exchange without channel binding (GS2 header "n,,"). */
export class ScramSha256 {
  private readonly clientFirstBare: string;
  private readonly clientNonce = randomBytes(18).toString('base64');
  private serverSignature: Buffer | undefined;

  constructor(
    username: string,
    private readonly password: string,
  ) {
    this.clientFirstBare = `n=${escapeSaslName(username)},r=${this.clientNonce}`;
  }

  /** Returns the client-first-message, base64-encoded for `<auth/>`. */
  first(): string {
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8').toString('base64');
  }

  /** Returns the client-final-message for a base64 server-first-message, base64-encoded. */
  final(challenge: string): string {
    const serverFirst = Buffer.from(challenge, 'base64').toString('utf8');
    const attributes = parseScramAttributes(serverFirst);
    const nonce = attributes.get('r');
    const salt = attributes.get('s');
    const iterations = Number(attributes.get('i'));
    if (nonce === undefined || salt === undefined || !Number.isInteger(iterations) || !nonce.startsWith(this.clientNonce)) {
      throw new Error(`invalid server-first-message: ${serverFirst}`);
    }

    const keys = deriveKeys(this.password, Buffer.from(salt, 'base64'), iterations);
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = hmac(keys.storedKey, authMessage);
    const proof = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) proof[i] = keys.clientKey[i]! ^ signature[i]!;
    this.serverSignature = hmac(keys.serverKey, authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8').toString('base64');
  }

  /** Returns true when the base64 server-final-message carries the expected signature. */
  verify(success: string): boolean {
    const verifier = parseScramAttributes(Buffer.from(success, 'base64').toString('utf8')).get('v');
    if (verifier === undefined || this.serverSignature === undefined) return false;
    return Buffer.from(verifier, 'base64').equals(this.serverSignature);
  }
}
