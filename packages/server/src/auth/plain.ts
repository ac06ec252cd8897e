import { MIN_ITERATIONS, spendPasswordCheckTime } from './credentials.js';
import { SaslPrepError } from './errors.js';
import type { SaslFailureCondition, SaslMechanism, SaslStep } from './mechanisms.js';
import { prepUsername } from './saslprep.js';

/**
 * Result of a password check: 'unknown' when no account has that username,
 * 'unavailable' when the service that checks it (an external endpoint) cannot answer,
 * 'disabled' when the account is disabled and the password was not checked.
 */
export type PlainVerdict = 'ok' | 'wrong' | 'unknown' | 'unavailable' | 'disabled';

/** Options of one PLAIN exchange. */
export interface PlainServerOptions {
  /**
   * Checks a password for a SASLprepped username. The password is passed as the client
   * sent it, so a checker for legacy hashes can see it unchanged; verifyPassword from
   * credentials.ts applies SASLprep itself. A SaslPrepError it throws ends the
   * exchange with not-authorized, and other errors propagate.
   */
  verify: (username: string, password: string) => Promise<PlainVerdict>;
  /** PBKDF2 iterations spent on an unknown user so its timing matches a real account (default 4096). */
  unknownUserIterations?: number;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Server side of SASL PLAIN (RFC 4616) for one authentication exchange. */
export class PlainServer implements SaslMechanism {
  private state: 'initial' | 'awaiting-response' | 'done' = 'initial';

  constructor(private readonly options: PlainServerOptions) {}

  /** Starts the exchange with the client's initial response, or null when the client sent none. */
  async start(initialResponse: Buffer | null): Promise<SaslStep> {
    if (this.state !== 'initial') return this.fail('malformed-request', 'The exchange has already started.');
    if (initialResponse === null) {
      this.state = 'awaiting-response';
      return { kind: 'challenge', data: Buffer.alloc(0) };
    }
    return this.authenticate(initialResponse);
  }

  /** Processes the client's response to the empty challenge. */
  async next(response: Buffer): Promise<SaslStep> {
    if (this.state !== 'awaiting-response') return this.fail('malformed-request', 'The exchange has already finished.');
    return this.authenticate(response);
  }

  private async authenticate(message: Buffer): Promise<SaslStep> {
    this.state = 'done';
    const fields = parseMessage(message);
    if (fields === null) return this.fail('malformed-request', 'The PLAIN message must be authzid NUL authcid NUL password in UTF-8.');

    const [authzid, authcid, password] = fields;
    if (authcid === '') return this.fail('malformed-request', 'The authentication identity is empty.');
    if (password === '') return this.fail('not-authorized', 'The password is empty.');

    let username: string;
    try {
      username = prepUsername(authcid);
    } catch (error) {
      if (error instanceof SaslPrepError) return this.fail('not-authorized', 'The username is invalid under SASLprep (RFC 4013).');
      throw error;
    }

    const verdict = await this.check(username, password);
    if (verdict === 'unavailable') return this.fail('temporary-auth-failure', 'The password cannot be checked now; try again later.');
    if (verdict === 'disabled') return this.fail('account-disabled', 'This account is disabled.');
    if (verdict !== 'ok') {
      this.state = 'done';
      return { kind: 'failure', condition: 'not-authorized', username };
    }
    return { kind: 'success', data: Buffer.alloc(0), username, authzid: authzid === '' ? undefined : authzid };
  }

  private async check(username: string, password: string): Promise<PlainVerdict> {
    let verdict: PlainVerdict;
    try {
      verdict = await this.options.verify(username, password);
    } catch (error) {
      if (error instanceof SaslPrepError) return 'wrong';
      throw error;
    }

    if (verdict === 'unknown') await spendPasswordCheckTime(password, this.options.unknownUserIterations ?? MIN_ITERATIONS);
    return verdict;
  }

  private fail(condition: SaslFailureCondition, text?: string): SaslStep {
    this.state = 'done';
    return text === undefined ? { kind: 'failure', condition } : { kind: 'failure', condition, text };
  }
}

// message = [authzid] UTF8NUL authcid UTF8NUL passwd (RFC 4616 section 2). Invalid
// UTF-8 (such as a Latin-1 byte) is rejected, never replaced with U+FFFD.
function parseMessage(message: Buffer): [string, string, string] | null {
  let text: string;
  try {
    text = UTF8.decode(message);
  } catch {
    return null;
  }

  const fields = text.split('\0');
  if (fields.length !== 3) return null;
  const [authzid = '', authcid = '', password = ''] = fields;
  return [authzid, authcid, password];
}
