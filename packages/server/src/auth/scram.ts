import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

import { pooledRandomBytes } from '../core/random.js';
import type { ChannelBinding } from './channel-binding.js';
import { digestLength, digestName, hmac, MIN_ITERATIONS, SALT_BYTES } from './credentials.js';
import type { ScramCredential, ScramHash } from './credentials.js';
import { SaslPrepError } from './errors.js';
import type { SaslFailureCondition, SaslMechanism, SaslStep } from './mechanisms.js';
import { prepUsername } from './saslprep.js';

/** Options of one SCRAM exchange. */
export interface ScramServerOptions {
  hash: ScramHash;
  /** True for the -PLUS variant, which requires channel binding. */
  plus: boolean;
  /**
   * Binding data of the session's TLS connection, one entry or one per supported type.
   * Pass it to the non-PLUS variants as well, so that a client that claims the server
   * lacks channel binding ('y' flag) is caught. Pass null (or []) without TLS or when
   * the -PLUS mechanisms are not offered.
   */
  channelBinding: ChannelBinding | readonly ChannelBinding[] | null;
  /** Finds the credential of an unescaped, SASLprepped username for this hash. Its errors propagate. */
  lookup: (username: string) => Promise<ScramCredential | null>;
  /** Length of the random server nonce in bytes before base64; at least 16, default 24. */
  serverNonceBytes?: number;
  /** Fixed server nonce, for reproducing published test vectors; never set it in production. */
  serverNonce?: string;
  /** Iteration count sent for unknown users; set it to the count used for new accounts (default 4096). */
  unknownUserIterations?: number;
  /** Key for the fake salts of unknown users; default a random key per process. */
  unknownUserSecret?: Buffer;
}

// Default key for the fake salts of unknown users.
// NOTE: a restart changes this key and so the fake salts, while real salts stay. Someone who
// compares salts across a restart can tell unknown users apart unless unknownUserSecret is persisted.
const PROCESS_SECRET = randomBytes(32);

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Attribute names with a fixed position (RFC 5802 section 5.1); they may not appear as extensions.
const CORE_ATTRIBUTES = new Set(['a', 'n', 'm', 'r', 'c', 's', 'i', 'p', 'v', 'e']);

// printable = %x21-2B / %x2D-7E, which is printable ASCII except "," (RFC 5802 section 7)
const PRINTABLE = /^[\x21-\x2b\x2d-\x7e]+$/;

type State = 'initial' | 'awaiting-client-first' | 'awaiting-client-final' | 'done';

// State kept from client-first-message to client-final-message.
interface Exchange {
  clientFirstBare: string;
  serverFirst: string;
  nonce: string;
  username: string;
  authzid: string | undefined;
  credential: ScramCredential;
  knownUser: boolean;
  expectedBinding: Buffer;
}

/**
 * A failed check. `serverError` is the RFC 5802 section 7 server-error-value; XMPP
 * has no SASL outcome data on failure, so it goes into the <failure/> text instead
 * of a server-final-message.
 */
class ScramFailure extends Error {
  constructor(
    readonly condition: SaslFailureCondition,
    readonly serverError: string,
  ) {
    super(serverError);
  }
}

/**
 * Server side of SCRAM-SHA-1, SCRAM-SHA-256 and their -PLUS variants (RFC 5802,
 * RFC 7677) for one authentication exchange. Failures are returned as steps; only
 * errors of `lookup` are thrown.
 */
export class ScramServer implements SaslMechanism {
  private state: State = 'initial';
  private exchange: Exchange | null = null;
  private readonly bindings: readonly ChannelBinding[];

  constructor(private readonly options: ScramServerOptions) {
    const binding = options.channelBinding;
    this.bindings = binding === null ? [] : Array.isArray(binding) ? binding : [binding as ChannelBinding];

    if (options.serverNonce !== undefined && !PRINTABLE.test(options.serverNonce)) {
      throw new RangeError('The SCRAM server nonce must be printable ASCII without commas.');
    }
    if (options.serverNonceBytes !== undefined && !(Number.isSafeInteger(options.serverNonceBytes) && options.serverNonceBytes >= 16)) {
      throw new RangeError(`serverNonceBytes ${options.serverNonceBytes} is invalid; use an integer of at least 16.`);
    }
  }

