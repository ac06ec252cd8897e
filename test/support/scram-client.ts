import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import type { TLSSocket } from 'node:tls';

/** A SCRAM hash: SHA-1 (RFC 5802) or SHA-256 (RFC 7677). */
export type ScramHashName = 'SHA-1' | 'SHA-256';

/** A channel binding type as written in the GS2 header. */
export type ChannelBindingName = 'tls-exporter' | 'tls-unique' | 'tls-server-end-point';

export interface ScramClientOptions {
  hash: ScramHashName;
  username: string;
  password: string;
  authzid?: string;
  /** Channel binding for the -PLUS variants; without it the GS2 flag is 'n' (or `gs2Flag`). */
  channelBinding?: { type: ChannelBindingName; data: Buffer };
  /** Overrides the GS2 flag of a non-PLUS exchange, for example 'y'. */
  gs2Flag?: 'n' | 'y';
  /** Fixed client nonce, so that a captured exchange can be replayed. */
  nonce?: string;
}

/** The fields of a server-first-message. */
export interface ServerFirst {
  nonce: string;
  salt: Buffer;
  iterations: number;
}

// RFC 3454 table B.1: code points SASLprep maps to nothing, as [first, last] ranges.
const MAPPED_TO_NOTHING: [number, number][] = [
  [0x00ad, 0x00ad],
  [0x034f, 0x034f],
  [0x1806, 0x1806],
  [0x180b, 0x180d],
  [0x200b, 0x200d],
  [0x2060, 0x2060],
  [0xfe00, 0xfe0f],
  [0xfeff, 0xfeff],
];
// RFC 3454 table C.1.2: non-ASCII spaces, which SASLprep maps to U+0020.
const NON_ASCII_SPACES = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;

/**
 * Applies the mapping and normalization steps of SASLprep (RFC 4013 section 2.1 and 2.2)
 * to a password, as a SCRAM client must before hashing it. The prohibited-output checks
 * are left to the server.
 */
export function saslPrepMapping(password: string): string {
  const remaining = [...password].filter((char) => {
    const code = char.codePointAt(0)!;
    return !MAPPED_TO_NOTHING.some(([first, last]) => code >= first && code <= last);
  });
  return remaining.join('').replace(NON_ASCII_SPACES, ' ').normalize('NFKC');
}

/** Escapes a SCRAM saslname: '=' becomes '=3D' and ',' becomes '=2C' (RFC 5802 section 5.1). */
export function escapeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/** Parses the comma-separated attributes of a SCRAM message into a map. */
export function parseScramAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(',')) {
    const eq = part.indexOf('=');
    if (eq === 1) attributes.set(part.slice(0, 1), part.slice(2));
  }
  return attributes;
}

/**
 * The client side of one SCRAM exchange (RFC 5802, RFC 7677), used by the tests to log
 * in and to build tampered or replayed messages.
 */
export class ScramClient {
  readonly clientNonce: string;
  readonly gs2Header: string;
  readonly clientFirstBare: string;
  private serverSignature: Buffer | undefined;

  constructor(private readonly options: ScramClientOptions) {
    this.clientNonce = options.nonce ?? randomBytes(18).toString('base64');
    const authzid = options.authzid === undefined ? '' : `a=${escapeSaslName(options.authzid)}`;
    const flag = options.channelBinding ? `p=${options.channelBinding.type}` : (options.gs2Flag ?? 'n');
    this.gs2Header = `${flag},${authzid},`;
    this.clientFirstBare = `n=${escapeSaslName(options.username)},r=${this.clientNonce}`;
  }

  /** The SASL mechanism name this exchange uses. */
  get mechanism(): string {
    return `SCRAM-${this.options.hash}${this.options.channelBinding ? '-PLUS' : ''}`;
  }

  /** Returns the client-first-message. */
  clientFirst(): Buffer {
    return Buffer.from(this.gs2Header + this.clientFirstBare, 'utf8');
  }

  /**
   * Computes the client-final-message for a server-first-message. `nonceOverride`
   * replaces the nonce echoed back, to test that the server checks it.
   */
  clientFinal(serverFirstMessage: Buffer, nonceOverride?: string): Buffer {
    const serverFirstText = serverFirstMessage.toString('utf8');
    const first = this.parseServerFirst(serverFirstText);

    const digest = this.options.hash === 'SHA-1' ? 'sha1' : 'sha256';
    const keyLength = this.options.hash === 'SHA-1' ? 20 : 32;
    const password = Buffer.from(saslPrepMapping(this.options.password), 'utf8');
    const saltedPassword = pbkdf2Sync(password, first.salt, first.iterations, keyLength, digest);
    const clientKey = hmac(digest, saltedPassword, 'Client Key');
    const storedKey = createHash(digest).update(clientKey).digest();

    const cbindInput = Buffer.concat([Buffer.from(this.gs2Header, 'utf8'), this.options.channelBinding?.data ?? Buffer.alloc(0)]);
    const withoutProof = `c=${cbindInput.toString('base64')},r=${nonceOverride ?? first.nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirstText},${withoutProof}`;

    const clientSignature = hmac(digest, storedKey, authMessage);
    const proof = Buffer.alloc(clientKey.length);
    for (let i = 0; i < proof.length; i++) proof[i] = clientKey[i]! ^ clientSignature[i]!;

    const serverKey = hmac(digest, saltedPassword, 'Server Key');
    this.serverSignature = hmac(digest, serverKey, authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  /** Returns true when the server-final-message carries the expected server signature. */
  verifyServerFinal(serverFinalMessage: Buffer): boolean {
    const verifier = parseScramAttributes(serverFinalMessage.toString('utf8')).get('v');
    if (verifier === undefined || this.serverSignature === undefined) return false;
    return Buffer.from(verifier, 'base64').equals(this.serverSignature);
  }

  private parseServerFirst(text: string): ServerFirst {
    const attributes = parseScramAttributes(text);
    const nonce = attributes.get('r');
    const salt = attributes.get('s');
    const iterations = Number(attributes.get('i'));
    if (nonce === undefined || salt === undefined || !Number.isInteger(iterations)) {
      throw new Error(`invalid server-first-message: ${text}`);
    }
    if (!nonce.startsWith(this.clientNonce)) throw new Error('the server nonce does not start with the client nonce');
    return { nonce, salt: Buffer.from(salt, 'base64'), iterations };
  }
}

function hmac(digest: string, key: Buffer, data: string): Buffer {
  return createHmac(digest, key).update(data, 'utf8').digest();
}

/**
 * Computes the client's channel binding data for a TLS connection. tls-exporter is
 * defined in RFC 9266 and tls-unique (the first Finished message of the handshake) in
 * RFC 5929 section 3. tls-server-end-point (RFC 5929 section 4) is computed as SHA-256
 * of the server's certificate, which matches the SHA-256-signed test certificate.
 */
export function clientChannelBinding(socket: TLSSocket, type: ChannelBindingName): Buffer {
  if (type === 'tls-exporter') return socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
  if (type === 'tls-unique') {
    const finished = socket.isSessionReused() ? socket.getPeerFinished() : socket.getFinished();
    if (!finished) throw new Error('tls-unique is not available on this connection');
    return finished;
  }
  const certificate = socket.getPeerCertificate(false);
  if (!certificate.raw) throw new Error('the server sent no certificate');
  return createHash('sha256').update(certificate.raw).digest();
}