  /** Starts the exchange with the client's initial response, or null when the client sent none. */
  async start(initialResponse: Buffer | null): Promise<SaslStep> {
    if (this.state !== 'initial') return this.fail(new ScramFailure('malformed-request', 'other-error'));
    if (initialResponse === null) {
      this.state = 'awaiting-client-first';
      return { kind: 'challenge', data: Buffer.alloc(0) };
    }
    return this.run(() => this.onClientFirst(initialResponse));
  }

  /** Processes the client's next response. */
  async next(response: Buffer): Promise<SaslStep> {
    switch (this.state) {
      case 'awaiting-client-first':
        return this.run(() => this.onClientFirst(response));
      case 'awaiting-client-final':
        return this.run(() => this.onClientFinal(response));
      default:
        return this.fail(new ScramFailure('malformed-request', 'other-error'));
    }
  }

  private async run(step: () => Promise<SaslStep>): Promise<SaslStep> {
    try {
      return await step();
    } catch (error) {
      if (error instanceof ScramFailure) return this.fail(error);
      this.state = 'done';
      throw error;
    }
  }

  private fail(failure: ScramFailure): SaslStep {
    // Only a wrong proof is a password guess; other failures are protocol errors.
    const username = failure.serverError === 'invalid-proof' ? this.exchange?.username : undefined;
    this.state = 'done';
    this.exchange = null;
    const step: SaslStep = { kind: 'failure', condition: failure.condition, text: failure.serverError };
    return username === undefined ? step : { ...step, username };
  }

  private async onClientFirst(message: Buffer): Promise<SaslStep> {
    const text = decodeMessage(message);
    const header = parseGs2Header(text);
    const expectedBinding = Buffer.concat([Buffer.from(header.gs2Header, 'utf8'), this.bindingData(header.flag, header.bindingName)]);
    const { username, clientNonce } = parseClientFirstBare(header.bare);

    const stored = await this.options.lookup(username);
    const knownUser = stored !== null && stored.hash === this.options.hash;
    const credential = knownUser ? stored : this.unknownUserCredential(username);

    const nonce = clientNonce + (this.options.serverNonce ?? pooledRandomBytes(this.options.serverNonceBytes ?? 24).toString('base64'));
    const serverFirst = `r=${nonce},s=${credential.salt.toString('base64')},i=${credential.iterations}`;
    this.exchange = {
      clientFirstBare: header.bare,
      serverFirst,
      nonce,
      username,
      authzid: header.authzid,
      credential,
      knownUser,
      expectedBinding,
    };
    this.state = 'awaiting-client-final';
    return { kind: 'challenge', data: Buffer.from(serverFirst, 'utf8') };
  }

  private async onClientFinal(message: Buffer): Promise<SaslStep> {
    const exchange = this.exchange;
    if (exchange === null) throw new ScramFailure('malformed-request', 'other-error');
    const final = parseClientFinal(decodeMessage(message));

    // RFC 5802 section 5.1: c= carries the GS2 header and, for -PLUS, the binding data.
    if (!final.binding.equals(exchange.expectedBinding)) throw new ScramFailure('not-authorized', 'channel-bindings-dont-match');
    if (final.nonce !== exchange.nonce) throw new ScramFailure('not-authorized', 'other-error');

    const authMessage = `${exchange.clientFirstBare},${exchange.serverFirst},${final.withoutProof}`;
    const proofValid = verifyProof(exchange.credential, authMessage, final.proof);
    if (!exchange.knownUser || !proofValid) throw new ScramFailure('not-authorized', 'invalid-proof');

    const serverSignature = hmac(this.options.hash, exchange.credential.serverKey, authMessage);
    this.state = 'done';
    this.exchange = null;
    return {
      kind: 'success',
      data: Buffer.from(`v=${serverSignature.toString('base64')}`, 'utf8'),
      username: exchange.username,
      authzid: exchange.authzid,
    };
  }

  // Returns the channel binding data the client must include in c=, after the GS2 header.
  private bindingData(flag: 'n' | 'y' | 'p', bindingName: string | undefined): Buffer {
    if (!this.options.plus) {
      if (flag === 'p') throw new ScramFailure('malformed-request', 'channel-binding-not-supported');
      // With "y" the client states that the server offered no -PLUS mechanism. This server
      // does offer one, so an attacker must have removed it from the stream features.
      if (flag === 'y' && this.bindings.length > 0) throw new ScramFailure('not-authorized', 'server-does-support-channel-binding');
      return Buffer.alloc(0);
    }

    if (flag !== 'p') throw new ScramFailure('malformed-request', 'other-error');
    if (this.bindings.length === 0) throw new ScramFailure('malformed-request', 'channel-binding-not-supported');
    const binding = this.bindings.find((candidate) => candidate.type === bindingName);
    if (binding === undefined) throw new ScramFailure('malformed-request', 'unsupported-channel-binding-type');
    return binding.data;
  }

  // A credential that cannot match, with a salt derived from the username so repeated
  // attempts see the same salt and the exchange looks like one for a real account.
  private unknownUserCredential(username: string): ScramCredential {
    const hash = this.options.hash;
    const secret = this.options.unknownUserSecret ?? PROCESS_SECRET;
    const salt = createHmac('sha256', secret).update(`${hash}\0${username}`).digest().subarray(0, SALT_BYTES);
    const iterations = this.options.unknownUserIterations ?? MIN_ITERATIONS;
    const length = digestLength(hash);
    return { hash, salt, iterations, storedKey: randomBytes(length), serverKey: randomBytes(length) };
  }
}

// RFC 5802 section 3: ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); H(ClientKey) must equal StoredKey.
function verifyProof(credential: ScramCredential, authMessage: string, proof: Buffer): boolean {
  const clientSignature = hmac(credential.hash, credential.storedKey, authMessage);
  if (proof.length !== clientSignature.length) return false;

  const clientKey = Buffer.alloc(proof.length);
  for (let i = 0; i < proof.length; i++) clientKey[i] = (proof[i] ?? 0) ^ (clientSignature[i] ?? 0);
  const storedKey = createHash(digestName(credential.hash)).update(clientKey).digest();
  return storedKey.length === credential.storedKey.length && timingSafeEqual(storedKey, credential.storedKey);
}

interface Gs2Header {
  gs2Header: string;
  flag: 'n' | 'y' | 'p';
  bindingName: string | undefined;
  authzid: string | undefined;
  bare: string;
}

// gs2-header = gs2-cbind-flag "," [ authzid ] ","  (RFC 5802 section 7)
function parseGs2Header(text: string): Gs2Header {
  const first = text.indexOf(',');
  const second = first < 0 ? -1 : text.indexOf(',', first + 1);
  if (second < 0) throw new ScramFailure('malformed-request', 'invalid-encoding');

  const flagField = text.slice(0, first);
  const authzidField = text.slice(first + 1, second);
  const { flag, bindingName } = parseBindingFlag(flagField);

  let authzid: string | undefined;
  if (authzidField !== '') {
    if (!authzidField.startsWith('a=')) throw new ScramFailure('malformed-request', 'invalid-encoding');
    authzid = unescapeSaslName(authzidField.slice(2));
  }

  return { gs2Header: text.slice(0, second + 1), flag, bindingName, authzid, bare: text.slice(second + 1) };
}

// gs2-cbind-flag = ("p=" cb-name) / "n" / "y"; cb-name = 1*(ALPHA / DIGIT / "." / "-")
function parseBindingFlag(field: string): { flag: 'n' | 'y' | 'p'; bindingName: string | undefined } {
  if (field === 'n' || field === 'y') return { flag: field, bindingName: undefined };
  if (/^p=[A-Za-z0-9.-]+$/.test(field)) return { flag: 'p', bindingName: field.slice(2) };
  throw new ScramFailure('malformed-request', 'invalid-encoding');
}

// client-first-message-bare = [reserved-mext ","] username "," nonce ["," extensions]
function parseClientFirstBare(bare: string): { username: string; clientNonce: string } {
  const attributes = parseAttributes(bare);
  if (attributes[0]?.name === 'm') throw new ScramFailure('malformed-request', 'extensions-not-supported');

  const [user, nonce, ...extensions] = attributes;
  if (user?.name !== 'n' || nonce?.name !== 'r') throw new ScramFailure('malformed-request', 'invalid-encoding');
  if (!PRINTABLE.test(nonce.value)) throw new ScramFailure('malformed-request', 'invalid-encoding');
  checkExtensions(extensions);

  return { username: prepareUsername(unescapeSaslName(user.value)), clientNonce: nonce.value };
}

interface ClientFinal {
  binding: Buffer;
  nonce: string;
  proof: Buffer;
  withoutProof: string;
}

// client-final-message = channel-binding "," nonce ["," extensions] "," proof
function parseClientFinal(text: string): ClientFinal {
  const attributes = parseAttributes(text);
  const [binding, nonce, ...rest] = attributes;
  const proof = rest.pop();
  if (binding?.name !== 'c' || nonce?.name !== 'r' || proof?.name !== 'p') {
    throw new ScramFailure('malformed-request', 'invalid-encoding');
  }
  checkExtensions(rest);

  return {
    binding: decodeBase64(binding.value),
    nonce: nonce.value,
    proof: decodeBase64(proof.value),
    withoutProof: text.slice(0, text.lastIndexOf(',p=')),
  };
}

// RFC 5802 section 5.1: unknown extensions are ignored, but "m" must fail the exchange.
function checkExtensions(extensions: readonly Attribute[]): void {
  for (const extension of extensions) {
    if (extension.name === 'm') throw new ScramFailure('malformed-request', 'extensions-not-supported');
    if (CORE_ATTRIBUTES.has(extension.name)) throw new ScramFailure('malformed-request', 'invalid-encoding');
  }
}

interface Attribute {
  name: string;
  value: string;
}

// attr-val = ALPHA "=" value; value = 1*value-char (no NUL or ",")
function parseAttributes(text: string): Attribute[] {
  return text.split(',').map((field) => {
    const match = /^([A-Za-z])=([^\0]+)$/.exec(field);
    if (match === null) throw new ScramFailure('malformed-request', 'invalid-encoding');
    return { name: match[1] ?? '', value: match[2] ?? '' };
  });
}

// saslname: "," and "=" travel as "=2C" and "=3D"; any other "=" is invalid (RFC 5802 section 5.1).
function unescapeSaslName(value: string): string {
  if (value === '' || /=(?!2C|3D)/.test(value)) throw new ScramFailure('malformed-request', 'invalid-username-encoding');
  return value.replace(/=2C|=3D/g, (escape) => (escape === '=2C' ? ',' : '='));
}

// A username that fails SASLprep cannot match a stored account, so the exchange ends
// with not-authorized and the session can accept another attempt.
function prepareUsername(username: string): string {
  try {
    return prepUsername(username);
  } catch (error) {
    if (error instanceof SaslPrepError) throw new ScramFailure('not-authorized', 'invalid-username-encoding');
    throw error;
  }
}

function decodeMessage(message: Buffer): string {
  try {
    return UTF8.decode(message);
  } catch {
    throw new ScramFailure('malformed-request', 'invalid-encoding');
  }
}

// Buffer.from(..., 'base64') skips invalid characters, so a value is accepted only
// when it is the canonical encoding of what it decodes to.
function decodeBase64(value: string): Buffer {
  const decoded = Buffer.from(value, 'base64');
  if (decoded.toString('base64') !== value) throw new ScramFailure('malformed-request', 'invalid-encoding');
  return decoded;
}
